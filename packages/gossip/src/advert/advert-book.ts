/**
 * The latest valid advert of every peer, plus this node's own. Both network implementations keep one and
 * feed it from the advert topic and from the advert request protocol (for peers that join later).
 */
import { type Crypto, type KeyPair, toHex } from '@constellation/crypto'
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

export interface AdvertBookOptions {
  /** Peers whose adverts are kept; beyond it the least recently updated advert is dropped (default 10,000). */
  readonly maxPeers?: number
  /** An advert older than this (by its `issuedAt`) is dropped and no longer accepted (default one hour). */
  readonly maxAgeMs?: number
  /** How far ahead of this node's clock an `issuedAt` may be (default one minute). */
  readonly maxClockSkewMs?: number
  /**
   * Signature check, replaceable by a memoised one: in a simulation every node checks every advert, and the
   * answer for the same bytes is the same everywhere.
   */
  readonly verify?: (signed: SignedResourceAdvert) => boolean
}

export class AdvertBook {
  readonly #crypto: Crypto
  readonly #keyPair: KeyPair
  readonly #clock: Clock
  readonly #maxPeers: number
  readonly #maxAgeMs: number
  readonly #maxClockSkewMs: number
  readonly #verify: (signed: SignedResourceAdvert) => boolean
  /** Insertion order is update order: the first entry is the least recently updated. */
  readonly #adverts = new Map<PeerId, SignedResourceAdvert>()
  #ownSequence = 0

  constructor(components: { crypto: Crypto; keyPair: KeyPair; clock: Clock }, options: AdvertBookOptions = {}) {
    this.#crypto = components.crypto
    this.#keyPair = components.keyPair
    this.#clock = components.clock
    this.#maxPeers = options.maxPeers ?? 10_000
    this.#maxAgeMs = options.maxAgeMs ?? 3_600_000
    this.#maxClockSkewMs = options.maxClockSkewMs ?? 60_000
    this.#verify = options.verify ?? ((signed) => verifyResourceAdvert(this.#crypto, signed))
  }

  /** Signs a new own advert and returns its wire bytes. */
  signOwn(self: PeerId, advert: ResourceAdvert): Uint8Array {
    // Sequence numbers start from the clock so that a restarted node's adverts supersede its old ones.
    this.#ownSequence = Math.max(this.#ownSequence + 1, Math.floor(this.#clock.now()))
    const signed = signResourceAdvert(this.#crypto, this.#keyPair, advert, Math.max(1, this.#ownSequence), Math.floor(this.#clock.now()))
    this.#adverts.delete(self)
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
    const now = this.#clock.now()
    if (signed.issuedAt > now + this.#maxClockSkewMs) return { outcome: 'invalid' }
    if (signed.issuedAt < now - this.#maxAgeMs) return { outcome: 'stale' }
    const current = this.get(signed.peer)
    if (current !== undefined && current.sequence >= signed.sequence) return { outcome: 'stale' }
    // The signature last: it is the expensive check, and a stale advert needs none.
    if (!this.#verify(signed)) return { outcome: 'invalid' }
    this.#adverts.delete(signed.peer)
    this.#adverts.set(signed.peer, signed)
    if (this.#adverts.size > this.#maxPeers) {
      const oldest = this.#adverts.keys().next().value
      if (oldest !== undefined) this.#adverts.delete(oldest)
    }
    return { outcome: 'new', advert: signed }
  }

  /** The peer's advert, unless it has expired (this node's own never expires). */
  get(peer: PeerId): SignedResourceAdvert | undefined {
    const advert = this.#adverts.get(peer)
    if (advert === undefined || peer === toHex(this.#keyPair.publicKey)) return advert
    if (advert.issuedAt < this.#clock.now() - this.#maxAgeMs) {
      this.#adverts.delete(peer)
      return undefined
    }
    return advert
  }

  clear(): void {
    this.#adverts.clear()
  }
}
