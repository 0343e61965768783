/**
 * `<dataDir>/node.json`: what a running node tells scripts about itself (written by `createNode` once it is up,
 * removed at a clean close) — its id, pid, p2p addresses and, from the API module, the API's URL. `start` prints the
 * same facts as its ready line; `status --data-dir` reads the file to find the API. A node killed with SIGKILL leaves
 * the file behind, so a client checks it against a live process first (`readLiveRuntimeFile`).
 */
import { existsSync } from 'node:fs'
import * as t from 'io-ts'
import { decodeJsonFile, Hex32Codec, SafeNonNegativeInteger } from '../config/codecs.js'
import { dataPaths } from '../config/node-config.js'
import { NodeError, NodeErrorCode } from '../errors.js'

export const RuntimeInfoCodec = t.intersection([
  t.type({ id: Hex32Codec, pid: SafeNonNegativeInteger, listen: t.array(t.string) }),
  t.partial({ api: t.string }),
])
export type RuntimeInfo = t.TypeOf<typeof RuntimeInfoCodec>

const MAX_RUNTIME_BYTES = 64 * 1024

export async function readRuntimeFile(dataDir: string): Promise<RuntimeInfo> {
  const path = dataPaths(dataDir).runtime
  if (!existsSync(path)) throw new NodeError(NodeErrorCode.UNAVAILABLE, `no node is running in ${dataDir} (no node.json)`, { dataDir })
  return decodeJsonFile(path, RuntimeInfoCodec, MAX_RUNTIME_BYTES, NodeErrorCode.UNAVAILABLE, 'runtime file')
}

/** Whether process `pid` exists (EPERM: it does, as another user's). */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * The node.json of a node that is running: one whose process is gone (killed with SIGKILL, crashed) is refused with
 * UNAVAILABLE rather than handed on, since its URL may belong to another program by now. (A pid reused by another
 * program passes this check; the caller probes the API too, see cli/api-options.ts.)
 */
export async function readLiveRuntimeFile(dataDir: string): Promise<RuntimeInfo> {
  const runtime = await readRuntimeFile(dataDir)
  if (!processIsAlive(runtime.pid)) {
    throw new NodeError(
      NodeErrorCode.UNAVAILABLE,
      `no node is running in ${dataDir}: its node.json names process ${runtime.pid}, which has exited without removing it (killed or crashed); start the node again`,
      { dataDir, pid: runtime.pid },
    )
  }
  return runtime
}

/** The ready line `start` prints on stdout: one JSON object, for scripts and the devnet. */
export function readyLine(info: RuntimeInfo): string {
  return `${JSON.stringify({ event: 'ready', id: info.id, api: info.api ?? null, listen: info.listen, pid: info.pid })}\n`
}
