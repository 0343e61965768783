/**
 * The book of own proposals awaiting an answer, and how answers settle them. An agreement is taken when it answers
 * the very proposal and its signature verifies (one batch per frame); it is stored with the voids of the refused
 * proposals (one store batch), each void carrying the counterparty's signed refusal, so the refused amount comes
 * back. Then each proposal is settled: its `transfer` call, if still waiting, and the `onSettled` listeners hear of
 * it. After a restart, the own proposals with no answer stored go back into the book.
 */
import { equalBytes, fromHex, toHex } from '@constellation/crypto'
import type { PeerId } from '@constellation/interface'
import { createVoid } from '../block/block-builder.js'
import { blockHash, decodeBlock } from '../block/block-encoding.js'
import { type HalfBlock, isAgreement, isProposal } from '../block/half-block.js'
import { transferOf } from '../block/payloads.js'
import { checkRefusal } from '../block/refusal.js'
import { sameContent } from '../validation/validate-block.js'
import type { AnchoredCore } from './anchored-core.js'
import type { SettledTransfer, TransferOutcome } from './anchored-node.js'
import type { Answer } from './exchange-messages.js'
import type { Outboxes } from './outboxes.js'

/** An own proposal awaiting an answer, and the `transfer` calls waiting for it. */
export interface Outstanding {
  readonly proposal: HalfBlock
  readonly counterparty: PeerId
  readonly waiters: ((outcome: TransferOutcome) => void)[]
}

export class OutstandingProposals {
  readonly #core: AnchoredCore
  /** Where proposals wait for a frame to their counterparty. */
  readonly #outboxes: Pick<Outboxes, 'queue' | 'remove' | 'flushAll'>
  /** By sequence number. */
  readonly #outstanding = new Map<number, Outstanding>()
  readonly #settledListeners = new Set<(settled: SettledTransfer) => void>()

  constructor(core: AnchoredCore, outboxes: Pick<Outboxes, 'queue' | 'remove' | 'flushAll'>) {
    this.#core = core
    this.#outboxes = outboxes
  }

  get size(): number {
    return this.#outstanding.size
  }

  add(entry: Outstanding): void {
    this.#outstanding.set(entry.proposal.sequenceNumber, entry)
  }

  onSettled(listener: (settled: SettledTransfer) => void): () => void {
    this.#settledListeners.add(listener)
    return () => this.#settledListeners.delete(listener)
  }

  /** The node stops: waiting `transfer` calls report their proposals pending, and the book is emptied. */
  release(): void {
    for (const entry of this.#outstanding.values()) for (const waiter of entry.waiters.splice(0)) waiter({ status: 'pending', proposal: entry.proposal })
    this.#outstanding.clear()
  }

  /** `peer`'s answers to a frame: agreements taken and stored, refused proposals voided, and all of them settled. */
  async onAnswers(peer: PeerId, answers: readonly Answer[]): Promise<void> {
    const core = this.#core
    const counterparty = fromHex(peer)
    const agreed: { entry: Outstanding; agreement: HalfBlock }[] = []
    const refused: { entry: Outstanding; answer: Extract<Answer, { refusal: Uint8Array }> }[] = []
    for (const answer of answers) {
      const entry = this.#outstanding.get(answer.sequenceNumber)
      if (entry === undefined || entry.counterparty !== peer) continue
      if ('agreement' in answer) {
        let agreement: HalfBlock
        try {
          agreement = decodeBlock(core.crypto, answer.agreement, core.limits)
        } catch {
          continue
        }
        const { proposal } = entry
        if (
          isAgreement(agreement) &&
          equalBytes(agreement.publicKey, counterparty) &&
          equalBytes(agreement.linkPublicKey, core.publicKey) &&
          agreement.linkSequenceNumber === proposal.sequenceNumber &&
          sameContent(proposal, agreement)
        ) {
          agreed.push({ entry, agreement })
        }
      } else if (checkRefusal(core.crypto, { hash: blockHash(core.crypto, entry.proposal), counterparty }, answer.refusal)) {
        refused.push({ entry, answer })
      }
    }
    const verdicts = await core.verify(agreed.map(({ agreement }) => agreement))
    const good = agreed.filter((_, i) => verdicts[i] === true)
    // An agreement at a position where the store holds another block of the counterparty's is a fork of its chain:
    // not stored (the store would refuse the whole batch), the proposal stays pending.
    const held = await core.options.store.getMany(good.map(({ agreement }) => agreement))
    const stored = good.filter(
      (item, i) => held[i] === undefined || equalBytes(blockHash(core.crypto, held[i] as HalfBlock), blockHash(core.crypto, item.agreement)),
    )
    const chain = core.chain()
    const voids = refused.map(({ entry, answer }) =>
      chain.append((head) => createVoid(core.author, head, entry.proposal, { refusal: answer.refusal, timestamp: core.now() })),
    )
    core.stats.voids += voids.length
    if (stored.length + voids.length > 0) await core.persist([...stored.map(({ agreement }) => agreement), ...voids])
    for (const { entry, agreement } of stored) this.#settle(entry, { status: 'agreed', proposal: entry.proposal, agreement })
    refused.forEach(({ entry, answer }, i) =>
      this.#settle(entry, { status: 'refused', proposal: entry.proposal, void: voids[i] as HalfBlock, code: answer.code, reason: answer.reason }),
    )
  }

  /** After a restart: the own proposals of the recent chain with no answer stored (no agreement, no void) go out again. */
  async recover(): Promise<void> {
    const core = this.#core
    const chain = core.chain()
    const recent = await chain.blocks(Math.max(1, chain.head.sequenceNumber - core.maxStretch + 1), chain.head.sequenceNumber)
    const proposals = recent.filter((block) => isProposal(block) && transferOf(block.type, block.payload) !== undefined)
    if (proposals.length === 0) return
    const voided = new Set(recent.filter((block) => block.type === 'void').map((block) => block.linkSequenceNumber))
    const linked = await core.options.store.getLinkedMany(proposals)
    proposals.forEach((proposal, i) => {
      const answered = (linked[i] ?? []).some((block) => equalBytes(block.publicKey, proposal.linkPublicKey))
      if (answered || voided.has(proposal.sequenceNumber)) return
      const counterparty = toHex(proposal.linkPublicKey)
      this.add({ proposal, counterparty, waiters: [] })
      this.#outboxes.queue(counterparty, proposal.sequenceNumber)
    })
    this.#outboxes.flushAll()
  }

  #settle(entry: Outstanding, outcome: SettledTransfer): void {
    const seq = entry.proposal.sequenceNumber
    this.#outstanding.delete(seq)
    this.#outboxes.remove(entry.counterparty, seq)
    for (const waiter of entry.waiters.splice(0)) waiter(outcome)
    for (const listener of this.#settledListeners) {
      try {
        listener(outcome)
      } catch (error) {
        this.#core.report(error)
      }
    }
  }
}
