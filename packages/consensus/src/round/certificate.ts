/**
 * Checkpoint certificates: a result with the signatures of at least 2t + 1 of the round's facilitators.
 *
 * With at most t Byzantine facilitators, two certificates for one group and round with different results would
 * need t + 1 honest facilitators to have signed both, and an honest facilitator signs only the result its own
 * agreement produced — so a valid certificate is the round's result. Signatures are checked in one batch
 * (`BatchVerifier`: the crypto package's `verifyMany` in this thread, or a `VerifyPool` across workers).
 */
import { type Crypto, encodeCanonical, type KeyPair, SIGNATURE_LENGTH, type SignedMessage, fromHex, toHex } from '@constellation/crypto'
import type * as t from 'io-ts'
import { bytesOfLength, closedRecord, decodeWith, deepFreeze, listUpTo, PeerIdCodec, recordWithOptional } from '../codec/fields.js'
import { merkleRoot } from '../hierarchy/merkle.js'
import { MAX_LEDGER_ENTRIES_PER_ROUND } from '../ledger/transfer-ledger.js'
import { ConsensusError, ConsensusErrorCode } from '../errors.js'
import { certificateDigest, type CheckpointResult, CheckpointResultCodec, MAX_FACILITATORS } from './checkpoint-result.js'
import type { Committee } from './committee.js'

/** Checks many signatures at once; answers one boolean per item, in order. */
export type BatchVerifier = (items: readonly SignedMessage[]) => Promise<readonly boolean[]> | readonly boolean[]

export const CertificateSignatureCodec = closedRecord('CertificateSignature', {
  signer: PeerIdCodec,
  signature: bytesOfLength(SIGNATURE_LENGTH, 'Signature'),
})
export type CertificateSignature = t.TypeOf<typeof CertificateSignatureCodec>

export const CheckpointCertificateCodec = recordWithOptional(
  'CheckpointCertificate',
  {
    result: CheckpointResultCodec,
    /** Ascending by signer, one per signer. */
    signatures: listUpTo(CertificateSignatureCodec, MAX_FACILITATORS, 'Signatures'),
  },
  {
    /**
     * The round's finalised transfers (`finalisedLeaf`: proposal hash, agreement hash), whose Merkle root the result
     * commits to (`body.ledger.finalised`). Not signed itself: checked against the root when present, and left out
     * where only the commitment matters (in agreement proofs, in the history a node keeps in memory).
     */
    finalised: listUpTo(bytesOfLength(64, 'FinalisedLeaf'), MAX_LEDGER_ENTRIES_PER_ROUND, 'FinalisedLeaves'),
  },
)
export type CheckpointCertificate = t.TypeOf<typeof CheckpointCertificateCodec>

/** The certificate without its finalised leaves (the signed part, which commits to them). */
export function withoutLeaves(certificate: CheckpointCertificate): CheckpointCertificate {
  if (certificate.finalised === undefined) return certificate
  const { finalised: _leaves, ...rest } = certificate
  return deepFreeze(rest)
}

/** Why a certificate's finalised leaves are not the ones its result commits to, or undefined (also when it carries none). */
export function checkFinalisedLeaves(crypto: Crypto, certificate: CheckpointCertificate): string | undefined {
  const leaves = certificate.finalised
  if (leaves === undefined) return undefined
  const { ledger } = certificate.result.body
  if (leaves.length !== ledger.finalisedCount) return `${leaves.length} finalised leaves, the result commits to ${ledger.finalisedCount}`
  const root = merkleRoot(crypto, leaves)
  return root.every((byte, i) => byte === ledger.finalised[i]) ? undefined : 'the finalised leaves are not the ones the result commits to'
}

/** Largest encoded certificate accepted from the network or disk. */
export const MAX_CERTIFICATE_BYTES = 1 << 20

/** A facilitator's signature share on a result. */
export function signResult(crypto: Crypto, keyPair: KeyPair, result: CheckpointResult): CertificateSignature {
  return { signer: toHex(keyPair.publicKey), signature: crypto.sign(certificateDigest(crypto, result), keyPair) }
}

/** Builds a certificate from shares already checked; keeps the first `committee.quorum` signers in id order. */
export function assembleCertificate(result: CheckpointResult, shares: readonly CertificateSignature[], committee: Committee): CheckpointCertificate {
  const bySigner = new Map<string, CertificateSignature>()
  for (const share of shares) if (committee.facilitators.includes(share.signer) && !bySigner.has(share.signer)) bySigner.set(share.signer, share)
  if (bySigner.size < committee.quorum) {
    throw new ConsensusError(ConsensusErrorCode.INVALID_CERTIFICATE, `a certificate needs ${committee.quorum} signatures, got ${bySigner.size}`)
  }
  const signatures = [...bySigner.values()].sort((a, b) => (a.signer < b.signer ? -1 : 1)).slice(0, committee.quorum)
  return deepFreeze({ result, signatures })
}

/**
 * Why `certificate` is not a valid certificate by `committee`, or undefined when it is: signers distinct, in order,
 * members of the committee, at least 2t + 1 of them, every signature valid on the result's digest.
 */
export async function checkCertificate(
  crypto: Crypto,
  certificate: CheckpointCertificate,
  committee: Committee,
  verifier: BatchVerifier = (items) => crypto.verifyMany(items),
): Promise<string | undefined> {
  const why = checkSigners(certificate, committee) ?? checkFinalisedLeaves(crypto, certificate)
  if (why !== undefined) return why
  return signatureVerdict(certificate, await verifier(signedItems(crypto, certificate)))
}

/**
 * `checkCertificate` in this thread, without a promise: for pure machines that check certificates as inputs (a star
 * cluster's round checks its solar systems' certificates).
 */
export function checkCertificateNow(crypto: Crypto, certificate: CheckpointCertificate, committee: Committee): string | undefined {
  return (
    checkSigners(certificate, committee) ??
    checkFinalisedLeaves(crypto, certificate) ??
    signatureVerdict(certificate, crypto.verifyMany(signedItems(crypto, certificate)))
  )
}

function checkSigners(certificate: CheckpointCertificate, committee: Committee): string | undefined {
  const { signatures } = certificate
  for (let i = 0; i < signatures.length; i++) {
    const signer = (signatures[i] as CertificateSignature).signer
    if (i > 0 && signer <= (signatures[i - 1] as CertificateSignature).signer) return 'signers must be distinct and in ascending order'
    if (!committee.facilitators.includes(signer)) return `signer ${signer.slice(0, 16)} is not a facilitator of the round`
  }
  return signatures.length < committee.quorum ? `${signatures.length} signatures, ${committee.quorum} needed` : undefined
}

function signedItems(crypto: Crypto, certificate: CheckpointCertificate): SignedMessage[] {
  const digest = certificateDigest(crypto, certificate.result)
  return certificate.signatures.map(({ signer, signature }) => ({ signature, message: digest, publicKey: fromHex(signer) }))
}

function signatureVerdict(certificate: CheckpointCertificate, verdicts: readonly boolean[]): string | undefined {
  const bad = verdicts.findIndex((ok) => !ok)
  return bad === -1 ? undefined : `the signature of ${certificate.signatures[bad]?.signer.slice(0, 16)} does not verify`
}

/** Like `checkCertificate`, but throws INVALID_CERTIFICATE with the reason. */
export async function verifyCertificate(crypto: Crypto, certificate: CheckpointCertificate, committee: Committee, verifier?: BatchVerifier): Promise<void> {
  const why = await checkCertificate(crypto, certificate, committee, verifier)
  if (why !== undefined) {
    throw new ConsensusError(ConsensusErrorCode.INVALID_CERTIFICATE, `invalid certificate for round ${certificate.result.body.round}: ${why}`, {
      group: certificate.result.body.group,
      round: certificate.result.body.round,
      reason: why,
    })
  }
}

/**
 * Encodings of certificates (frozen objects) already made or decoded: a certificate is journalled, gossiped and
 * served as the same bytes, and with a round's ledger and leaves it is large enough for encoding to show in profiles.
 */
const encodings = new WeakMap<CheckpointCertificate, Uint8Array>()

export function encodeCertificate(certificate: CheckpointCertificate): Uint8Array {
  let bytes = encodings.get(certificate)
  if (bytes === undefined) {
    bytes = encodeCanonical(CheckpointCertificateCodec.encode(certificate))
    if (Object.isFrozen(certificate)) encodings.set(certificate, bytes)
  }
  return bytes
}

/** Decodes a certificate from bytes (shape and sizes only; `verifyCertificate` checks the signatures). */
export function decodeCertificate(bytes: Uint8Array): CheckpointCertificate {
  const certificate = deepFreeze(decodeWith(CheckpointCertificateCodec, bytes, MAX_CERTIFICATE_BYTES, 'certificate'))
  // Canonical decoding accepts only the bytes the encoder makes, so these are the certificate's encoding (copied: the
  // caller's buffer may be reused).
  encodings.set(certificate, Uint8Array.from(bytes))
  return certificate
}
