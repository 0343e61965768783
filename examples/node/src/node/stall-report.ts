/**
 * What a node knows when its consensus stalls, for the warning it logs: the round it waits to see certified, the
 * committee, the facilitators it is not connected to, and — when it facilitates that round — the phase the round
 * is in, the facilitators whose proposal has not reached it, and those whose signature share it lacks.
 */
import type { SolarSystemNode } from '@constellation/consensus'

export interface StallReport {
  /** The round waited for: the one after the last certified round. */
  readonly waitingForRound: number
  readonly facilitators: readonly string[]
  /** Facilitators this node has no connection to (itself excepted). */
  readonly notConnected: readonly string[]
  /** Present when this node facilitates the round it waits for. */
  readonly facilitating?: {
    readonly phase: string
    /** Facilitators whose proposal (reliable broadcast's first value) has not reached this node. */
    readonly noProposalFrom: readonly string[]
    /** Facilitators whose share of the certificate's signature this node lacks (once it signs). */
    readonly noShareFrom: readonly string[]
  }
}

export function stallReport(consensus: Pick<SolarSystemNode, 'state' | 'facilitatorRound'>, self: string, connected: readonly string[]): StallReport {
  const state = consensus.state
  const facilitators = state.committee.facilitators
  const peers = new Set(connected)
  const others = facilitators.filter((peer) => peer !== self)
  const round = consensus.facilitatorRound
  const waitingForRound = state.round + 1
  return {
    waitingForRound,
    facilitators,
    notConnected: others.filter((peer) => !peers.has(peer)),
    ...(round !== undefined && round.round === waitingForRound
      ? {
          facilitating: {
            phase: round.phase,
            noProposalFrom: others.filter((peer) => {
              const index = round.acs.committee.indexOf.get(peer)
              return index !== undefined && round.acs.broadcasts[index]?.init === undefined
            }),
            noShareFrom: round.phase === 'signing' ? others.filter((peer) => !round.shares.has(peer)) : [],
          },
        }
      : {}),
  }
}
