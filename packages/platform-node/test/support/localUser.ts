/**
 * A throwaway second local user for the tests that play another user on the machine (tests run as
 * root). Its name is unique per call, so parallel and repeated runs never collide; it is removed
 * with the scope. useradd and userdel lock /etc/passwd, so a run that finds it locked tries again.
 */
import { Effect, Schedule } from "effect"
import { execFile } from "node:child_process"
import { randomBytes } from "node:crypto"

export interface LocalUser {
  readonly name: string
  readonly uid: number
  readonly gid: number
  /** Runs a shell command as this user, in `cwd`; fails with its stderr if it exits non-zero. */
  readonly sh: (command: string, cwd: string) => Effect.Effect<string, Error>
}

const run = (file: string, args: ReadonlyArray<string>, options: { uid?: number; gid?: number; cwd?: string } = {}) =>
  Effect.async<string, Error>((resume) => {
    execFile(
      file,
      [...args],
      options,
      (error, stdout, stderr) =>
        resume(
          error === null
            ? Effect.succeed(stdout)
            : Effect.fail(new Error(`${file} ${args.join(" ")}: ${stderr || error.message}`))
        )
    )
  })

// Exit code 10 / "cannot lock": another useradd or userdel holds /etc/passwd for a moment.
const retried = <A>(effect: Effect.Effect<A, Error>) =>
  Effect.retry(effect, {
    schedule: Schedule.spaced("100 millis"),
    times: 50,
    while: (error) => /lock/i.test(error.message)
  })

export const localUser: Effect.Effect<LocalUser, Error, import("effect").Scope.Scope> = Effect.acquireRelease(
  Effect.gen(function*() {
    const name = `vedauth-t${randomBytes(5).toString("hex")}`
    yield* retried(
      run("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group", name])
    )
    const uid = Number((yield* run("id", ["-u", name])).trim())
    const gid = Number((yield* run("id", ["-g", name])).trim())
    return { name, uid, gid, sh: (command: string, cwd: string) => run("/bin/sh", ["-c", command], { uid, gid, cwd }) }
  }),
  (user) => Effect.orDie(retried(run("userdel", [user.name])))
)
