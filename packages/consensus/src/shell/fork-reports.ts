/**
 * Forks of a proposer's chain, found and proven: the counterparty side and the facilitator side.
 *
 * A proposer that forks its chain shows one branch to one counterparty and another branch to another (or to the
 * facilitators). Nobody sees both: the facilitators check and certify the branch the proposer submits, and a
 * counterparty that answered a proposal of the other branch is credited nothing (the ledger settles the certified
 * proposal at that position only). That counterparty is the one that can tell: once both its agreement and the
 * proposer's chain past the proposal are certified and the transfer is still not final, the proposal it answered is
 * not the one certified there. It then reports the proposal it holds, signed by the proposer, to the facilitators.
 *
 * A facilitator keeps the proposals of the stretches it checked (bounded, newest kept): holding the certified block
 * at the reported position, it has two different blocks the member signed for one position, a self-contained fraud
 * proof, which it proposes in its next round; the fold records it and docks the member's meme, once per position.
 */
import { type Crypto, toHex } from '@constellation/crypto'
import { blockHash, createFraudProof, encodeFraudProof, type HalfBlock, isAgreement, isProposal, type BlockLimits } from '@constellation/trustchain'
import { MAX_FRAUDS_PER_PROPOSAL } from '../round/checkpoint-pool.js'
import { fraudPosition, type SolarSystemState } from '../round/solar-system.js'
import { remember } from './bounded-map.js'

/** Proposals of checked stretches a facilitator keeps to hold against reports (about 0.3 KB each). */
const MAX_SEEN_PROPOSALS = 131_072
/** Own agreements a member watches until they are final. */
const MAX_WATCHED_ANSWERS = 65_536
/** Submissions a reported proposal rides along with (a facilitator may miss one, or not facilitate). */
const REPORT_SUBMISSIONS = 3
/** Reports one submission carries at most. */
export const MAX_REPORTS_PER_SUBMISSION = 16

/** The facilitator side: proposals seen in checked stretches, reports held against them, fraud proofs to propose. */
export class ForkEvidence {
  readonly #crypto: Crypto
  readonly #limits: BlockLimits
  readonly #seen = new Map<string, HalfBlock>()
  /** Fraud proofs (encoded) to propose, by position. */
  readonly #frauds = new Map<string, Uint8Array>()

  constructor(crypto: Crypto, limits: BlockLimits) {
    this.#crypto = crypto
    this.#limits = limits
  }

  /**
   * Blocks of a stretch this node checked (signatures included): their proposals are kept. A member that showed
   * this node two different blocks for one position has forked, and is proven to.
   */
  noteChecked(blocks: readonly HalfBlock[]): void {
    for (const block of blocks) {
      if (!isProposal(block)) continue
      const key = fraudPosition(toHex(block.publicKey), block.sequenceNumber)
      const held = this.#seen.get(key)
      if (held !== undefined && toHex(blockHash(this.#crypto, held)) !== toHex(blockHash(this.#crypto, block))) this.#prove(key, held, block)
      else remember(this.#seen, key, block, MAX_SEEN_PROPOSALS)
    }
  }

  /**
   * A counterparty's report: the proposal it answered. When this node holds another block the member signed at
   * that position, the report's signature is checked and the two make a fraud proof. Returns whether it did.
   */
  takeReport(state: SolarSystemState, block: HalfBlock): boolean {
    const member = toHex(block.publicKey)
    const key = fraudPosition(member, block.sequenceNumber)
    if (!state.members.has(member) || state.provenFrauds.has(key) || this.#frauds.has(key)) return false
    const held = this.#seen.get(key)
    if (held === undefined || toHex(blockHash(this.#crypto, held)) === toHex(blockHash(this.#crypto, block))) return false
    if (!this.#crypto.verify(block.signature, blockHash(this.#crypto, block), block.publicKey)) return false
    this.#prove(key, held, block)
    return true
  }

  /** The fraud proofs to propose in the round after `state.round`: not yet recorded, at most a proposal's worth. */
  toPropose(state: SolarSystemState): Uint8Array[] {
    for (const key of [...this.#frauds.keys()]) if (state.provenFrauds.has(key) || !state.members.has(key.slice(0, key.indexOf('/')))) this.#frauds.delete(key)
    return [...this.#frauds.values()].slice(0, MAX_FRAUDS_PER_PROPOSAL)
  }

  #prove(key: string, a: HalfBlock, b: HalfBlock): void {
    if (this.#frauds.size >= 4 * MAX_FRAUDS_PER_PROPOSAL) return
    this.#frauds.set(key, encodeFraudProof(createFraudProof(this.#crypto, 'double-sign', a, b), this.#limits))
  }
}

/**
 * The counterparty side: own agreements watched until final. After each round, an agreement whose own chain and
 * whose proposer's chain are both certified past it, and that is still not final, answered a proposal the
 * proposer's certified chain does not hold: a fork, to report.
 */
export class AnswerWatch {
  readonly #crypto: Crypto
  /** Own agreements by the agreement's hash (hex). */
  readonly #watched = new Map<string, HalfBlock>()
  /** Proposals to report, with the submissions left to carry each. */
  readonly #reports = new Map<string, { readonly proposal: HalfBlock; left: number }>()

  constructor(crypto: Crypto) {
    this.#crypto = crypto
  }

  /** Own blocks about to be submitted: their agreements are watched. */
  noteOwn(blocks: readonly HalfBlock[]): void {
    for (const block of blocks) if (isAgreement(block)) remember(this.#watched, toHex(blockHash(this.#crypto, block)), block, MAX_WATCHED_ANSWERS)
  }

  /** A round's finalised leaves (proposal hash, then agreement hash): those agreements are done. */
  noteFinal(leaves: readonly Uint8Array[]): void {
    if (this.#watched.size === 0) return
    for (const leaf of leaves) this.#watched.delete(toHex(leaf.subarray(32)))
  }

  /**
   * After a round applied to `state` (and its leaves noted): the agreements both of whose halves' chains are
   * certified past them and are still not final, taken off the watch list.
   */
  suspects(state: SolarSystemState, self: string): HalfBlock[] {
    const own = state.lastCheckpoints.get(self)?.entry.sequenceNumber ?? 0
    const out: HalfBlock[] = []
    for (const [hash, agreement] of this.#watched) {
      if (agreement.sequenceNumber > own) continue
      const proposer = toHex(agreement.linkPublicKey)
      const covered = state.lastCheckpoints.get(proposer)?.entry.sequenceNumber ?? 0
      if (agreement.linkSequenceNumber > covered) continue
      this.#watched.delete(hash)
      out.push(agreement)
    }
    return out
  }

  /** A proposal an own agreement answered, found on the wrong side of a fork: reported with the next submissions. */
  report(proposal: HalfBlock): void {
    const key = fraudPosition(toHex(proposal.publicKey), proposal.sequenceNumber)
    if (!this.#reports.has(key)) this.#reports.set(key, { proposal, left: REPORT_SUBMISSIONS })
  }

  /** Whether reports wait to be attached to a submission. */
  get reporting(): boolean {
    return this.#reports.size > 0
  }

  /** The reports to attach to the next submission (each counts down once per submission round). */
  nextReports(): HalfBlock[] {
    const out: HalfBlock[] = []
    for (const [key, report] of this.#reports) {
      if (out.length === MAX_REPORTS_PER_SUBMISSION) break
      out.push(report.proposal)
      if (--report.left === 0) this.#reports.delete(key)
    }
    return out
  }
}
