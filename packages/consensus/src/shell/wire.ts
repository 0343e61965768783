/**
 * What solar-system nodes send over the network, and how it is checked on arrival.
 *
 *   - round frames (request/response, facilitator to facilitator): every round message bound for one peer since
 *     the last frame, coalesced into one frame, because the per-frame cost of a real transport, not the bytes,
 *     sets the pace of an O(n^2)-message protocol;
 *   - checkpoint submissions (request/response, member to facilitator): a member's stretch closed by its checkpoint
 *     block, or an idle notice from a member whose chain has not moved;
 *   - certificates (gossip, to everyone in the solar system) and certificate ranges (request/response, to catch up).
 * Every decoder checks sizes before decoding and shapes with a codec; the transport authenticates the sender.
 */
import { encodeCanonical, SIGNATURE_LENGTH } from '@constellation/crypto'
import * as t from 'io-ts'
import { acsMessageFromCbor, acsMessageToCbor } from '../acs/acs-messages.js'
import { bytesOfLength, bytesUpTo, closedRecord, decodeWith, integerIn, listUpTo, recordWithOptional } from '../codec/fields.js'
import { MAX_FINALITY_PATH_BYTES } from '../hierarchy/finality-path.js'
import { MAX_MEMBERSHIP_REQUEST_BYTES } from '../membership/membership-request.js'
import { MerkleProofCodec } from '../hierarchy/merkle.js'
import { MAX_CERTIFICATE_BYTES } from '../round/certificate.js'
import type { RoundMessage } from '../round/facilitator-round.js'
import { MAX_REPORTS_PER_SUBMISSION } from './fork-reports.js'

export const ROUND_PROTOCOL = '/constellation/consensus/round/1'
export const CHECKPOINT_PROTOCOL = '/constellation/consensus/checkpoint/1'
export const CERTIFICATES_PROTOCOL = '/constellation/consensus/certificates/1'

export function certificateTopic(level: number, group: string): string {
  return `/constellation/consensus/${level}/${group}/certificates/1`
}

/** Round messages in one frame at most. */
export const MAX_FRAME_MESSAGES = 4_096
/** Certificates answered per range request at most. */
export const MAX_CERTIFICATES_PER_RESPONSE = 64

const Round = integerIn(1, Number.MAX_SAFE_INTEGER, 'Round')
const Level = integerIn(0, 16, 'Level')
const Group = new t.Type<string, string, unknown>(
  'Group',
  (u): u is string => typeof u === 'string' && u.length > 0 && u.length <= 128,
  (u, c) => (typeof u === 'string' && u.length > 0 && u.length <= 128 ? t.success(u) : t.failure(u, c)),
  t.identity,
)

const RoundFrameCodec = closedRecord('RoundFrame', {
  level: Level,
  group: Group,
  round: Round,
  acs: listUpTo(t.unknown, MAX_FRAME_MESSAGES, 'AcsMessages'),
  shares: listUpTo(bytesOfLength(SIGNATURE_LENGTH, 'Signature'), 1, 'Shares'),
})

export interface RoundFrame {
  readonly level: number
  readonly group: string
  readonly round: number
  readonly messages: readonly RoundMessage[]
}

export function encodeRoundFrame(frame: RoundFrame): Uint8Array {
  const acs = []
  const shares = []
  for (const message of frame.messages) {
    if (message.kind === 'acs') acs.push(acsMessageToCbor(message.message))
    else shares.push(message.signature)
  }
  return encodeCanonical({ level: frame.level, group: frame.group, round: frame.round, acs, shares: shares.slice(-1) })
}

/** Decodes a frame; round messages that do not decode are dropped (counted in `dropped`), never thrown. */
export function decodeRoundFrame(bytes: Uint8Array, maxBytes: number, maxValueBytes: number): RoundFrame & { readonly dropped: number } {
  const wire = decodeWith(RoundFrameCodec, bytes, maxBytes, 'round frame')
  const messages: RoundMessage[] = []
  let dropped = 0
  for (const value of wire.acs) {
    const message = acsMessageFromCbor(value, maxValueBytes)
    if (message === undefined) dropped++
    else messages.push({ kind: 'acs', message })
  }
  for (const signature of wire.shares) messages.push({ kind: 'share', signature })
  return { level: wire.level, group: wire.group, round: wire.round, messages, dropped }
}

/** Blocks one submission carries at most: a member's stretch since its certified checkpoint, the checkpoint last. */
export const MAX_SUBMISSION_BLOCKS = 4_096

/**
 * A member's checkpoint submission: its blocks after its certified checkpoint (as it knows it) up to and including
 * the new checkpoint block, the last one; and `reports`: proposals of other members its agreements answered that
 * turned out not to be the ones certified at their positions (forks, see `fork-reports.ts`).
 */
const CheckpointSubmissionCodec = recordWithOptional(
  'CheckpointSubmission',
  {
    level: Level,
    group: Group,
    blocks: listUpTo(bytesUpTo(1 << 16, 'BlockBytes'), MAX_SUBMISSION_BLOCKS, 'StretchBlocks'),
  },
  { reports: listUpTo(bytesUpTo(1 << 16, 'BlockBytes'), MAX_REPORTS_PER_SUBMISSION, 'ForkReports') },
)
export type CheckpointSubmission = t.TypeOf<typeof CheckpointSubmissionCodec>

export function encodeCheckpointSubmission(submission: CheckpointSubmission): Uint8Array {
  return encodeCanonical(CheckpointSubmissionCodec.encode(submission))
}

/**
 * A member that has nothing to checkpoint for round `idle` (its chain has not moved since its last checkpoint):
 * unsigned, for the transport authenticates who sent it, and it only tells a facilitator not to wait for the
 * member — at worst a round starts without a checkpoint that comes later and waits for the next one.
 */
const IdleNoticeCodec = closedRecord('IdleNotice', { level: Level, group: Group, idle: Round })
export type IdleNotice = t.TypeOf<typeof IdleNoticeCodec>

export function encodeIdleNotice(notice: IdleNotice): Uint8Array {
  return encodeCanonical(IdleNoticeCodec.encode(notice))
}

/** Answers from other solar systems one evidence message carries at most. */
export const MAX_EVIDENCE_ANSWERS = 64
/** Certificates one evidence message carries credits under at most, and credits under one certificate. */
export const MAX_EVIDENCE_CREDITS = 8
export const MAX_CREDITS_PER_CERTIFICATE = 256

/**
 * A member's evidence for transfers across solar systems (see `transfer-ledger.ts`), sent to the next round's
 * facilitators while the transfers wait: `answers`, its own proposals to members of other systems with the
 * agreements they signed (each pair the two halves in wire form); `credits`, transfers from other systems that its
 * agreements answered, grouped by the certificate that finalised them there: the path that roots that certificate
 * (`encodeFinalityPath`, the certificate first, without leaves), and per transfer its two halves and the Merkle path
 * of its leaf — together, one rooted agreement proof per transfer, the certificate and the path sent once; or, for
 * facilitators that follow the proposer's system (`followedCredits`), only that certificate's group and round.
 */
const CreditedTransferCodec = closedRecord('CreditedTransfer', {
  proposal: bytesUpTo(1 << 16, 'ProposalBytes'),
  agreement: bytesUpTo(1 << 16, 'AgreementBytes'),
  leaf: MerkleProofCodec,
})

const SettlementEvidenceCodec = closedRecord('SettlementEvidence', {
  level: Level,
  group: Group,
  answers: listUpTo(t.tuple([bytesUpTo(1 << 16, 'ProposalBytes'), bytesUpTo(1 << 16, 'AgreementBytes')]), MAX_EVIDENCE_ANSWERS, 'Answers'),
  credits: listUpTo(
    closedRecord('RootedCredits', {
      // The path from the certificate that finalised the transfers (its first certificate) to the root one level up
      // (a root above that is not supported yet), without finalised leaves.
      path: bytesUpTo(MAX_FINALITY_PATH_BYTES, 'FinalityPathBytes'),
      transfers: listUpTo(
        closedRecord('CreditedTransfer', {
          proposal: bytesUpTo(1 << 16, 'ProposalBytes'),
          agreement: bytesUpTo(1 << 16, 'AgreementBytes'),
          leaf: MerkleProofCodec,
        }),
        MAX_CREDITS_PER_CERTIFICATE,
        'Transfers',
      ),
    }),
    MAX_EVIDENCE_CREDITS,
    'Credits',
  ),
  // The same, for facilitators that follow the proposer's system: the certificate named by its group and round.
  followedCredits: listUpTo(
    closedRecord('FollowedCredits', {
      group: Group,
      round: Round,
      transfers: listUpTo(CreditedTransferCodec, MAX_CREDITS_PER_CERTIFICATE, 'Transfers'),
    }),
    MAX_EVIDENCE_CREDITS,
    'FollowedCredits',
  ),
})
export type SettlementEvidence = t.TypeOf<typeof SettlementEvidenceCodec>

export function encodeSettlementEvidence(evidence: SettlementEvidence): Uint8Array {
  return encodeCanonical(SettlementEvidenceCodec.encode(evidence))
}

/** Pieces one evidence message carries at most: answers, and transfers under rooted and followed credits. */
export const MAX_EVIDENCE_PIECES = MAX_EVIDENCE_ANSWERS + 2 * MAX_EVIDENCE_CREDITS * MAX_CREDITS_PER_CERTIFICATE

/**
 * A facilitator's answer to evidence: which of its pieces it holds now, a bit per piece in the message's order
 * (answers, then rooted credits' transfers, then followed credits' transfers), lowest bit of the first byte first.
 */
const EvidenceAnswerCodec = closedRecord('EvidenceAnswer', { held: bytesUpTo(Math.ceil(MAX_EVIDENCE_PIECES / 8), 'HeldBits') })

export function encodeEvidenceAnswer(held: readonly boolean[]): Uint8Array {
  const bits = new Uint8Array(Math.ceil(held.length / 8))
  held.forEach((yes, i) => {
    if (yes) bits[i >> 3] = (bits[i >> 3] as number) | (1 << (i & 7))
  })
  return encodeCanonical(EvidenceAnswerCodec.encode({ held: bits }))
}

/** Which of `pieces` pieces the facilitator holds (pieces past the bits it sent: not held). */
export function decodeEvidenceAnswer(bytes: Uint8Array, pieces: number): boolean[] {
  const { held } = decodeWith(EvidenceAnswerCodec, bytes, 1_024, 'evidence answer')
  return Array.from({ length: pieces }, (_, i) => (((held[i >> 3] ?? 0) >> (i & 7)) & 1) === 1)
}

/** What a member sends a facilitator on the checkpoint protocol: a stretch with its checkpoint, an idle notice, or evidence. */
export type MemberSubmission = CheckpointSubmission | IdleNotice | SettlementEvidence

export function decodeMemberSubmission(bytes: Uint8Array, maxBytes: number): MemberSubmission {
  return decodeWith(t.union([CheckpointSubmissionCodec, IdleNoticeCodec, SettlementEvidenceCodec]), bytes, maxBytes, 'checkpoint submission')
}

/**
 * A facilitator's answer to a submission: taken (`resend` absent), or the blocks from `resend` on are needed first (it
 * holds less of the member's stretch than the member thought).
 */
const SubmissionAnswerCodec = t.union([
  closedRecord('SubmissionTaken', {}),
  closedRecord('SubmissionResend', { resend: integerIn(1, Number.MAX_SAFE_INTEGER, 'From') }),
])
export type SubmissionAnswer = { readonly resend?: number }

export function encodeSubmissionAnswer(answer: SubmissionAnswer): Uint8Array {
  return encodeCanonical(answer)
}

export function decodeSubmissionAnswer(bytes: Uint8Array): SubmissionAnswer {
  return decodeWith(SubmissionAnswerCodec, bytes, 64, 'submission answer') as SubmissionAnswer
}

const CertificateRangeRequestCodec = closedRecord('CertificateRangeRequest', {
  level: Level,
  group: Group,
  from: Round,
  count: integerIn(1, MAX_CERTIFICATES_PER_RESPONSE, 'Count'),
})
export type CertificateRangeRequest = t.TypeOf<typeof CertificateRangeRequestCodec>

export function encodeCertificateRangeRequest(request: CertificateRangeRequest): Uint8Array {
  return encodeCanonical(CertificateRangeRequestCodec.encode(request))
}

export function decodeCertificateRangeRequest(bytes: Uint8Array): CertificateRangeRequest {
  return decodeWith(CertificateRangeRequestCodec, bytes, 512, 'certificate range request')
}

const CertificateRangeCodec = listUpTo(bytesUpTo(MAX_CERTIFICATE_BYTES, 'CertificateBytes'), MAX_CERTIFICATES_PER_RESPONSE, 'Certificates')

export function encodeCertificateRange(certificates: readonly Uint8Array[]): Uint8Array {
  return encodeCanonical([...certificates])
}

export function decodeCertificateRange(bytes: Uint8Array, maxBytes: number): Uint8Array[] {
  return decodeWith(CertificateRangeCodec, bytes, maxBytes, 'certificate range')
}

/**
 * A certificate as gossiped: its round beside its bytes, so that a node which already holds the round drops the
 * copy after decoding a few bytes instead of the whole certificate (each facilitator publishes its own).
 */
const CertificateAnnouncementCodec = closedRecord('CertificateAnnouncement', {
  round: Round,
  certificate: bytesUpTo(MAX_CERTIFICATE_BYTES, 'CertificateBytes'),
})
export type CertificateAnnouncement = t.TypeOf<typeof CertificateAnnouncementCodec>

export function encodeCertificateAnnouncement(announcement: CertificateAnnouncement): Uint8Array {
  return encodeCanonical(CertificateAnnouncementCodec.encode(announcement))
}

export function decodeCertificateAnnouncement(bytes: Uint8Array): CertificateAnnouncement {
  return decodeWith(CertificateAnnouncementCodec, bytes, MAX_CERTIFICATE_BYTES + 64, 'certificate announcement')
}

/**
 * The protocols of a validator running a group at `level` >= 1. They carry the level, so one node can validate at
 * several levels and be a solar-system member besides (a network has one handler per protocol):
 *   - round frames between the level's facilitators (same frames as level 0);
 *   - certificate ranges of any group the validator follows (its children and its own group), for syncing nodes;
 *   - finality paths: given a certificate (level, group, round) of a followed group, its path up to the highest
 *     level the validator knows;
 *   - membership requests, at the root: a node's signed join or leave, held until the validator proposes it;
 *   - certified membership requests by digest, at the root: what a node deriving the assignment fetches (a root
 *     result records only each request's digest).
 */
export function levelProtocols(level: number): {
  readonly round: string
  readonly certificates: string
  readonly finalityPath: string
  readonly membership: string
  readonly membershipRequests: string
} {
  return {
    round: `/constellation/consensus/level/${level}/round/1`,
    certificates: `/constellation/consensus/level/${level}/certificates/1`,
    finalityPath: `/constellation/consensus/level/${level}/finality-path/1`,
    // Signed join and leave requests, for the root's validators (a `MembershipRequest` as `encodeMembershipRequest`).
    membership: `/constellation/consensus/level/${level}/membership/1`,
    membershipRequests: `/constellation/consensus/level/${level}/membership-requests/1`,
  }
}

/** Where root validators pass on the requests they take, so each can propose them and serve them once certified. */
export function membershipTopic(level: number, group: string): string {
  return `/constellation/consensus/${level}/${group}/membership/1`
}

/** Request digests asked for in one query at most (and requests answered). */
export const MAX_REQUESTS_PER_QUERY = 256

const RequestDigestsCodec = listUpTo(bytesOfLength(32, 'RequestDigest'), MAX_REQUESTS_PER_QUERY, 'RequestDigests')
const MembershipRequestsAnswerCodec = listUpTo(bytesUpTo(MAX_MEMBERSHIP_REQUEST_BYTES, 'MembershipRequestBytes'), MAX_REQUESTS_PER_QUERY, 'MembershipRequests')

export function encodeRequestDigests(digests: readonly Uint8Array[]): Uint8Array {
  return encodeCanonical([...digests])
}

export function decodeRequestDigests(bytes: Uint8Array): Uint8Array[] {
  return decodeWith(RequestDigestsCodec, bytes, MAX_REQUESTS_PER_QUERY * 40 + 16, 'request digests')
}

/** The encoded requests found (`encodeMembershipRequest`), in any order; the asker checks each against its digest. */
export function encodeMembershipRequestsAnswer(requests: readonly Uint8Array[]): Uint8Array {
  return encodeCanonical([...requests])
}

export function decodeMembershipRequestsAnswer(bytes: Uint8Array): Uint8Array[] {
  return decodeWith(MembershipRequestsAnswerCodec, bytes, MAX_REQUESTS_PER_QUERY * (MAX_MEMBERSHIP_REQUEST_BYTES + 8) + 16, 'membership requests')
}

const FinalityPathRequestCodec = closedRecord('FinalityPathRequest', { level: Level, group: Group, round: Round })
/** Which certificate to root: a group's round. */
export type FinalityPathRequest = t.TypeOf<typeof FinalityPathRequestCodec>

export function encodeFinalityPathRequest(request: FinalityPathRequest): Uint8Array {
  return encodeCanonical(FinalityPathRequestCodec.encode(request))
}

export function decodeFinalityPathRequest(bytes: Uint8Array): FinalityPathRequest {
  return decodeWith(FinalityPathRequestCodec, bytes, 512, 'finality path request')
}

/** The path's own encoding (see `encodeFinalityPath`), or null while no level above has committed the certificate. */
const FinalityPathAnswerCodec = closedRecord('FinalityPathAnswer', { path: t.union([bytesUpTo(MAX_FINALITY_PATH_BYTES, 'FinalityPathBytes'), t.null]) })

export function encodeFinalityPathAnswer(path: Uint8Array | undefined): Uint8Array {
  return encodeCanonical({ path: path ?? null })
}

export function decodeFinalityPathAnswer(bytes: Uint8Array, maxBytes: number): Uint8Array | undefined {
  return decodeWith(FinalityPathAnswerCodec, bytes, maxBytes, 'finality path answer').path ?? undefined
}
