/**
 * Facilitators reach each other directly: the committee's members not connected yet are connected to by id (the peer
 * store's addresses, or a neighbour's signed record of them), at start and whenever the committee changes. On a
 * network that cannot connect on request (a simulator), peers are reached on first use instead.
 */
import { errorFields, type Logger } from '../log/logger.js'
import type { NodeNetwork } from './node-parts.js'

export class CommitteeLinks {
  readonly #network: NodeNetwork
  readonly #log: Logger
  #committeeKey = ''

  constructor(network: NodeNetwork, log: Logger) {
    this.#network = network
    this.#log = log
  }

  connect(facilitators: readonly string[]): void {
    const key = facilitators.join()
    if (key === this.#committeeKey) return
    this.#committeeKey = key
    const network = this.#network
    if (network.connect === undefined) return
    const neighbours = new Set(network.peers())
    for (const peer of facilitators) {
      if (peer === network.peerId || neighbours.has(peer)) continue
      network.connect(peer).catch((error: unknown) => this.#log.debug({ peer, ...errorFields(error) }, 'facilitator not reachable yet'))
    }
  }
}
