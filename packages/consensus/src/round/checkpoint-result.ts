/**
 * The checkpoint result of one round, `C_{r+1}`: what the facilitators agreed on and sign.
 *
 * The body commits to the members' checkpoint blocks (key, position and hash of each, one per member), the meme
 * updates the round implies (observations of facilitators and members, proven faults with their fraud proofs),
 * the previous result (so results form a hash chain per group) and, above level 0, the Merkle root of the child
 * certificates it certifies. `h_r = resultHash(body)` is what members record in their next checkpoint block and
 * what drives the next election; the certificate signs the body hash together with the elected next facilitators.
 */
import { type Crypto, encodeCanonical, HASH_LENGTH, PUBLIC_KEY_LENGTH } from '@constellation/crypto'
import * as t from 'io-ts'
import { bytesOfLength, bytesUpTo, closedRecord, integerIn, listUpTo, PeerIdCodec } from '../codec/fields.js'
import { LedgerDeltaCodec } from '../ledger/transfer-ledger.js'

/** Members of one solar system whose checkpoints one result can hold at most. */
export const MAX_CHECKPOINTS_PER_RESULT = 4_096
/** Facilitators of one round at most. */
export const MAX_FACILITATORS = 256
/** Largest encoded fraud proof carried in a result (two checkpoint blocks and framing). */
export const MAX_FRAUD_PROOF_BYTES = 8_192
export const MAX_FAULTS_PER_RESULT = 256

const Hash = bytesOfLength(HASH_LENGTH, 'Hash')

export const CheckpointEntryCodec = closedRecord('CheckpointEntry', {
  publicKey: bytesOfLength(PUBLIC_KEY_LENGTH, 'PublicKey'),
  sequenceNumber: integerIn(1, Number.MAX_SAFE_INTEGER, 'SequenceNumber'),
  hash: Hash,
  /** The running balance the checkpoint records (checked with the stretch it closes). */
  balance: integerIn(0, Number.MAX_SAFE_INTEGER, 'Balance'),
})
/** A member's checkpoint block as a result commits to it: the anchor of its chain from then on. */
export type CheckpointEntry = t.TypeOf<typeof CheckpointEntryCodec>

export const ObservationOutcomeCodec = t.keyof({ good: null, bad: null, neutral: null }, 'ObservationOutcome')

/** One meme's observed values in the round (integers, so that every machine folds them alike). */
export const ObservationRecordCodec = closedRecord('ObservationRecord', {
  memeId: PeerIdCodec,
  outcome: ObservationOutcomeCodec,
  values: t.record(t.string, integerIn(0, Number.MAX_SAFE_INTEGER, 'ObservedValue')),
})
export type ObservationRecord = t.TypeOf<typeof ObservationRecordCodec>

export const FaultKindCodec = t.keyof({ 'double-sign': null }, 'FaultKind')

/**
 * A proven fault: the meme it docks, where in the member's chain it signed two blocks (each position is recorded
 * once: `SolarSystemState.provenFrauds`), and the fraud proof (trustchain's encoding) anyone can check.
 */
export const FaultRecordCodec = closedRecord('FaultRecord', {
  memeId: PeerIdCodec,
  kind: FaultKindCodec,
  sequenceNumber: integerIn(1, Number.MAX_SAFE_INTEGER, 'SequenceNumber'),
  proof: bytesUpTo(MAX_FRAUD_PROOF_BYTES, 'FraudProofBytes'),
})
export type FaultRecord = t.TypeOf<typeof FaultRecordCodec>

export const ResultBodyCodec = closedRecord('ResultBody', {
  /** 0 for a solar system; k for the k-th level of the hierarchy above it. */
  level: integerIn(0, 16, 'Level'),
  group: t.string,
  round: integerIn(1, Number.MAX_SAFE_INTEGER, 'Round'),
  previousResultHash: Hash,
  /** One entry per member, ascending by public key. */
  checkpoints: listUpTo(CheckpointEntryCodec, MAX_CHECKPOINTS_PER_RESULT, 'Checkpoints'),
  /** Ascending by meme id. */
  observations: listUpTo(ObservationRecordCodec, MAX_CHECKPOINTS_PER_RESULT + MAX_FACILITATORS, 'Observations'),
  faults: listUpTo(FaultRecordCodec, MAX_FAULTS_PER_RESULT, 'Faults'),
  /** Merkle root of the child certificates certified at this level (all zero at level 0). */
  children: Hash,
  /** What the round's certified stretches did to the transfer ledger (empty above level 0). */
  ledger: LedgerDeltaCodec,
})
export type ResultBody = t.TypeOf<typeof ResultBodyCodec>

export const CheckpointResultCodec = closedRecord('CheckpointResult', {
  body: ResultBodyCodec,
  /** The facilitators elected for the next round, ascending. */
  nextFacilitators: listUpTo(PeerIdCodec, MAX_FACILITATORS, 'NextFacilitators'),
})
export type CheckpointResult = t.TypeOf<typeof CheckpointResultCodec>

// Bodies and results are immutable once built or decoded; their hashes are asked for many times per round.
const bodyHashes = new WeakMap<ResultBody, Uint8Array>()
const resultDigests = new WeakMap<CheckpointResult, Uint8Array>()

/** `h_r`: the hash members record in their checkpoint blocks and the next election is drawn from. */
export function resultHash(crypto: Crypto, body: ResultBody): Uint8Array {
  let hash = bodyHashes.get(body)
  if (hash === undefined) {
    hash = crypto.sha256(encodeCanonical(['constellation/result/1', ResultBodyCodec.encode(body)]))
    bodyHashes.set(body, hash)
  }
  return hash
}

/** What facilitators sign: the body hash with the next committee, so a certificate also hands over the keys. */
export function certificateDigest(crypto: Crypto, result: CheckpointResult): Uint8Array {
  let digest = resultDigests.get(result)
  if (digest === undefined) {
    digest = crypto.sha256(encodeCanonical(['constellation/certificate/1', resultHash(crypto, result.body), [...result.nextFacilitators]]))
    resultDigests.set(result, digest)
  }
  return digest
}
