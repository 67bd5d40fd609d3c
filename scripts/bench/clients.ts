/** The clients compared on one authorize: vedauth and its peers (curl, axios-ntlm, httpntlm). */
import { TokenStore } from "@vedauth/core"
import * as VedAuth from "@vedauth/core/VedAuth"
import { Effect, ManagedRuntime } from "effect"
import { execFile } from "node:child_process"
import { body, DOMAIN, PASSWORD, USER, vedauthLayer } from "./common.js"

declare const require: (name: string) => any

export type Authorize = () => Promise<void>

export const vedauthClient = (url: string) => {
  const layer = vedauthLayer(url, TokenStore.layerMemory)
  const runtime = ManagedRuntime.make(layer)
  const authorize: Authorize = () => runtime.runPromise(Effect.asVoid(VedAuth.authorize()))
  return { runtime, authorize }
}

export const curlClient = (url: string): Authorize => () =>
  new Promise((resolve, reject) => {
    execFile(
      "curl",
      [
        "--ntlm",
        "-u",
        `${DOMAIN}\\${USER}:${PASSWORD}`,
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-X",
        "POST",
        "-H",
        "content-type: application/json",
        "--data",
        body,
        `${url}/vedauth/authorize/integrated`
      ],
      { timeout: 20_000 },
      (error, stdout) => (error !== null
        ? reject(error)
        : stdout.trim() === "200"
        ? resolve()
        : reject(new Error(`HTTP ${stdout.trim()}`)))
    )
  })

export const axiosNtlmClient = (url: string): Authorize => {
  const { NtlmClient } = require("axios-ntlm")
  return async () => {
    // A client per call, as vedauth's transport opens a connection per handshake.
    const client = NtlmClient({ username: USER, password: PASSWORD, domain: DOMAIN, workstation: "BENCH" })
    // axios-ntlm does its handshake in an error interceptor: statuses must stay errors for it to run.
    const response = await client.post(`${url}/vedauth/authorize/integrated`, body, {
      headers: { "content-type": "application/json" }
    })
      .catch((error: { response?: { status: number } }) => {
        throw new Error(error.response === undefined ? String(error) : `HTTP ${error.response.status}`)
      })
    if (response.status !== 200) throw new Error(`HTTP ${response.status}`)
  }
}

export const httpntlmClient = (url: string): Authorize => {
  const httpntlm = require("httpntlm")
  return () =>
    new Promise((resolve, reject) => {
      httpntlm.post(
        {
          url: `${url}/vedauth/authorize/integrated`,
          username: USER,
          password: PASSWORD,
          domain: DOMAIN,
          workstation: "BENCH",
          body,
          headers: { "content-type": "application/json" }
        },
        (error: unknown, response: { statusCode: number }) =>
          error
            ? reject(error)
            : response.statusCode === 200
            ? resolve()
            : reject(new Error(`HTTP ${response.statusCode}`))
      )
    })
}
