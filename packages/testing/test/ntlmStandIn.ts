/**
 * A stand-in for IIS in front of TPP whose NTLM is checked by a domain controller, not by us: each
 * connection's NTLMSSP messages go to its own `ntlm_auth --helper-protocol=squid-2.5-ntlmssp`
 * (Samba's helper, as squid runs it), which has the DC's winbindd verify the NTLMv2 response. A
 * connection the DC accepted (`AF user`) gets TPP's grant answer for `POST /vedauth/authorize/integrated`
 * with the identity the DC named; one it refused (`NA status`) gets 401 again. Loopback, a free port;
 * every wait on the helper and every line from it bounded.
 */
import { Effect } from "effect"
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { Socket } from "node:net"
import { createInterface } from "node:readline"

export interface Verdict {
  readonly connection: number
  /** The helper's answer to the AUTHENTICATE message: `AF CORP\alice` or `NA NT_STATUS_...`. */
  readonly answer: string
}

export interface StandIn {
  readonly url: string
  readonly verdicts: ReadonlyArray<Verdict>
}

export interface StandInOptions {
  readonly smbConf: string
  /** The environment under which ntlm_auth finds the DC's winbindd (nss_wrapper). */
  readonly env: NodeJS.ProcessEnv
}

const HELPER_TIMEOUT_MS = 10_000
const MAX_LINE = 64 * 1024
const MAX_BODY = 64 * 1024

interface Helper {
  readonly ask: (line: string) => Promise<string>
  readonly close: () => void
}

// One helper per connection: NTLM's state (the challenge) lives in it, as in IIS per connection.
const startHelper = (options: StandInOptions): Helper => {
  const child: ChildProcessWithoutNullStreams = spawn(
    "ntlm_auth",
    ["--helper-protocol=squid-2.5-ntlmssp", `--configfile=${options.smbConf}`],
    { env: options.env, stdio: ["pipe", "pipe", "pipe"] }
  )
  const waiting: Array<(line: string) => void> = []
  child.stderr.resume()
  child.stdin.on("error", () => {})
  child.on("error", () => waiting.splice(0).forEach((resolve) => resolve("BH helper failed to start")))
  child.on("exit", () => waiting.splice(0).forEach((resolve) => resolve("BH helper exited")))
  createInterface({ input: child.stdout, crlfDelay: Infinity }).on(
    "line",
    (line) => waiting.shift()?.(line.slice(0, MAX_LINE))
  )
  return {
    ask: (line) =>
      new Promise((resolve) => {
        const timer = setTimeout(() => resolve("BH no answer from ntlm_auth"), HELPER_TIMEOUT_MS)
        waiting.push((answer) => (clearTimeout(timer), resolve(answer)))
        child.stdin.write(`${line}\n`)
      }),
    close: () => void child.kill()
  }
}

interface ConnectionState {
  readonly id: number
  helper: Helper | undefined
  user: string | undefined
}

const readBody = (request: IncomingMessage) =>
  new Promise<string | undefined>((resolve) => {
    let body = ""
    request.on("data", (chunk) => {
      body += String(chunk)
      if (body.length > MAX_BODY) request.destroy()
    })
    request.on("end", () => resolve(body))
    request.on("close", () => resolve(undefined))
  })

const challenge = (response: ServerResponse, token?: string) => {
  response.writeHead(401, "Unauthorized", {
    "www-authenticate": token === undefined ? "NTLM" : `NTLM ${token}`,
    "content-length": "0"
  })
  response.end()
}

const grant = (response: ServerResponse, user: string, scope: string) => {
  const now = Math.floor(Date.now() / 1000)
  const token = () => Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64")
  const body = JSON.stringify({
    access_token: token(),
    refresh_token: token(),
    token_type: "Bearer",
    expires_in: 3600,
    expires: now + 3600,
    refresh_until: now + 86_400,
    scope,
    identity: `AD+${user}`
  })
  response.writeHead(200, "OK", { "content-type": "application/json", "content-length": Buffer.byteLength(body) })
  response.end(body)
}

// NEGOTIATE (type 1) -> `YR`, AUTHENTICATE (type 3) -> `KK`; the type is the 32-bit word at offset 8.
const helperRequest = (token: string) => {
  const bytes = Buffer.from(token, "base64")
  const type = bytes.length >= 12 && bytes.subarray(0, 8).toString("latin1") === "NTLMSSP\0" ? bytes.readUInt32LE(8) : 0
  return type === 1 ? "YR" : type === 3 ? "KK" : undefined
}

const handle = async (
  options: StandInOptions,
  state: ConnectionState,
  verdicts: Array<Verdict>,
  request: IncomingMessage,
  response: ServerResponse
) => {
  const body = await readBody(request)
  if (body === undefined) return
  const header = /^NTLM\s+(\S+)\s*$/i.exec(request.headers.authorization ?? "")
  if (header !== null) {
    const verb = helperRequest(header[1]!)
    if (verb === undefined) return challenge(response)
    state.helper ??= startHelper(options)
    const answer = await state.helper.ask(`${verb} ${header[1]}`)
    if (answer.startsWith("TT ")) return challenge(response, answer.slice(3))
    if (verb === "KK") verdicts.push({ connection: state.id, answer })
    // The challenge is spent either way: a new handshake starts with a new helper.
    state.helper.close()
    state.helper = undefined
    if (!answer.startsWith("AF ")) return challenge(response)
    state.user = answer.slice(3)
  }
  if (state.user === undefined) return challenge(response)
  if (request.method !== "POST" || request.url?.toLowerCase() !== "/vedauth/authorize/integrated") {
    response.writeHead(404, "Not Found", { "content-length": "0" })
    return response.end()
  }
  let scope = ""
  try {
    scope = String((JSON.parse(body) as { scope?: unknown }).scope ?? "")
  } catch {
    response.writeHead(400, "Bad Request", { "content-length": "0" })
    return response.end()
  }
  grant(response, state.user, scope)
}

/** Starts the stand-in on 127.0.0.1 for the scope; its connections and helpers end with it. */
export const ntlmStandIn = (options: StandInOptions) =>
  Effect.gen(function*() {
    const verdicts: Array<Verdict> = []
    const states = new WeakMap<Socket, ConnectionState>()
    let connections = 0
    const server = createServer((request, response) => {
      const socket = request.socket
      let state = states.get(socket)
      if (state === undefined) {
        const created: ConnectionState = { id: ++connections, helper: undefined, user: undefined }
        states.set(socket, created)
        socket.once("close", () => created.helper?.close())
        state = created
      }
      handle(options, state, verdicts, request, response).catch(() => response.destroy())
    })
    const port = yield* Effect.acquireRelease(
      Effect.async<number>((resume) => {
        server.listen(0, "127.0.0.1", () => {
          const address = server.address()
          resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0))
        })
      }),
      () =>
        Effect.async<void>((resume) => {
          server.closeAllConnections()
          server.close(() => resume(Effect.void))
        })
    )
    const standIn: StandIn = { url: `http://127.0.0.1:${port}`, verdicts }
    return standIn
  })
