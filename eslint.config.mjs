import * as effectEslint from "@effect/eslint-plugin"
import tseslint from "typescript-eslint"

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/dist/**", "**/build/**", "**/*.mjs", "**/*.cjs"] },
  ...tseslint.configs.recommended,
  // The formatter, as the Effect monorepo runs it: dprint inside eslint, so `pnpm lint` checks the
  // layout and `pnpm format` (eslint --fix) writes it.
  ...effectEslint.configs.dprint,
  {
    rules: {
      "@effect/dprint": ["error", {
        config: {
          indentWidth: 2,
          lineWidth: 120,
          semiColons: "asi",
          quoteStyle: "alwaysDouble",
          trailingCommas: "never",
          operatorPosition: "maintain",
          "arrowFunction.useParentheses": "force"
        }
      }],
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-namespace": "off",
      "@typescript-eslint/no-empty-object-type": "off",
      "no-restricted-syntax": ["error", {
        selector: "MemberExpression[object.name='Math'][property.name='random']",
        message: "Use a CSPRNG (crypto.getRandomValues) for anything secret."
      }]
    }
  },
  {
    files: ["packages/core/src/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["node:*"], message: "@vedauth/core is platform-free." }] }],
      "no-console": "error"
    }
  },
  {
    // The engine is sans-I/O and Effect-free: bytes in, bytes out; the drivers live in core.
    files: ["packages/winauth/src/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [
          { group: ["node:*"], message: "@vedauth/winauth does no I/O and runs on every runtime." },
          { group: ["effect", "effect/*", "@effect/*"], message: "@vedauth/winauth is plain TypeScript: Effect belongs to @vedauth/core." },
          { group: ["@vedauth/*"], message: "@vedauth/winauth depends on no other vedauth package." }
        ]
      }],
      "no-restricted-globals": ["error",
        { name: "fetch", message: "No I/O in the engine." },
        { name: "process", message: "No environment in the engine." },
        { name: "setTimeout", message: "No timers in the engine: time is an input." },
        { name: "setInterval", message: "No timers in the engine: time is an input." }
      ],
      "no-console": "error"
    }
  }
)
