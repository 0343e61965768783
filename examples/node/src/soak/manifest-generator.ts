/**
 * Random soak manifests from a seed: the same seed and options give the same manifest, byte for byte, so a run that
 * finds something is replayed by its seed. The perturbations are spread over the run (one per slot of equal length,
 * at a random time in the first half of its slot, so each has time to heal before the next), after a quiet start and
 * before a quiet end; kinds and nodes are drawn uniformly.
 */
import { createRandom, type Random } from '@constellation/gossip'
import { decodeManifest, MAX_OUTAGE_MS, type Perturbation, type PerturbationKind, type SoakLoad, type SoakManifest } from './soak-manifest.js'

export const PERTURBATION_KINDS: readonly PerturbationKind[] = ['kill', 'restart', 'pause', 'disconnect', 'restart-facilitators']

export interface ManifestOptions {
  readonly seed: number
  readonly durationMs: number
  readonly nodes?: number
  readonly facilitators?: number
  /** Default 3 a minute (60 in a 20-minute run). */
  readonly perturbationsPerMinute?: number
  /** The kinds drawn from (default: all). */
  readonly kinds?: readonly PerturbationKind[]
  readonly load?: SoakLoad
  readonly settleMs?: number
}

export const GENERATED_DEFAULTS = {
  nodes: 4,
  facilitators: 4,
  perturbationsPerMinute: 3,
  /** Light: the suite checks survival, not throughput, and shares two cores with the nodes. */
  load: { kind: 'rate', transfersPerSecond: 4 } as SoakLoad,
  settleMs: 120_000,
  balance: 1_000_000_000,
}
/** No perturbation in the first and last stretch of a run: the network starts, and the last one heals in the load. */
const QUIET_START_MS = 5_000
const QUIET_END_MS = 10_000
/**
 * Kills keep a node down up to this long; pauses and disconnects last 1 s to this long (below the 30 s a node reports
 * a stall after).
 */
const MAX_DOWN_MS = 5_000
const MAX_PAUSE_MS = 10_000
const MAX_DISCONNECT_MS = 10_000

export function generateManifest(options: ManifestOptions): SoakManifest {
  const random = createRandom(options.seed)
  const nodes = options.nodes ?? GENERATED_DEFAULTS.nodes
  const facilitators = options.facilitators ?? Math.min(nodes, GENERATED_DEFAULTS.facilitators)
  const kinds = options.kinds ?? PERTURBATION_KINDS
  if (kinds.length === 0) throw new RangeError('at least one kind of perturbation is needed')
  const perMinute = options.perturbationsPerMinute ?? GENERATED_DEFAULTS.perturbationsPerMinute
  const window = options.durationMs - QUIET_START_MS - QUIET_END_MS
  const count = window <= 0 ? 0 : Math.round((options.durationMs / 60_000) * perMinute)
  const slot = count === 0 ? 0 : window / count
  const perturbations: Perturbation[] = []
  for (let i = 0; i < count; i++) {
    const atMs = Math.round(QUIET_START_MS + i * slot + random.next() * (slot / 2))
    perturbations.push(perturbationAt(atMs, kinds[random.int(kinds.length)] as PerturbationKind, random, nodes))
  }
  // Through the codec: a generated manifest is held to the same rules as a written one.
  return decodeManifest(
    {
      version: 1,
      seed: options.seed,
      network: { nodes, facilitators, balance: GENERATED_DEFAULTS.balance },
      load: options.load ?? GENERATED_DEFAULTS.load,
      durationMs: options.durationMs,
      settleMs: options.settleMs ?? GENERATED_DEFAULTS.settleMs,
      perturbations,
    },
    `the manifest generated from seed ${options.seed}`,
  )
}

function perturbationAt(atMs: number, kind: PerturbationKind, random: Random, nodes: number): Perturbation {
  const node = random.int(nodes)
  switch (kind) {
    case 'kill':
      return { atMs, kind, node, downMs: Math.min(MAX_OUTAGE_MS, random.int(MAX_DOWN_MS + 1)) }
    case 'restart':
      return { atMs, kind, node }
    case 'pause':
      return { atMs, kind, node, forMs: 1_000 + random.int(MAX_PAUSE_MS - 1_000 + 1) }
    case 'disconnect':
      return { atMs, kind, node, forMs: 1_000 + random.int(MAX_DISCONNECT_MS - 1_000 + 1) }
    case 'restart-facilitators':
      return { atMs, kind }
  }
}
