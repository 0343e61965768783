/**
 * The proposer side of the anchored node: `transfer(orders)`. Each order is checked before anything is signed
 * (a counterparty that is a member, a positive amount, room under the node's bounds, and what the chain may still
 * spend: the certified spendable balance of its anchor minus what it paid since); the proposals are signed on the
 * own chain, stored in one batch before anyone hears of them (a proposal sent but lost in a crash would leave a hole
 * in the chain), and queued for their counterparties' next frames. The call waits for the answers up to
 * `answerTimeoutMs`, then reports the proposals still unanswered as pending.
 */
import { equalBytes, toHex } from '@constellation/crypto'
import type { PeerId } from '@constellation/interface'
import { createProposal, transferPayload } from '../block/block-builder.js'
import { type HalfBlock, isProposal } from '../block/half-block.js'
import { MAX_REFERENCE_BYTES, transferOf } from '../block/payloads.js'
import { TrustChainError, TrustChainErrorCode } from '../errors.js'
import type { AnchoredCore } from './anchored-core.js'
import type { TransferOrder, TransferOutcome } from './anchored-node.js'
import type { Outboxes } from './outboxes.js'
import type { Outstanding, OutstandingProposals } from './outstanding-proposals.js'

export class Proposer {
  readonly #core: AnchoredCore
  readonly #book: OutstandingProposals
  readonly #outboxes: Outboxes
  /** Own debits after the own anchor: `{anchor, spent}` for the anchor they were summed from, up to `through`. */
  #spent = { anchor: -1, through: 0, spent: 0 }

  constructor(core: AnchoredCore, book: OutstandingProposals, outboxes: Outboxes) {
    this.#core = core
    this.#book = book
    this.#outboxes = outboxes
  }

  /** What the own chain may still spend: the certified spendable balance minus what it paid since its anchor. */
  available(): number {
    const anchor = this.#core.options.anchors.anchorOf(this.#core.publicKey)
    if (anchor === undefined) return 0
    return anchor.spendable - this.#spentSince(anchor.sequenceNumber)
  }

  async transfer(orders: readonly TransferOrder[]): Promise<TransferOutcome[]> {
    const core = this.#core
    const outcomes: (TransferOutcome | undefined)[] = new Array(orders.length).fill(undefined)
    if (!core.running) return orders.map(() => ({ status: 'rejected', error: core.stopped() }))
    const chain = core.chain()
    const { anchors } = core.options
    const anchor = anchors.anchorOf(core.publicKey)
    const now = core.now()
    const signed: { index: number; proposal: HalfBlock; counterparty: PeerId }[] = []
    const reject = (index: number, code: TrustChainErrorCode, message: string, detail: Record<string, unknown> = {}) => {
      outcomes[index] = { status: 'rejected', error: new TrustChainError(code, message, detail) }
    }
    for (const [index, order] of orders.entries()) {
      const to = order?.to
      if (!(to instanceof Uint8Array) || to.length !== 32) {
        reject(index, TrustChainErrorCode.INVALID_INPUT, 'the counterparty must be a 32-byte public key')
        continue
      }
      if (equalBytes(to, core.publicKey)) {
        reject(index, TrustChainErrorCode.INVALID_INPUT, 'a chain cannot transfer to itself')
        continue
      }
      if (!(Number.isSafeInteger(order.amount) && order.amount >= 1)) {
        reject(index, TrustChainErrorCode.INVALID_INPUT, `a transfer amount must be a positive safe integer, got ${String(order.amount)}`)
        continue
      }
      if (order.reference !== undefined && !(order.reference instanceof Uint8Array && order.reference.length <= MAX_REFERENCE_BYTES)) {
        reject(index, TrustChainErrorCode.INVALID_INPUT, `a transfer reference is at most ${MAX_REFERENCE_BYTES} bytes`)
        continue
      }
      if (anchor === undefined) {
        reject(index, TrustChainErrorCode.INVALID_INPUT, 'this chain has no certified anchor: it is not a member of the consensus')
        continue
      }
      // Its half could never be certified, so the transfer could never become final.
      if (anchors.anchorOf(to) === undefined) {
        reject(index, TrustChainErrorCode.INVALID_INPUT, `${toHex(to)} is not a member of the consensus`)
        continue
      }
      if (this.#book.size + signed.length >= core.maxOutstanding) {
        reject(index, TrustChainErrorCode.BUSY, 'too many proposals are waiting for an answer', { retryAfterMs: 1_000 })
        continue
      }
      if (chain.head.sequenceNumber - anchor.sequenceNumber >= core.maxStretch) {
        reject(index, TrustChainErrorCode.BUSY, 'too many blocks are waiting for a certified checkpoint', { retryAfterMs: 1_000 })
        continue
      }
      const available = anchor.spendable - this.#spentSince(anchor.sequenceNumber)
      if (order.amount > available || order.amount > chain.head.balance) {
        reject(index, TrustChainErrorCode.INSUFFICIENT_FUNDS, `cannot transfer ${order.amount}: ${Math.max(0, available)} may be spent now`, {
          available: Math.max(0, available),
        })
        continue
      }
      const proposal = chain.append((head) =>
        createProposal(core.author, head, { counterparty: to, payload: transferPayload(head, order.amount, order.reference), timestamp: now }),
      )
      signed.push({ index, proposal, counterparty: toHex(to) })
    }
    if (signed.length === 0) return outcomes as TransferOutcome[]
    core.stats.proposalsSigned += signed.length
    await core.persist(signed.map((entry) => entry.proposal))
    const waits = signed.map(({ index, proposal, counterparty }) => {
      const entry: Outstanding = { proposal, counterparty, waiters: [] }
      this.#book.add(entry)
      this.#outboxes.queue(counterparty, proposal.sequenceNumber)
      return new Promise<void>((resolve) => {
        const timer = core.after(core.answerTimeoutMs, () => {
          outcomes[index] ??= { status: 'pending', proposal }
          resolve()
        })
        entry.waiters.push((outcome) => {
          timer.cancel()
          outcomes[index] ??= outcome
          resolve()
        })
      })
    })
    for (const counterparty of new Set(signed.map((entry) => entry.counterparty))) void this.#outboxes.flush(counterparty)
    await Promise.all(waits)
    return outcomes as TransferOutcome[]
  }

  /** The sum of the own debits after `anchor` (kept incrementally: a new anchor starts it again). */
  #spentSince(anchor: number): number {
    const chain = this.#core.chain()
    if (this.#spent.anchor !== anchor) this.#spent = { anchor, through: anchor, spent: 0 }
    for (let seq = this.#spent.through + 1; seq <= chain.head.sequenceNumber; seq++) {
      const block = chain.recent(seq)
      if (block === undefined) continue // older than the window: a stretch that long is refused anyway
      const moved = isProposal(block) ? transferOf(block.type, block.payload) : undefined
      if (moved !== undefined) this.#spent.spent += moved.amount
    }
    this.#spent.through = chain.head.sequenceNumber
    return this.#spent.spent
  }
}
