/** Runs test/kerberos/gss_peer.py (python3-gssapi on MIT Kerberos) as an independent acceptor or initiator. */
import { spawn } from "node:child_process"
import * as Path from "node:path"
import * as Readline from "node:readline"

const script = Path.join(import.meta.dirname, "gss_peer.py")

export interface PeerAnswer {
  readonly complete?: boolean
  readonly initiator?: string
  readonly token?: string | null
  readonly error?: string
}

const start = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv) => {
  const child = spawn("/usr/bin/python3", [script, ...args], { env, stdio: ["pipe", "pipe", "pipe"] })
  let stderr = ""
  child.stderr.on("data", (chunk) => (stderr += String(chunk)))
  const lines = Readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const next = async (): Promise<PeerAnswer> => {
    const line = await lines.next()
    if (line.done === true) throw new Error(`gss_peer.py ended without an answer: ${stderr}`)
    return JSON.parse(line.value) as PeerAnswer
  }
  return { child, next }
}

const bindingArgs = (
  bindings: Uint8Array | undefined
) => (bindings === undefined ? [] : ["--bindings", Buffer.from(bindings).toString("hex")])

/** MIT accepts `token` with the keytab in `env.KRB5_KTNAME`. */
export const mitAccept = async (
  token: Uint8Array,
  env: NodeJS.ProcessEnv,
  bindings?: Uint8Array
): Promise<PeerAnswer> => {
  const peer = start(["accept", ...bindingArgs(bindings)], env)
  peer.child.stdin.end(`${Buffer.from(token).toString("base64")}\n`)
  return peer.next()
}

/** MIT initiates to `service@host` from the ccache in `env.KRB5CCNAME`; `answer` turns its token into ours. */
export const mitInitiate = async (
  service: string,
  env: NodeJS.ProcessEnv,
  answer: (token: Uint8Array) => Promise<Uint8Array>,
  options: { readonly bindings?: Uint8Array; readonly raw?: boolean } = {}
): Promise<{ readonly first: PeerAnswer; readonly last: PeerAnswer | undefined }> => {
  const peer = start([
    "initiate",
    service,
    ...bindingArgs(options.bindings),
    ...(options.raw === true ? ["--raw"] : [])
  ], env)
  const first = await peer.next()
  if (first.token === undefined || first.token === null) {
    peer.child.stdin.end()
    return { first, last: undefined }
  }
  let reply: Uint8Array
  try {
    reply = await answer(new Uint8Array(Buffer.from(first.token, "base64")))
  } catch (error) {
    peer.child.kill()
    throw error
  }
  peer.child.stdin.end(`${Buffer.from(reply).toString("base64")}\n`)
  return { first, last: await peer.next() }
}
