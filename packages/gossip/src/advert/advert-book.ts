/**
 * The latest valid advert of every peer, plus this node's own. Both network implementations keep one and
 * feed it from the advert topic and from the advert request protocol (for peers that join later).
 */
import type { Crypto, KeyPair } from '@constellation/crypto'
import type { Clock } from '../clock.js'
import type { PeerId } from '../network.js'
import {
  decodeSignedAdvert,
  encodeSignedAdvert,
  type ResourceAdvert,
  type SignedResourceAdvert,
  signResourceAdvert,
  verifyResourceAdvert,
} from './resource-advert.js'

/** Gossip topic carrying signed adverts. */
export const ADVERT_TOPIC = '/constellation/adverts/1'
/** Request protocol: the request carries the requester's signed advert, the response the responder's (empty when none). */
export const ADVERT_PROTOCOL = '/constellation/advert/1'

export type AdvertOutcome = 'new' | 'stale' | 'invalid'

export class AdvertBook {
  readonly #crypto: Crypto
  readonly #keyPair: KeyPair
  readonly #clock: Clock
  readonly #maxPeers: number
  readonly #adverts = new Map<PeerId, SignedResourceAdvert>()
  #ownSequence = 0

  constructor(components: { crypto: Crypto; keyPair: KeyPair; clock: Clock }, maxPeers = 100_000) {
    this.#crypto = components.crypto
    this.#keyPair = components.keyPair
    this.#clock = components.clock
    this.#maxPeers = maxPeers
  }

  /** Signs a new own advert and returns its wire bytes. */
  signOwn(self: PeerId, advert: ResourceAdvert): Uint8Array {
    // Sequence numbers start from the clock so that a restarted node's adverts supersede its old ones.
    this.#ownSequence = Math.max(this.#ownSequence + 1, Math.floor(this.#clock.now()))
    const signed = signResourceAdvert(this.#crypto, this.#keyPair, advert, Math.max(1, this.#ownSequence), Math.floor(this.#clock.now()))
    this.#adverts.set(self, signed)
    return encodeSignedAdvert(signed)
  }

  ownBytes(self: PeerId): Uint8Array {
    const own = this.#adverts.get(self)
    return own === undefined ? new Uint8Array(0) : encodeSignedAdvert(own)
  }

  /** Takes an advert from the wire; `new` when it is valid and newer than what we had. */
  accept(bytes: Uint8Array): { outcome: AdvertOutcome; advert?: SignedResourceAdvert } {
    let signed: SignedResourceAdvert
    try {
      signed = decodeSignedAdvert(bytes)
    } catch {
      return { outcome: 'invalid' }
    }
    if (!verifyResourceAdvert(this.#crypto, signed)) return { outcome: 'invalid' }
    const current = this.#adverts.get(signed.peer)
    if (current !== undefined && current.sequence >= signed.sequence) return { outcome: 'stale' }
    if (current === undefined && this.#adverts.size >= this.#maxPeers) return { outcome: 'stale' }
    this.#adverts.set(signed.peer, signed)
    return { outcome: 'new', advert: signed }
  }

  get(peer: PeerId): SignedResourceAdvert | undefined {
    return this.#adverts.get(peer)
  }

  clear(): void {
    this.#adverts.clear()
  }
}
