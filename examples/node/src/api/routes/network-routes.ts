/**
 * Who this node is connected to and which solar systems it belongs to. Solar systems are an array because the
 * hierarchy will add the star clusters and galaxies above the node's own; today a node runs exactly one.
 */
import { scoreOf } from '@constellation/consensus'
import type { Route } from '../router.js'

export function networkRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/peers',
      handler({ node }) {
        const state = node.consensus.state
        const facilitators = new Set(state.committee.facilitators)
        const peers = node.network.peers().map((id) => {
          const signed = node.network.advertOf(id)
          return {
            id,
            member: state.members.has(id),
            facilitator: facilitators.has(id),
            score: scoreOf(state, id),
            advert: signed === undefined ? null : { issuedAt: signed.issuedAt, ...signed.advert },
          }
        })
        return { status: 200, body: { self: node.id, listen: node.network.listenAddresses(), peers } }
      },
    },
    {
      method: 'GET',
      path: '/v1/solar-systems',
      handler({ node }) {
        const { consensus } = node
        const state = consensus.state
        const { genesis } = consensus.history
        const solarSystem = {
          level: genesis.level,
          group: genesis.group,
          round: state.round,
          members: [...state.members].sort(),
          facilitators: state.committee.facilitators,
          faultsTolerated: state.committee.faults,
          quorum: state.committee.quorum,
          /** Whether this node facilitates the round under way. */
          facilitating: consensus.facilitating(),
        }
        return { status: 200, body: { solarSystems: [solarSystem] } }
      },
    },
  ]
}
