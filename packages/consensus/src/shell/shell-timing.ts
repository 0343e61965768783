/**
 * What the consensus shells share and take from their host: the part of the network they use and their timings
 * (their other types are in shell-types.ts). In a file of its own so that the shells and their helpers (round
 * driver, certificate range and following) depend on it rather than on each other.
 */
import type { Network } from '@constellation/gossip'

/** The part of the network the consensus uses. */
export type ConsensusNetwork = Pick<Network, 'peerId' | 'publish' | 'subscribe' | 'request' | 'handle' | 'limits' | 'peers'>

export interface SolarSystemTiming {
  /** How long a facilitator waits for N - t checkpoints before proposing what it holds (default 1,000 ms). */
  readonly proposalTimeoutMs: number
  /** Timeout of one frame or submission (default 5,000 ms). */
  readonly requestTimeoutMs: number
  /** Backoff of a failed frame: first retry, and the cap (defaults 50 and 2,000 ms). */
  readonly retryMinMs: number
  readonly retryMaxMs: number
  /** With no certificate for this long, ask peers for newer ones (default 5,000 ms). */
  readonly stallTimeoutMs: number
  /**
   * Round frames awaiting acknowledgement per peer (default 4). More hides link latency from the round's sequential
   * steps; fewer makes bigger frames, which is what a CPU-bound host on a fast link wants.
   */
  readonly framesInFlight: number
  /**
   * How long a member waits after applying a certificate before it checkpoints for the next round (default 0). The
   * round starts when N - t checkpoints arrive, so this paces the rounds: on a small, fast network rounds otherwise
   * follow each other as fast as the facilitators can agree, every member's chain fills with checkpoint blocks that
   * its counterparties must crawl and verify, and consensus takes the CPU transactions need. Finality then takes
   * about two rounds, so this trades latency for throughput.
   */
  readonly checkpointDelayMs: number
}

export const DEFAULT_TIMING: SolarSystemTiming = Object.freeze({
  proposalTimeoutMs: 1_000,
  requestTimeoutMs: 5_000,
  retryMinMs: 50,
  retryMaxMs: 2_000,
  stallTimeoutMs: 5_000,
  framesInFlight: 4,
  checkpointDelayMs: 0,
})

/** Timing of a level's rounds: as a solar system's, without the members' checkpoint pacing. */
export type LevelTiming = Omit<SolarSystemTiming, 'checkpointDelayMs'>

/** Above level 0 a facilitator waits less for its children: a child that certified nothing new has nothing to add. */
export const DEFAULT_LEVEL_TIMING: LevelTiming = Object.freeze({ ...DEFAULT_TIMING, proposalTimeoutMs: 500 })
