/**
 * Anchors: where a chain's checked history ends, as a consensus certified it.
 *
 * With checkpoint consensus, facilitators check the stretch of a member's chain that its checkpoint covers before
 * they certify it, so a certified checkpoint vouches for the chain up to it: its position, its hash and the running
 * balance it records. A counterparty then checks only the proposer's blocks after that anchor, never the whole
 * history. How much of the balance may be spent is the consensus's to say too (`spendable`): value a chain received
 * counts once the transfer that brought it is final, so a proposer can never spend what a fork or an unanswered
 * proposal might take back.
 *
 * This package only defines the shape; the consensus package answers it (`CertifiedAnchors`) from its certified
 * state, and a test or a custom node may answer it from anything it trusts.
 */
import { ZERO_HASH } from '../block/half-block.js'

export interface ChainAnchor {
  /** The certified checkpoint's sequence number; 0 for a chain with none yet (its stretch starts at block 1). */
  readonly sequenceNumber: number
  /** Its hash (the zero hash for 0). */
  readonly hash: Uint8Array
  /** The running balance the chain records there (for 0: the opening balance its genesis block must state). */
  readonly balance: number
}

export interface CertifiedAnchor extends ChainAnchor {
  /** What the chain may spend after the anchor: the certified balance without value not yet final. */
  readonly spendable: number
  /** The certified round this anchor is from. */
  readonly round: number
}

/** The certified anchors a node knows, from the latest certified round it applied. */
export interface CertifiedAnchors {
  /** The latest certified round known (anchors speak for it). */
  round(): number
  /** The chain's anchor, or undefined for a chain the consensus does not follow (not a member). */
  anchorOf(publicKey: Uint8Array): CertifiedAnchor | undefined
  /**
   * The latest certified round known of the consensus that certifies `publicKey`'s chain, when the anchors speak for
   * several (a node's own solar system and the others it follows, each with its own rounds); default `round()`.
   */
  roundOf?(publicKey: Uint8Array): number
}

/** The anchor of a chain with no certified checkpoint yet that opens with `balance`. */
export function openingAnchor(balance: number, round = 0): CertifiedAnchor {
  return { sequenceNumber: 0, hash: ZERO_HASH, balance, spendable: balance, round }
}
