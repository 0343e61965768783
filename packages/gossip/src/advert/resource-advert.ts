/**
 * Resource adverts: what a node offers the network — roles, capacity, uptime, software version — signed by the
 * node's key so that anyone can check who said it. Other nodes keep the latest advert of each peer; they are
 * the raw material of memes (meme-reputation scores peers partly from them).
 *
 * Wire form: canonical CBOR of `{ peer, sequence, issuedAt, advert, signature }`. The signature covers the
 * canonical CBOR of the same record without `signature`, under a domain tag so it can never be confused with
 * another signed structure.
 */
import {
  type CborValue,
  type Crypto,
  decodeCanonical,
  encodeCanonical,
  fromHex,
  isCryptoError,
  type KeyPair,
  SIGNATURE_LENGTH,
  toHex,
} from '@constellation/crypto'
import { GossipError, GossipErrorCode } from '../errors.js'
import type { PeerId } from '../peer-id.js'

export interface ResourceAdvert {
  /** What the node does, e.g. `basic`, `facilitator`, `validator` (at most 16, each 1–32 characters). */
  readonly roles: readonly string[]
  /** Named non-negative figures, e.g. `{ cpuCores: 2, storageBytes: 1e11 }` (at most 16 entries). */
  readonly capacity: Readonly<Record<string, number>>
  readonly uptimeSeconds: number
  /** Software version, at most 64 characters. */
  readonly version: string
}

export interface SignedResourceAdvert {
  readonly peer: PeerId
  /** Increases with every new advert of the peer; a lower one never replaces a higher one. */
  readonly sequence: number
  /** The advertiser's clock when it signed, in milliseconds. */
  readonly issuedAt: number
  readonly advert: ResourceAdvert
  readonly signature: Uint8Array
}

export const MAX_ADVERT_BYTES = 4096
const DOMAIN = 'constellation/resource-advert/1'
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,31}$/

function invalid(message: string): GossipError {
  return new GossipError(GossipErrorCode.INVALID_INPUT, `invalid resource advert: ${message}`)
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
}

function isNonNegative(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0
}

/** Checks an advert's shape and bounds; returns a normalised copy. */
export function checkResourceAdvert(value: unknown): ResourceAdvert {
  if (!isRecord(value)) throw invalid('not an object')
  const keys = Object.keys(value).sort().join(',')
  if (keys !== 'capacity,roles,uptimeSeconds,version') throw invalid(`unexpected fields ${keys}`)
  const { roles, capacity, uptimeSeconds, version } = value
  if (!Array.isArray(roles) || roles.length > 16) throw invalid('roles must be an array of at most 16 names')
  for (const role of roles) if (typeof role !== 'string' || !NAME.test(role)) throw invalid(`bad role ${String(role)}`)
  if (new Set(roles).size !== roles.length) throw invalid('roles repeat')
  if (!isRecord(capacity) || Object.keys(capacity).length > 16) throw invalid('capacity must map at most 16 names')
  for (const [name, figure] of Object.entries(capacity)) {
    if (!NAME.test(name) || !isNonNegative(figure)) throw invalid(`bad capacity ${name}`)
  }
  if (!isNonNegative(uptimeSeconds)) throw invalid('uptimeSeconds must be a non-negative number')
  if (typeof version !== 'string' || version.length === 0 || version.length > 64) throw invalid('bad version')
  return { roles: [...(roles as string[])], capacity: { ...(capacity as Record<string, number>) }, uptimeSeconds, version }
}

function signedPart(peer: PeerId, sequence: number, issuedAt: number, advert: ResourceAdvert): Uint8Array {
  return encodeCanonical({
    domain: DOMAIN,
    peer: fromHex(peer, 32),
    sequence,
    issuedAt,
    advert: advert as unknown as CborValue,
  })
}

export function signResourceAdvert(crypto: Crypto, keyPair: KeyPair, advert: ResourceAdvert, sequence: number, issuedAt: number): SignedResourceAdvert {
  const checked = checkResourceAdvert(advert)
  if (!Number.isSafeInteger(sequence) || sequence < 1) throw invalid('sequence must be a positive integer')
  if (!Number.isSafeInteger(issuedAt) || issuedAt < 0) throw invalid('issuedAt must be a non-negative integer')
  const peer = toHex(keyPair.publicKey)
  const signature = crypto.sign(crypto.sha256(signedPart(peer, sequence, issuedAt, checked)), keyPair)
  return { peer, sequence, issuedAt, advert: checked, signature }
}

export function verifyResourceAdvert(crypto: Crypto, signed: SignedResourceAdvert): boolean {
  const digest = crypto.sha256(signedPart(signed.peer, signed.sequence, signed.issuedAt, signed.advert))
  return crypto.verify(signed.signature, digest, fromHex(signed.peer, 32))
}

export function encodeSignedAdvert(signed: SignedResourceAdvert): Uint8Array {
  return encodeCanonical(
    {
      peer: fromHex(signed.peer, 32),
      sequence: signed.sequence,
      issuedAt: signed.issuedAt,
      advert: signed.advert as unknown as CborValue,
      signature: signed.signature,
    },
    { maxBytes: MAX_ADVERT_BYTES },
  )
}

/** Decodes and checks the shape (not the signature: see `verifyResourceAdvert`). */
export function decodeSignedAdvert(bytes: Uint8Array): SignedResourceAdvert {
  let value: CborValue
  try {
    value = decodeCanonical(bytes, { maxBytes: MAX_ADVERT_BYTES, maxDepth: 4 })
  } catch (cause) {
    if (isCryptoError(cause)) {
      throw new GossipError(GossipErrorCode.MALFORMED, `resource advert does not decode: ${cause.message}`, {}, { cause })
    }
    throw cause
  }
  if (!isRecord(value)) throw new GossipError(GossipErrorCode.MALFORMED, 'resource advert is not a map')
  const { peer, sequence, issuedAt, advert, signature } = value
  const keys = Object.keys(value).sort().join(',')
  if (keys !== 'advert,issuedAt,peer,sequence,signature') {
    throw new GossipError(GossipErrorCode.MALFORMED, `resource advert has fields ${keys}`)
  }
  if (!(peer instanceof Uint8Array) || peer.length !== 32) throw new GossipError(GossipErrorCode.MALFORMED, 'bad peer')
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_LENGTH) {
    throw new GossipError(GossipErrorCode.MALFORMED, 'bad signature')
  }
  if (typeof sequence !== 'number' || !Number.isSafeInteger(sequence) || sequence < 1) {
    throw new GossipError(GossipErrorCode.MALFORMED, 'bad sequence')
  }
  if (typeof issuedAt !== 'number' || !Number.isSafeInteger(issuedAt) || issuedAt < 0) {
    throw new GossipError(GossipErrorCode.MALFORMED, 'bad issuedAt')
  }
  let checked: ResourceAdvert
  try {
    checked = checkResourceAdvert(advert)
  } catch (cause) {
    throw new GossipError(GossipErrorCode.MALFORMED, (cause as Error).message, {}, { cause })
  }
  return { peer: toHex(peer), sequence, issuedAt, advert: checked, signature }
}
