/**
 * One of the processes that share a token store file: asks for the access token when told to, and
 * reports the first characters of the token it got (or its failure).
 */
import * as VedAuth from "@vedauth/core/VedAuth"
import { Effect, Redacted } from "effect"
import { failureText, fileStoreLayer, vedauthLayer } from "./common.js"

const [, , url, path] = process.argv

process.on("message", () => {
  Effect.runPromise(Effect.provide(VedAuth.accessToken, vedauthLayer(url!, fileStoreLayer(path!)))).then(
    (token) => process.send!({ ok: true, token: Redacted.value(token).slice(0, 6) }),
    (error: unknown) => process.send!({ ok: false, error: failureText(error) })
  )
})
process.send!({ ready: true })
