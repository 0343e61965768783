/**
 * Signed join and leave requests: how a sleepy node enters and leaves the network.
 *
 * A request names its key, a nonce (each request of one key must carry a higher nonce than the last one the
 * hierarchy certified, so an old request cannot be replayed to undo a newer one) and, for a join, whether the node
 * offers to be a validator (hold current state, run the higher levels, serve history to syncing nodes). The node
 * signs it; the root of the hierarchy certifies requests as round inputs, and the assignment follows from them.
 */
import { type Crypto, encodeCanonical, equalBytes, type KeyPair, PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, toHex } from '@constellation/crypto'
import * as t from 'io-ts'
import { bytesOfLength, closedRecord, decodeWith, deepFreeze, integerIn } from '../codec/fields.js'
import type { ResultBody } from '../round/checkpoint-result.js'

export const MembershipRequestKindCodec = t.keyof({ join: null, leave: null }, 'MembershipRequestKind')
export type MembershipRequestKind = t.TypeOf<typeof MembershipRequestKindCodec>

export const MembershipRequestCodec = closedRecord('MembershipRequest', {
  kind: MembershipRequestKindCodec,
  publicKey: bytesOfLength(PUBLIC_KEY_LENGTH, 'PublicKey'),
  nonce: integerIn(1, Number.MAX_SAFE_INTEGER, 'Nonce'),
  /** A join's offer to serve as a validator (false for a leave). */
  validator: t.boolean,
  signature: bytesOfLength(SIGNATURE_LENGTH, 'Signature'),
})
export type MembershipRequest = t.TypeOf<typeof MembershipRequestCodec>

export const MAX_MEMBERSHIP_REQUEST_BYTES = 256

const digests = new WeakMap<MembershipRequest, Uint8Array>()

/** What the node signs, and what a certified result records for the request. */
export function membershipRequestDigest(crypto: Crypto, request: Omit<MembershipRequest, 'signature'>): Uint8Array {
  const held = digests.get(request as MembershipRequest)
  if (held !== undefined) return held
  const digest = crypto.sha256(encodeCanonical(['constellation/membership/1', request.kind, request.publicKey, request.nonce, request.validator]))
  if ('signature' in request) digests.set(request as MembershipRequest, digest)
  return digest
}

export function signMembershipRequest(
  crypto: Crypto,
  keyPair: KeyPair,
  request: { readonly kind: MembershipRequestKind; readonly nonce: number; readonly validator?: boolean },
): MembershipRequest {
  const unsigned = { kind: request.kind, publicKey: keyPair.publicKey, nonce: request.nonce, validator: request.kind === 'join' && request.validator === true }
  return deepFreeze({ ...unsigned, signature: crypto.sign(membershipRequestDigest(crypto, unsigned), keyPair) })
}

/** Why `request` is not a well-formed request its key signed, or undefined when it is. */
export function checkMembershipRequest(crypto: Crypto, request: MembershipRequest): string | undefined {
  if (!MembershipRequestCodec.is(request)) return 'not a membership request'
  if (request.kind === 'leave' && request.validator) return 'a leave request offers no role'
  return crypto.verify(request.signature, membershipRequestDigest(crypto, request), request.publicKey) ? undefined : 'its signature does not verify'
}

export function encodeMembershipRequest(request: MembershipRequest): Uint8Array {
  return encodeCanonical(MembershipRequestCodec.encode(request))
}

export function decodeMembershipRequest(bytes: Uint8Array): MembershipRequest {
  return deepFreeze(decodeWith(MembershipRequestCodec, bytes, MAX_MEMBERSHIP_REQUEST_BYTES, 'membership request'))
}

/**
 * The signed requests a node holds (gossiped, or fetched by digest from any peer), by digest. Only copies whose
 * signature verifies are kept: a forged signature on a real request's fields has the same digest.
 */
export function indexMembershipRequests(crypto: Crypto, held: Iterable<MembershipRequest>): ReadonlyMap<string, MembershipRequest> {
  const byDigest = new Map<string, MembershipRequest>()
  for (const request of held) {
    const key = toHex(membershipRequestDigest(crypto, request))
    if (!byDigest.has(key) && checkMembershipRequest(crypto, request) === undefined) byDigest.set(key, request)
  }
  return byDigest
}

/**
 * The requests a root result certified, picked by digest from the requests this node holds
 * (`indexMembershipRequests`); `missing` counts certified ones not held yet (to fetch by digest: any source will do,
 * the digest checks it). `childKeys` (hex) are the entries of child groups, which are no requests.
 */
export function certifiedRequests(
  body: Pick<ResultBody, 'checkpoints'>,
  held: ReadonlyMap<string, MembershipRequest>,
  childKeys: ReadonlySet<string> = new Set(),
): { readonly requests: MembershipRequest[]; readonly missing: number } {
  const requests: MembershipRequest[] = []
  let missing = 0
  for (const entry of body.checkpoints) {
    if (childKeys.has(toHex(entry.publicKey))) continue
    const request = held.get(toHex(entry.hash))
    if (request !== undefined && equalBytes(request.publicKey, entry.publicKey) && request.nonce === entry.sequenceNumber) requests.push(request)
    else missing++
  }
  return { requests, missing }
}
