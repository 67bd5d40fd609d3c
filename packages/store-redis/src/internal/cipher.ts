/**
 * Optional encryption of stored grants: AES-256-GCM through WebCrypto, a fresh 96-bit nonce per
 * write, and the record's key as additional data so that a ciphertext moved to another key does
 * not decrypt. The stored text is `enc1:` + base64(nonce || ciphertext+tag); plain records are
 * `json:` + the grant's JSON, so a reader always knows which it has.
 *
 * @internal
 */
import { Effect, Either, Encoding, Redacted } from "effect"

/** @internal */
export interface Cipher {
  readonly seal: (recordKey: string, plain: string) => Effect.Effect<string, string>
  readonly open: (recordKey: string, stored: string) => Effect.Effect<string, string>
}

const plainPrefix = "json:"
const sealedPrefix = "enc1:"
const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** A store without a key: records are plain JSON, and encrypted records are refused, not guessed at. */
export const plain: Cipher = {
  seal: (_recordKey, text) => Effect.succeed(plainPrefix + text),
  open: (_recordKey, stored) =>
    stored.startsWith(plainPrefix)
      ? Effect.succeed(stored.slice(plainPrefix.length))
      : Effect.fail(
        stored.startsWith(sealedPrefix)
          ? "the record is encrypted and no VEDAUTH_STORE_KEY is configured"
          : "the record is not in a format this store writes"
      )
}

/**
 * The cipher for a key given as base64 of 32 random bytes. Fails (with a message naming no secret)
 * when the text is not base64 of exactly 32 bytes.
 *
 * @internal
 */
export const aesGcm = (keyBase64: Redacted.Redacted<string>): Effect.Effect<Cipher, string> =>
  Effect.gen(function*() {
    const raw = Encoding.decodeBase64(Redacted.value(keyBase64).trim())
    if (Either.isLeft(raw) || raw.right.length !== 32) {
      return yield* Effect.fail("the store key must be 32 random bytes in base64 (e.g. `openssl rand -base64 32`)")
    }
    const key = yield* Effect.tryPromise({
      try: () =>
        crypto.subtle.importKey("raw", new Uint8Array(raw.right), { name: "AES-GCM" }, false, ["encrypt", "decrypt"]),
      catch: () => "the store key could not be imported"
    })
    raw.right.fill(0)
    const seal = (recordKey: string, text: string) =>
      Effect.tryPromise({
        try: async () => {
          const nonce = crypto.getRandomValues(new Uint8Array(12))
          const sealed = new Uint8Array(
            await crypto.subtle.encrypt(
              { name: "AES-GCM", iv: nonce, additionalData: encoder.encode(recordKey) },
              key,
              encoder.encode(text)
            )
          )
          const out = new Uint8Array(nonce.length + sealed.length)
          out.set(nonce)
          out.set(sealed, nonce.length)
          return sealedPrefix + Encoding.encodeBase64(out)
        },
        catch: () => "the grant could not be encrypted"
      })
    const open = (recordKey: string, stored: string) => {
      if (!stored.startsWith(sealedPrefix)) {
        return Effect.fail(
          "the record is not encrypted but a store key is configured: refusing a record anyone could have written"
        )
      }
      const bytes = Encoding.decodeBase64(stored.slice(sealedPrefix.length))
      if (Either.isLeft(bytes) || bytes.right.length < 12 + 16) return Effect.fail("the encrypted record is malformed")
      const data = bytes.right
      return Effect.tryPromise({
        try: async () =>
          decoder.decode(
            await crypto.subtle.decrypt(
              { name: "AES-GCM", iv: data.slice(0, 12), additionalData: encoder.encode(recordKey) },
              key,
              data.slice(12)
            )
          ),
        catch: () => "the encrypted record does not open with the configured key (another key, or tampered with)"
      })
    }
    return { seal, open }
  })
