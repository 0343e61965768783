/**
 * What a node's `Network` has carried: messages and application bytes sent and received, by kind, since the
 * network was created. Read with `network.traffic()`, which hands out a frozen snapshot.
 *
 * Application bytes are what the network hands to its transport and reads back from it: on `Libp2pNetwork` the
 * request/response frames written to and read from libp2p streams (length prefix and header included) and the
 * Gossipsub message payloads (our envelope: topic, separator, data) sent to or received from each neighbour —
 * before Noise encryption and Yamux framing, and without Gossipsub's control traffic; on `SimNetwork` the sizes the
 * simulator charges its links for gossip, requests and responses (not its anti-entropy digests).
 */

export type NetworkTrafficKind = 'request' | 'response' | 'gossip'

export const NETWORK_TRAFFIC_KINDS: readonly NetworkTrafficKind[] = Object.freeze(['request', 'response', 'gossip'])

export interface TrafficTally {
  readonly messages: number
  readonly bytes: number
}

/**
 * `sent.request`: requests (and cancels) this node sent, `received.request`: requests it was sent; `response`
 * likewise for answers (errors included); `gossip`: each copy of a gossip message to or from one neighbour, our own
 * publishes and relays alike.
 */
export interface NetworkTraffic {
  readonly sent: Readonly<Record<NetworkTrafficKind, TrafficTally>>
  readonly received: Readonly<Record<NetworkTrafficKind, TrafficTally>>
}

type MutableTally = { messages: number; bytes: number }
type Tallies = Record<NetworkTrafficKind, MutableTally>

const emptyTallies = (): Tallies => ({ request: { messages: 0, bytes: 0 }, response: { messages: 0, bytes: 0 }, gossip: { messages: 0, bytes: 0 } })

const frozenTallies = (tallies: Tallies): Readonly<Record<NetworkTrafficKind, TrafficTally>> =>
  Object.freeze({
    request: Object.freeze({ ...tallies.request }),
    response: Object.freeze({ ...tallies.response }),
    gossip: Object.freeze({ ...tallies.gossip }),
  })

/** The counters behind `traffic()`: plain additions, cheap enough for every frame. */
export class TrafficCounter {
  readonly #sent = emptyTallies()
  readonly #received = emptyTallies()

  /** `messages` messages of `kind`, `bytes` in all, handed to the transport. */
  sent(kind: NetworkTrafficKind, bytes: number, messages = 1): void {
    const tally = this.#sent[kind]
    tally.messages += messages
    tally.bytes += bytes
  }

  /** Bytes read from the transport, and how many whole messages of `kind` they completed (0 for a partial read). */
  received(kind: NetworkTrafficKind, bytes: number, messages = 1): void {
    const tally = this.#received[kind]
    tally.messages += messages
    tally.bytes += bytes
  }

  snapshot(): NetworkTraffic {
    return Object.freeze({ sent: frozenTallies(this.#sent), received: frozenTallies(this.#received) })
  }
}

/** Bytes of every kind in one direction of `traffic`. */
export function trafficBytes(traffic: NetworkTraffic, direction: 'sent' | 'received'): number {
  const tallies = traffic[direction]
  return tallies.request.bytes + tallies.response.bytes + tallies.gossip.bytes
}
