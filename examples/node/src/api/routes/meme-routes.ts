/**
 * Proof of Meme as this node sees it: every member's meme with its score and bracket, the committee elected for the
 * next round with the latest election record (pools, seats, sort keys: enough to re-check it), and the election
 * history read from the certificates (each certificate names the facilitators of the round after it).
 */
import { toHex } from '@constellation/crypto'
import { boundedInteger, strictQuery } from '../request-input.js'
import type { Route } from '../router.js'
import { memeViews } from '../views/meme-view.js'

/** Most past elections one answer lists. */
export const MAX_ELECTIONS_LISTED = 100

const MemesQuery = { elections: boundedInteger(0, MAX_ELECTIONS_LISTED, 'Elections') }

export function memeRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/memes',
      query: MemesQuery,
      handler({ node, query }) {
        const { elections = 20 } = strictQuery(MemesQuery, query)
        const state = node.consensus.state
        const { history } = node.consensus
        const past = []
        for (let round = history.round; round >= 1 && past.length < elections; round--) {
          const certificate = history.certificate(round)
          if (certificate !== undefined) past.push({ round, servesRound: round + 1, facilitators: [...certificate.result.nextFacilitators] })
        }
        return {
          status: 200,
          body: {
            round: state.round,
            resultHash: toHex(state.resultHash),
            committee: {
              servesRound: state.round + 1,
              facilitators: state.committee.facilitators,
              faultsTolerated: state.committee.faults,
              quorum: state.committee.quorum,
            },
            election: state.election ?? null,
            elections: past,
            memes: memeViews(state, node.rules),
          },
        }
      },
    },
  ]
}
