/**
 * The shells' types: what `SolarSystemNode` and `LevelNode` take (their options, the chain a member appends to) and
 * what they report (stats, applied certificates, finalised rounds). In a file of their own, with the timings in
 * shell-timing.ts, so that the shells and their helpers depend on these rather than on each other's implementation.
 */
import type { Crypto, KeyPair } from '@constellation/crypto'
import type { Clock } from '@constellation/gossip'
import type { BlockLimits, HalfBlock, PayloadRegistry } from '@constellation/trustchain'
import type { AgreementProof, CommitteeLookup, TransactionHalves } from '../finality/agreement-proof.js'
import type { CertificateHistory } from '../finality/certificate-history.js'
import type { RootedAgreementProof } from '../hierarchy/finality-path.js'
import type { AwaitingAgreement } from '../ledger/transfer-ledger.js'
import type { MemberSchedule } from '../membership/member-schedule.js'
import type { BatchVerifier, CheckpointCertificate } from '../round/certificate.js'
import type { RoundJournal } from '../round/round-journal.js'
import type { SolarSystemGenesis, SolarSystemRules, SolarSystemState } from '../round/solar-system.js'
import type { ConsensusNetwork, LevelTiming, SolarSystemTiming } from './shell-timing.js'

/**
 * The part of a trustchain node the consensus needs: appending checkpoint blocks to the own chain, and the own
 * blocks after a position (the stretch a checkpoint closes, submitted with it).
 */
export interface CheckpointWriter {
  checkpoint(options: { consensusResultHash: Uint8Array; round: number }): Promise<HalfBlock>
  stretch(after: number): Promise<readonly HalfBlock[]>
  /**
   * The proposal an own agreement answered, as this node received it. With it the node reports a proposer that
   * forked its chain (the proposal it answered is not the one certified at that position); without it, it cannot.
   */
  proposalOf?(agreement: HalfBlock): Promise<HalfBlock | undefined>
  /**
   * Calls `listener` after the own chain grew (a transfer's proposal or agreement; checkpoints may be reported too)
   * and returns the unsubscribe. A member that told the facilitators it is idle for the round checkpoints at once
   * then, so the transfer is final a round sooner; without it, it waits for the next certificate.
   */
  onGrown?(listener: () => void): () => void
}

/** A round's finalised transfers as a node applied it: the certificate (with its leaves) and the leaves. */
export interface FinalisedRound {
  readonly round: number
  readonly certificate: CheckpointCertificate
  /** `finalisedLeaf(proposal hash, agreement hash)` of each transfer the round finalised. */
  readonly leaves: readonly Uint8Array[]
}

/** Called with each certificate of the node's own group once applied, and the state it led to. */
export type CertificateListener = (certificate: CheckpointCertificate, state: SolarSystemState) => void

export interface SolarSystemNodeOptions {
  readonly crypto: Crypto
  readonly keyPair: KeyPair
  readonly network: ConsensusNetwork
  readonly clock: Clock
  readonly chain: CheckpointWriter
  readonly genesis: SolarSystemGenesis
  readonly rules: SolarSystemRules
  /** Checks certificate signatures in batches (default: `crypto.verifyMany` in this thread). */
  readonly verifier?: BatchVerifier
  readonly timing?: Partial<SolarSystemTiming>
  readonly limits?: BlockLimits
  /** Payload kinds the members' stretches are checked against (default: transfers). */
  readonly registry?: PayloadRegistry
  /**
   * Rounds whose certificates (with their finalised leaves) are kept in memory, to build agreement proofs and serve
   * catching-up members the leaves (default 256). Older rounds' proofs need the leaves from elsewhere (a journal).
   */
  readonly finalityWindowRounds?: number
  /** Failures of the node itself (a chain that cannot append, say); the node keeps running. */
  readonly onError?: (error: unknown) => void
  /**
   * Certificates this node applied before it stopped (from its own disk), rounds 1, 2, … in order: `start()` checks
   * each against the committee the one before named and applies it without replaying side effects, so a restarted
   * node resumes with its history and memes instead of fetching them all from peers. The first that does not
   * follow or does not verify ends the replay (the rest are fetched from peers as after any gap).
   */
  readonly restore?: readonly CheckpointCertificate[]
  /**
   * Where the facilitator's round inputs are journalled before what they make it send leaves (see
   * round/round-journal.ts): a node started again on the same journal (after a crash, say) resumes the round it was
   * in, sending the same messages again and never a conflicting one. Default: a journal in memory, which carries a
   * round over `stop()` and `start()` of this node object but survives no process.
   */
  readonly roundJournal?: RoundJournal
  /**
   * Rounds up to this one are not facilitated even when the election names this node: for a node restarted without
   * the round journal of its previous process, which does not know what it signed and sent in the rounds it was
   * facilitating; facilitating such a round again could equivocate, and sitting it out counts as one of the t faults
   * the round tolerates. A node with a durable `roundJournal` needs none.
   */
  readonly sitOutThroughRound?: number
  /**
   * The solar system's epoch changes (from the membership the root certified). A node that is not a genesis member
   * may run with one: it follows the certificates and becomes a member at the epoch that admits it.
   */
  readonly epochs?: MemberSchedule
  /**
   * Rounds a member whose chain has not moved goes between checkpoints (default 64; 1 checkpoints every round, as a
   * member with transfers does). In the rounds between it sends an idle notice instead (see checkpoint-cadence.ts).
   * A hierarchy that removes members silent for `silentRounds` membership rounds must see one in time.
   */
  readonly idleCheckpointRounds?: number
  /** Transfers with members of other solar systems (see `CrossSystemOptions`); without it only transfers inside settle. */
  readonly crossSystem?: CrossSystemOptions
}

/**
 * What a member needs to settle transfers across solar systems (see ledger/transfer-ledger.ts): the proposer's system
 * finalises a transfer on the counterparty's signed agreement, the counterparty's credits it on the proposer's
 * system's agreement proof — rooted (checked against the root's committees) or, where the facilitators follow the
 * proposer's system, checked against that system's own history. Each part is optional: a node with neither
 * `rootCommittee` nor `followedHistory` vouches for no credit when it facilitates; one without `answered` never
 * settles its own proposals to other systems (they stay open, the value held, until a void returns it); one with
 * neither `agreementProofOf` nor `rootedProofOf` is never credited what other systems paid it.
 */
export interface CrossSystemOptions {
  /** The root's committees by round (`committeesOf(epochFollower.history)`), to check rooted agreement proofs. */
  readonly rootCommittee?: CommitteeLookup
  /** An own proposal (by its position) with the agreement that answered it, once the node holds it. */
  readonly answered?: (sequenceNumber: number) => Promise<TransactionHalves | undefined>
  /**
   * The rooted agreement proof of a transfer from another solar system that an own agreement answered (the ledger's
   * entry waiting for it), once that system finalised it and the root committed it; undefined until then.
   */
  readonly rootedProofOf?: (waiting: AwaitingAgreement) => Promise<RootedAgreementProof | undefined>
  /**
   * Another solar system's certified history as this node follows it (a `SolarSystemFollower`'s), undefined for one
   * it does not follow. With it, facilitators check a credit against that history instead of a rooted proof, and a
   * member sends its credits in that lighter form: the certificate's group and round instead of the certificate and
   * its path (a busy round's certificate is tens of kilobytes). Members of one network follow alike.
   */
  readonly followedHistory?: (group: string) => CertificateHistory | undefined
  /** With `followedHistory`: the agreement proof of a transfer the ledger waits for, from the proposer's system as followed. */
  readonly agreementProofOf?: (waiting: AwaitingAgreement) => Promise<AgreementProof | undefined>
}

export interface LevelNodeOptions {
  readonly crypto: Crypto
  readonly keyPair: KeyPair
  readonly network: ConsensusNetwork
  readonly clock: Clock
  /** The group this validator belongs to (level >= 1); its members are the group's validators. */
  readonly genesis: SolarSystemGenesis
  /** The groups one level down that the group certifies. */
  readonly children: readonly SolarSystemGenesis[]
  readonly rules: SolarSystemRules
  /** Whether the group certifies membership requests (the root does): validators then take them on `levelProtocols(level).membership`. */
  readonly membership?: boolean
  /** Certificates of one child per input at most (default 16). */
  readonly maxCertificatesPerInput?: number
  /** Checks certificate signatures in batches (default: `crypto.verifyMany` in this thread). */
  readonly verifier?: BatchVerifier
  readonly timing?: Partial<LevelTiming>
  /** Failures of the node itself; the node keeps running. */
  readonly onError?: (error: unknown) => void
}

/** A node's round frames: sent, failed, received, and the messages in them sent and dropped. */
export interface RoundDriverStats {
  readonly framesSent: number
  readonly framesFailed: number
  readonly messagesSent: number
  readonly framesReceived: number
  readonly messagesDropped: number
}

/** How a node followed its group's certificates. */
export interface FollowingStats {
  readonly certificatesRejected: number
  /** Certificates fetched from peers to catch up after falling behind. */
  readonly certificatesFetched: number
}

/** Rounds, frames (`RoundDriverStats`: sent, failed, received, messages sent and dropped) and certificates. */
export interface SolarSystemStats extends RoundDriverStats, FollowingStats {
  readonly roundsCertified: number
  readonly roundsFacilitated: number
}

export interface LevelStats extends SolarSystemStats {
  /** Certificates of the children followed (gossiped or fetched). */
  readonly childCertificates: number
  readonly rangesServed: number
  readonly pathsServed: number
  /** Membership requests taken from nodes (valid, newer than the last certified one of their key; not those passed on by other validators). */
  readonly requestsTaken: number
}
