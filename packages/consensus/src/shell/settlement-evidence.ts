/**
 * Transfers across solar systems, the facilitator side: members' evidence checked on arrival and held as the
 * settlements this facilitator vouches for (see `transfer-ledger.ts` for what they settle).
 *
 * - An **answer** (from a proposer's system): the member's proposal to someone outside the solar system and the
 *   agreement that someone signed. Both signatures are checked, the agreement must answer that proposal (its
 *   position, its counterparty, the same content), and the signer must not be a member. It is held as an `agreed`
 *   settlement; the fold settles it only against the certified proposal at that position, so a forked proposal, or a
 *   proposal not yet certified, settles nothing.
 * - A **credit** (in the counterparty's system): an agreement proof of a transfer from outside, final in the
 *   proposer's system, whose agreement a member here signed — rooted (the certificate with the path that commits it
 *   under the root, checked against the root's committees, `rootCommittee`) or, when this node follows the proposer's
 *   system (`followedHistory`), named by the certificate's round and checked against that history. Held as a
 *   `final` settlement. Without either a facilitator cannot check credits and vouches for none.
 *
 * Only evidence the ledger waits for is held, and only while it waits: members send it to each new facilitator (and
 * again to one that did not take it), so nothing depends on one facilitator keeping it.
 */
import { type Crypto, equalBytes, type SignedMessage, toHex } from '@constellation/crypto'
import { type BlockLimits, blockHash, decodeBlock, type HalfBlock, isAgreement, isProposal, sameContent } from '@constellation/trustchain'
import { type AgreementProof, checkAgreementProof, type CommitteeLookup, committeesOf } from '../finality/agreement-proof.js'
import type { CertificateHistory } from '../finality/certificate-history.js'
import { checkRootedAgreementProof, decodeFinalityPath, type FinalityPath } from '../hierarchy/finality-path.js'
import { type ForeignSettlement, proposalKey } from '../ledger/transfer-ledger.js'
import type { BatchVerifier } from '../round/certificate.js'
import { MAX_SETTLEMENTS_PER_PROPOSAL } from '../round/checkpoint-pool.js'
import type { SolarSystemState } from '../round/solar-system.js'
import type { SettlementEvidence } from './wire.js'

/** Settlements held at most (each about 150 bytes); only those the ledger waits for are held at all. */
const MAX_HELD = 16_384
/** Verified signatures remembered (certificates recur: many transfers settle under one). */
const MAX_REMEMBERED_SIGNATURES = 4_096

export interface SettlementEvidenceOptions {
  readonly crypto: Crypto
  readonly limits: BlockLimits
  readonly verifier: BatchVerifier | undefined
  /** The root's committees by round, to check rooted agreement proofs (undefined: rooted credits are not checked). */
  readonly rootCommittee: CommitteeLookup | undefined
  /** Other solar systems' histories as this node follows them (see `CrossSystemOptions.followedHistory`). */
  readonly followedHistory?: ((group: string) => CertificateHistory | undefined) | undefined
}

export class SettlementEvidenceBook {
  readonly #options: SettlementEvidenceOptions
  /** By kind and proposal position. */
  readonly #held = new Map<string, ForeignSettlement>()
  /** Checks signatures, each valid one once: the certificates of many credits are the same few. */
  readonly #verifier: BatchVerifier

  constructor(options: SettlementEvidenceOptions) {
    this.#options = options
    this.#verifier = rememberingVerifier(options.crypto, options.verifier)
  }

  get size(): number {
    return this.#held.size
  }

  /**
   * Checks `from`'s evidence against `state` and holds what holds; returns, per piece in the message's order (its
   * answers, then the transfers of its rooted credits, then those of its followed credits), whether this node holds it
   * now (taken now or before). Only what the ledger waits for is looked at — an answer to `from`'s own open proposal,
   * a credit for `from`'s own waiting agreement — and that cheap check comes before any signature.
   */
  async take(state: SolarSystemState, from: string, evidence: SettlementEvidence): Promise<boolean[]> {
    const { crypto } = this.#options
    const held: boolean[] = []
    const answers: { index: number; proposal: HalfBlock; agreement: HalfBlock }[] = []
    for (const [proposalBytes, agreementBytes] of evidence.answers) {
      const index = held.push(false) - 1
      const pair = this.#decodePair(proposalBytes, agreementBytes)
      if (pair === undefined || toHex(pair.proposal.publicKey) !== from) continue
      const { proposal, agreement } = pair
      const open = state.ledger.open.get(proposalKey(from, proposal.sequenceNumber))
      if (open === undefined || !equalBytes(open.hash, blockHash(crypto, proposal))) continue
      if (this.#holds('agreed', proposal, agreement)) held[index] = true
      else if (answersFromOutside(state, proposal, agreement)) answers.push({ index, ...pair })
    }
    if (answers.length > 0) {
      const verdicts = await this.#verifier(answers.flatMap(({ proposal, agreement }) => [signed(crypto, proposal), signed(crypto, agreement)]))
      answers.forEach(({ index, proposal, agreement }, i) => {
        held[index] = verdicts[2 * i] === true && verdicts[2 * i + 1] === true && this.#hold('agreed', proposal, agreement)
      })
    }
    // A credit: the member's waiting agreement, and the proposer's system's agreement proof of the transfer (checked
    // by `check`, undefined when this node cannot check it).
    const credit = async (
      transfer: SettlementEvidence['credits'][number]['transfers'][number],
      check: ((halves: Pick<AgreementProof, 'proposal' | 'agreement' | 'path'>) => Promise<string | undefined>) | undefined,
    ): Promise<boolean> => {
      const pair = this.#decodePair(transfer.proposal, transfer.agreement)
      if (pair === undefined || toHex(pair.agreement.publicKey) !== from) return false
      const { proposal, agreement } = pair
      const waiting = state.ledger.awaiting.get(proposalKey(toHex(proposal.publicKey), proposal.sequenceNumber))
      if (waiting === undefined || !equalBytes(waiting.hash, blockHash(crypto, agreement))) return false
      if (this.#holds('final', proposal, agreement)) return true
      if (check === undefined || state.members.has(toHex(proposal.publicKey))) return false
      const why = await check({ proposal, agreement, path: transfer.leaf }).catch(() => 'unchecked')
      return why === undefined && this.#hold('final', proposal, agreement)
    }
    const { rootCommittee, followedHistory } = this.#options
    for (const group of evidence.credits) {
      let path: FinalityPath | undefined
      try {
        path = decodeFinalityPath(group.path)
      } catch {
        path = undefined
      }
      const certificate = path?.certificate
      // Finalised in another solar system of this level, rooted one level up.
      const usable =
        path !== undefined &&
        certificate !== undefined &&
        rootCommittee !== undefined &&
        certificate.result.body.level === state.genesis.level &&
        certificate.result.body.group !== state.genesis.group
      // The certificate's and the root's signatures are checked once for all the transfers under them.
      const check = usable
        ? (proof: Pick<AgreementProof, 'proposal' | 'agreement' | 'path'>) =>
            checkRootedAgreementProof(crypto, { proof: { ...proof, certificate }, paths: [path as FinalityPath] }, rootCommittee, this.#verifier)
        : undefined
      for (const transfer of group.transfers) held.push(await credit(transfer, check))
    }
    for (const group of evidence.followedCredits) {
      // Another system of this level, as this node follows it: its certificate of that round, checked already.
      const history = group.group === state.genesis.group ? undefined : followedHistory?.(group.group)
      const certificate = history?.genesis.level === state.genesis.level ? history.certificate(group.round) : undefined
      const committees = history === undefined ? undefined : committeesOf(history)
      const check =
        certificate === undefined || committees === undefined
          ? undefined
          : (proof: Pick<AgreementProof, 'proposal' | 'agreement' | 'path'>) =>
              checkAgreementProof(crypto, { ...proof, certificate }, committees, this.#verifier)
      for (const transfer of group.transfers) held.push(await credit(transfer, check))
    }
    return held
  }

  /** The settlements to propose in the round after `state`: those the ledger waits for. Settled ones go. */
  toPropose(state: SolarSystemState): ForeignSettlement[] {
    const chosen: ForeignSettlement[] = []
    for (const [key, settlement] of this.#held) {
      const position = proposalKey(settlement.proposer, settlement.sequenceNumber)
      const waiting =
        settlement.kind === 'agreed'
          ? equalBytes(state.ledger.open.get(position)?.hash ?? EMPTY, settlement.proposal)
          : equalBytes(state.ledger.awaiting.get(position)?.hash ?? EMPTY, settlement.agreement)
      if (!waiting) {
        this.#held.delete(key)
        continue
      }
      if (chosen.length < MAX_SETTLEMENTS_PER_PROPOSAL) chosen.push(settlement)
    }
    return chosen
  }

  /** Whether this settlement is held already. */
  #holds(kind: ForeignSettlement['kind'], proposal: HalfBlock, agreement: HalfBlock): boolean {
    const held = this.#held.get(`${kind}/${proposalKey(toHex(proposal.publicKey), proposal.sequenceNumber)}`)
    return held !== undefined && equalBytes(held.agreement, blockHash(this.#options.crypto, agreement))
  }

  #hold(kind: ForeignSettlement['kind'], proposal: HalfBlock, agreement: HalfBlock): boolean {
    const { crypto } = this.#options
    const proposer = toHex(proposal.publicKey)
    const key = `${kind}/${proposalKey(proposer, proposal.sequenceNumber)}`
    if (this.#held.size >= MAX_HELD && !this.#held.has(key)) return false
    this.#held.set(key, {
      kind,
      proposer,
      sequenceNumber: proposal.sequenceNumber,
      proposal: blockHash(crypto, proposal),
      agreement: blockHash(crypto, agreement),
    })
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
}

const signed = (crypto: Crypto, block: HalfBlock): SignedMessage => ({
  publicKey: block.publicKey,
  message: blockHash(crypto, block),
  signature: block.signature,
})

/** A verifier that remembers the signatures it found valid (bounded, oldest forgotten first) and checks only the rest. */
function rememberingVerifier(crypto: Crypto, verifier: BatchVerifier | undefined): BatchVerifier {
  const valid = new Set<string>()
  const keyOf = (item: SignedMessage) => `${toHex(item.publicKey)}/${toHex(item.message)}/${toHex(item.signature)}`
  return async (items) => {
    const keys = items.map(keyOf)
    const unknown = keys.flatMap((key, i) => (valid.has(key) ? [] : [i]))
    const checked = unknown.map((i) => items[i] as SignedMessage)
    const verdicts = checked.length === 0 ? [] : verifier === undefined ? crypto.verifyMany(checked) : await verifier(checked)
    const out: boolean[] = keys.map(() => true)
    unknown.forEach((i, j) => {
      const ok = verdicts[j] === true
      out[i] = ok
      if (!ok) return
      if (valid.size >= MAX_REMEMBERED_SIGNATURES) valid.delete(valid.values().next().value as string)
      valid.add(keys[i] as string)
    })
    return out
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
