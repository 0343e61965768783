/**
 * Transfers across solar systems, the facilitator side: members' evidence checked on arrival and held as the
 * settlements this facilitator vouches for (see `transfer-ledger.ts` for what they settle).
 *
 * - An **answer** (from a proposer's system): the member's proposal to someone outside the solar system and the
 *   agreement that someone signed. Both signatures are checked, the agreement must answer that proposal (its
 *   position, its counterparty, the same content), and the signer must not be a member. It is held as an `agreed`
 *   settlement; the fold settles it only against the certified proposal at that position, so a forked proposal, or a
 *   proposal not yet certified, settles nothing.
 * - A **credit** (in the counterparty's system): a rooted agreement proof of a transfer from outside, final in the
 *   proposer's system and committed under the root, whose agreement a member here signed. Checked against the root's
 *   committees (`rootCommittee`, from the root's certified history this node follows) and held as a `final`
 *   settlement. Without the root's history a facilitator cannot check credits and vouches for none.
 *
 * Evidence is held for a few rounds, or until the ledger shows the transfer settled: members send it to each round's
 * facilitators again while it waits, so nothing depends on one facilitator keeping it.
 */
import { type Crypto, equalBytes, toHex } from '@constellation/crypto'
import { type BlockLimits, blockHash, decodeBlock, type HalfBlock, isAgreement, isProposal, sameContent } from '@constellation/trustchain'
import type { CommitteeLookup } from '../finality/agreement-proof.js'
import { decodeAgreementProof } from '../finality/agreement-proof.js'
import { checkRootedAgreementProof, decodeFinalityPath } from '../hierarchy/finality-path.js'
import { type ForeignSettlement, proposalKey } from '../ledger/transfer-ledger.js'
import type { BatchVerifier } from '../round/certificate.js'
import { MAX_SETTLEMENTS_PER_PROPOSAL } from '../round/checkpoint-pool.js'
import type { SolarSystemState } from '../round/solar-system.js'
import type { SettlementEvidence } from './wire.js'

/** Rounds a settlement is held without the ledger showing its entry (the proposal may not be certified yet). */
const HOLD_ROUNDS = 8
/** Settlements held at most (each about 150 bytes). */
const MAX_HELD = 16_384

interface Held {
  readonly settlement: ForeignSettlement
  /** The round (the state's) when it was last offered or found waiting. */
  lastOffered: number
  /** Whether the ledger was seen waiting for it: once it no longer does, it is settled (or voided) and goes. */
  seenWaiting: boolean
}

export interface SettlementEvidenceOptions {
  readonly crypto: Crypto
  readonly limits: BlockLimits
  readonly verifier: BatchVerifier | undefined
  /** The root's committees by round, to check rooted agreement proofs (undefined: credits are not checked). */
  readonly rootCommittee: CommitteeLookup | undefined
}

export class SettlementEvidenceBook {
  readonly #options: SettlementEvidenceOptions
  /** By kind and proposal position. */
  readonly #held = new Map<string, Held>()

  constructor(options: SettlementEvidenceOptions) {
    this.#options = options
  }

  get size(): number {
    return this.#held.size
  }

  /** Checks a member's evidence against `state` and holds what holds; returns how many settlements it took. */
  async take(state: SolarSystemState, evidence: SettlementEvidence): Promise<number> {
    let taken = 0
    const answers: { proposal: HalfBlock; agreement: HalfBlock }[] = []
    for (const [proposalBytes, agreementBytes] of evidence.answers) {
      const pair = this.#decodePair(proposalBytes, agreementBytes)
      if (pair !== undefined && answersFromOutside(state, pair.proposal, pair.agreement)) answers.push(pair)
    }
    if (answers.length > 0) {
      const verdicts = await this.#verify(answers.flatMap(({ proposal, agreement }) => [proposal, agreement]))
      answers.forEach(({ proposal, agreement }, i) => {
        if (verdicts[2 * i] && verdicts[2 * i + 1] && this.#hold(state, 'agreed', proposal, agreement)) taken++
      })
    }
    const rootCommittee = this.#options.rootCommittee
    if (rootCommittee === undefined) return taken
    for (const credit of evidence.credits) {
      let rooted: Parameters<typeof checkRootedAgreementProof>[1]
      try {
        rooted = { proof: decodeAgreementProof(this.#options.crypto, credit.proof, this.#options.limits), paths: credit.paths.map(decodeFinalityPath) }
      } catch {
        continue
      }
      const { proposal, agreement, certificate } = rooted.proof
      const { body } = certificate.result
      // A member's agreement to a proposal from another solar system, finalised there.
      if (!state.members.has(toHex(agreement.publicKey)) || state.members.has(toHex(proposal.publicKey))) continue
      if (body.level !== state.genesis.level || body.group === state.genesis.group) continue
      const why = await checkRootedAgreementProof(this.#options.crypto, rooted, rootCommittee, this.#options.verifier).catch(() => 'unchecked')
      if (why === undefined && this.#hold(state, 'final', proposal, agreement)) taken++
    }
    return taken
  }

  /**
   * The settlements to propose in the round after `state`: those whose ledger entry waits for them, and those held
   * only a few rounds whose entry may come with the round (a proposal certified in it). Settled or stale ones go.
   */
  toPropose(state: SolarSystemState): ForeignSettlement[] {
    const chosen: ForeignSettlement[] = []
    for (const [key, held] of this.#held) {
      const { settlement } = held
      const position = proposalKey(settlement.proposer, settlement.sequenceNumber)
      const waiting =
        settlement.kind === 'agreed'
          ? equalBytes(state.ledger.open.get(position)?.hash ?? EMPTY, settlement.proposal)
          : equalBytes(state.ledger.awaiting.get(position)?.hash ?? EMPTY, settlement.agreement)
      if (!waiting && (held.seenWaiting || state.round - held.lastOffered > HOLD_ROUNDS)) {
        this.#held.delete(key)
        continue
      }
      if (waiting) {
        held.lastOffered = state.round
        held.seenWaiting = true
      }
      if (chosen.length < MAX_SETTLEMENTS_PER_PROPOSAL) chosen.push(settlement)
    }
    return chosen
  }

  #hold(state: SolarSystemState, kind: ForeignSettlement['kind'], proposal: HalfBlock, agreement: HalfBlock): boolean {
    const { crypto } = this.#options
    const proposer = toHex(proposal.publicKey)
    const key = `${kind}/${proposalKey(proposer, proposal.sequenceNumber)}`
    const held = this.#held.get(key)
    if (held !== undefined) {
      held.lastOffered = state.round
      return false
    }
    if (this.#held.size >= MAX_HELD) return false
    const settlement: ForeignSettlement = {
      kind,
      proposer,
      sequenceNumber: proposal.sequenceNumber,
      proposal: blockHash(crypto, proposal),
      agreement: blockHash(crypto, agreement),
    }
    this.#held.set(key, { settlement, lastOffered: state.round, seenWaiting: false })
    return true
  }

  #decodePair(proposalBytes: Uint8Array, agreementBytes: Uint8Array): { proposal: HalfBlock; agreement: HalfBlock } | undefined {
    try {
      return {
        proposal: decodeBlock(this.#options.crypto, proposalBytes, this.#options.limits),
        agreement: decodeBlock(this.#options.crypto, agreementBytes, this.#options.limits),
      }
    } catch {
      return undefined
    }
  }

  async #verify(blocks: readonly HalfBlock[]): Promise<readonly boolean[]> {
    const { crypto, verifier } = this.#options
    const items = blocks.map((block) => ({ publicKey: block.publicKey, message: blockHash(crypto, block), signature: block.signature }))
    return verifier === undefined ? crypto.verifyMany(items) : await verifier(items)
  }
}

const EMPTY = new Uint8Array(0)

/** Whether `agreement` answers `proposal`, a member's proposal to someone outside the solar system. */
function answersFromOutside(state: SolarSystemState, proposal: HalfBlock, agreement: HalfBlock): boolean {
  return (
    isProposal(proposal) &&
    isAgreement(agreement) &&
    state.members.has(toHex(proposal.publicKey)) &&
    !state.members.has(toHex(agreement.publicKey)) &&
    equalBytes(agreement.publicKey, proposal.linkPublicKey) &&
    equalBytes(agreement.linkPublicKey, proposal.publicKey) &&
    agreement.linkSequenceNumber === proposal.sequenceNumber &&
    sameContent(proposal, agreement)
  )
}
