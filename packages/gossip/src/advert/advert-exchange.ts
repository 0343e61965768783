/**
 * Wires an `AdvertBook` to a network through the network's own public operations, so both implementations
 * share one advert protocol: adverts spread on `ADVERT_TOPIC` (forged ones are rejected and count against the
 * sender), and when two peers meet, the one that has an advert pushes it over `ADVERT_PROTOCOL` and gets the
 * other's back in the response — so a late joiner learns its neighbours' adverts, and peers that have none yet
 * exchange nothing.
 */
import type { Network, NetworkEvent, PeerId } from '../network.js'
import type { ResourceAdvert } from './resource-advert.js'
import { ADVERT_PROTOCOL, ADVERT_TOPIC, type AdvertBook } from './advert-book.js'

type Primitives = Pick<Network, 'peerId' | 'subscribe' | 'handle' | 'request' | 'publish' | 'addListener'>

export interface AdvertExchange {
  advertise(advert: ResourceAdvert): Promise<void>
  detach(): void
}

export function attachAdvertExchange(network: Primitives, book: AdvertBook, emit: (event: NetworkEvent) => void, requestTimeoutMs: number): AdvertExchange {
  const learn = (bytes: Uint8Array) => {
    const { outcome, advert } = book.accept(bytes)
    if (outcome === 'new' && advert !== undefined) emit({ type: 'peer:advert', peer: advert.peer, advert })
    return outcome
  }
  const exchangeWith = (peer: PeerId) => {
    const own = book.ownBytes(network.peerId)
    if (own.length === 0) return
    network
      .request(peer, ADVERT_PROTOCOL, own, { timeout: requestTimeoutMs })
      .then((bytes) => {
        if (bytes.length > 0) learn(bytes)
      })
      .catch(() => {
        // The peer left or is slow: its next advert on the topic will reach us anyway.
      })
  }
  const unsubscribe = network.subscribe(ADVERT_TOPIC, (message) => {
    const outcome = learn(message.data)
    return outcome === 'new' ? 'accept' : outcome === 'stale' ? 'ignore' : 'reject'
  })
  const unhandle = network.handle(ADVERT_PROTOCOL, (request) => {
    if (request.data.length > 0) learn(request.data)
    return book.ownBytes(network.peerId)
  })
  const unlisten = network.addListener((event) => {
    if (event.type === 'peer:join') exchangeWith(event.peer)
  })
  return {
    advertise: (advert) => network.publish(ADVERT_TOPIC, book.signOwn(network.peerId, advert)),
    detach: () => {
      unsubscribe()
      unhandle()
      unlisten()
    },
  }
}
