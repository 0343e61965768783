/**
 * A soak manifest: the local network a perturbation run starts (nodes, facilitators, opening balances), the load it
 * offers, how long, and the perturbations it applies on schedule, as JSON. The codec is the one definition of the
 * shape; `decodeManifest` adds what a codec of single fields cannot say (a node index below the node count, a time
 * inside the run) and refuses fields it does not know, so a misspelt `"perturbation"` is an error, not a calm run.
 *
 *   {
 *     "version": 1, "seed": 7,
 *     "network": { "nodes": 4, "facilitators": 4, "balance": 1000000 },
 *     "load": { "kind": "rate", "transfersPerSecond": 4 },
 *     "durationMs": 40000, "settleMs": 60000,
 *     "perturbations": [
 *       { "atMs": 8000, "kind": "kill", "node": 2, "downMs": 1000 },
 *       { "atMs": 20000, "kind": "pause", "node": 1, "forMs": 4000 },
 *       { "atMs": 30000, "kind": "disconnect", "node": 3, "forMs": 4000 }
 *     ]
 *   }
 *
 * Perturbations, each at `atMs` after the load starts, one at a time in that order (one still under way delays the
 * next; the report says by how much):
 *   kill                  SIGKILL, `downMs` down, then started again on the same data dir
 *   restart               SIGTERM (a clean stop), then started again on the same data dir
 *   pause                 SIGSTOP for `forMs`, then SIGCONT
 *   disconnect            the node's p2p network cut for `forMs` (every connection from or to it reset, new ones
 *                         refused), then restored; the process runs on and its API answers
 *   restart-facilitators  every facilitator of the current committee stopped (SIGTERM) at once, then all started
 */
import { readFile, stat } from 'node:fs/promises'
import { isLeft } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { describeErrors, unknownFields } from '../config/codecs.js'
import { SoakError, SoakErrorCode } from './soak-error.js'

/** Largest manifest file read (10,000 perturbations fit with room to spare). */
export const MAX_MANIFEST_BYTES = 1 << 20
export const MAX_NODES = 16
export const MAX_PERTURBATIONS = 10_000
/** A day: the longest run, and the longest any one wait in a manifest may be. */
export const MAX_DURATION_MS = 86_400_000
/** Longest a node is kept down, paused or disconnected by one perturbation. */
export const MAX_OUTAGE_MS = 600_000

const bounded = (name: string, min: number, max: number, integer = true) =>
  t.refinement(t.number, (n) => (integer ? Number.isSafeInteger(n) : Number.isFinite(n)) && n >= min && n <= max, `${name} (${min} to ${max})`)

const Milliseconds = bounded('Milliseconds', 0, MAX_DURATION_MS)
const NodeIndex = bounded('NodeIndex', 0, MAX_NODES - 1)
const OutageMs = bounded('OutageMs', 1, MAX_OUTAGE_MS)

export const KillCodec = t.exact(
  t.intersection([t.type({ atMs: Milliseconds, kind: t.literal('kill'), node: NodeIndex }), t.partial({ downMs: bounded('DownMs', 0, MAX_OUTAGE_MS) })]),
)
export const RestartCodec = t.exact(t.type({ atMs: Milliseconds, kind: t.literal('restart'), node: NodeIndex }))
export const PauseCodec = t.exact(t.type({ atMs: Milliseconds, kind: t.literal('pause'), node: NodeIndex, forMs: OutageMs }))
export const DisconnectCodec = t.exact(t.type({ atMs: Milliseconds, kind: t.literal('disconnect'), node: NodeIndex, forMs: OutageMs }))
export const RestartFacilitatorsCodec = t.exact(t.type({ atMs: Milliseconds, kind: t.literal('restart-facilitators') }))
export const PerturbationCodec = t.union([KillCodec, RestartCodec, PauseCodec, DisconnectCodec, RestartFacilitatorsCodec])
export type Perturbation = t.TypeOf<typeof PerturbationCodec>
export type PerturbationKind = Perturbation['kind']

export const SoakLoadCodec = t.union([
  /** Open loop: transfers started on a schedule, whatever the answers. */
  t.exact(t.type({ kind: t.literal('rate'), transfersPerSecond: bounded('TransfersPerSecond', 0.1, 1_000, false) })),
  /** Closed loop: this many transfers outstanding at once, each sent when the last was answered. */
  t.exact(t.type({ kind: t.literal('closed'), concurrency: bounded('Concurrency', 1, 256) })),
])
export type SoakLoad = t.TypeOf<typeof SoakLoadCodec>

export const SoakManifestCodec = t.exact(
  t.intersection([
    t.type({
      version: t.literal(1),
      /** Seeds the load's choice of pairs (and names the run). */
      seed: bounded('Seed', 0, 2 ** 32 - 1),
      network: t.exact(
        t.type({ nodes: bounded('Nodes', 2, MAX_NODES), facilitators: bounded('Facilitators', 1, MAX_NODES), balance: bounded('Balance', 1, 1e15) }),
      ),
      load: SoakLoadCodec,
      /** How long the load runs; every perturbation starts inside it. */
      durationMs: bounded('DurationMs', 1_000, MAX_DURATION_MS),
      /** After the load, the longest wait for the network to settle (every node caught up, every transfer resolved). */
      settleMs: bounded('SettleMs', 1_000, MAX_DURATION_MS),
      perturbations: t.refinement(t.array(PerturbationCodec), (list) => list.length <= MAX_PERTURBATIONS, `Perturbations (at most ${MAX_PERTURBATIONS})`),
    }),
    t.partial({
      /** A node is caught up when its latest round is at most this many behind the highest (default 2). */
      catchUpRounds: bounded('CatchUpRounds', 0, 1_000),
    }),
  ]),
)
export type SoakManifest = t.TypeOf<typeof SoakManifestCodec>

export const DEFAULT_CATCH_UP_ROUNDS = 2

/** Checks a manifest given as a JS value; MANIFEST_INVALID with the first problem found. */
export function decodeManifest(value: unknown, what = 'the manifest'): SoakManifest {
  const decoded = SoakManifestCodec.decode(value)
  if (isLeft(decoded)) throw new SoakError(SoakErrorCode.MANIFEST_INVALID, `${what}: ${describeErrors(decoded.left)}`)
  const manifest = decoded.right
  const unknown = unknownFields(value, manifest)
  if (unknown.length > 0) throw new SoakError(SoakErrorCode.MANIFEST_INVALID, `${what}: unknown field ${unknown.join(', ')}`, { fields: unknown })
  const { nodes, facilitators } = manifest.network
  if (facilitators > nodes)
    throw new SoakError(SoakErrorCode.MANIFEST_INVALID, `${what}: network.facilitators (${facilitators}) is more than network.nodes (${nodes})`)
  manifest.perturbations.forEach((perturbation, i) => {
    if (perturbation.atMs > manifest.durationMs) {
      throw new SoakError(
        SoakErrorCode.MANIFEST_INVALID,
        `${what}: perturbations.${i}.atMs (${perturbation.atMs}) is after the load ends (durationMs ${manifest.durationMs})`,
      )
    }
    if ('node' in perturbation && perturbation.node >= nodes) {
      throw new SoakError(
        SoakErrorCode.MANIFEST_INVALID,
        `${what}: perturbations.${i}.node (${perturbation.node}) is not a node of a ${nodes}-node network (0 to ${nodes - 1})`,
      )
    }
  })
  return manifest
}

/** Parses and checks a manifest's JSON text. */
export function parseManifest(text: string, what = 'the manifest'): SoakManifest {
  let value: unknown
  try {
    value = JSON.parse(text) as unknown
  } catch (error) {
    throw new SoakError(SoakErrorCode.MANIFEST_NOT_JSON, `${what} is not JSON: ${(error as Error).message}`)
  }
  return decodeManifest(value, what)
}

/** Reads, parses and checks a manifest file (at most `MAX_MANIFEST_BYTES`). */
export async function readManifest(path: string): Promise<SoakManifest> {
  let size: number
  try {
    size = (await stat(path)).size
  } catch (error) {
    throw new SoakError(
      SoakErrorCode.MANIFEST_UNREADABLE,
      `manifest ${path} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    )
  }
  if (size > MAX_MANIFEST_BYTES)
    throw new SoakError(SoakErrorCode.MANIFEST_UNREADABLE, `manifest ${path} is ${size} bytes, more than the ${MAX_MANIFEST_BYTES} allowed`)
  return parseManifest(await readFile(path, 'utf8'), `manifest ${path}`)
}

/** The perturbations in the order they run (by `atMs`; equal times keep the manifest's order). */
export function schedule(manifest: SoakManifest): readonly Perturbation[] {
  return manifest.perturbations
    .map((perturbation, i) => ({ perturbation, i }))
    .sort((a, b) => a.perturbation.atMs - b.perturbation.atMs || a.i - b.i)
    .map(({ perturbation }) => perturbation)
}

/** One line for a perturbation: `kill -9 node-2 (down 1 s)`. */
export function describePerturbation(perturbation: Perturbation): string {
  switch (perturbation.kind) {
    case 'kill':
      return `kill -9 node-${perturbation.node}${perturbation.downMs === undefined || perturbation.downMs === 0 ? '' : ` (down ${perturbation.downMs / 1000} s)`}`
    case 'restart':
      return `restart node-${perturbation.node}`
    case 'pause':
      return `pause node-${perturbation.node} for ${perturbation.forMs / 1000} s`
    case 'disconnect':
      return `disconnect node-${perturbation.node} for ${perturbation.forMs / 1000} s`
    case 'restart-facilitators':
      return 'restart every facilitator'
  }
}
