/**
 * The anchored node assembled: `createAnchoredNode` wires the parts (see `anchored-node.ts`) around one shared core
 * and answers for the node's lifetime — started, it opens the own chain, answers the transfer protocol and sends
 * again the proposals a restart left unanswered; stopped, it stops answering, drops the frames in flight and tells
 * waiting `transfer` calls their proposals are pending.
 */
import { toHex } from '@constellation/crypto'
import { type ChainHead, createCheckpoint } from '../block/block-builder.js'
import { decodeBlock } from '../block/block-encoding.js'
import type { HalfBlock } from '../block/half-block.js'
import { TrustChainError, TrustChainErrorCode } from '../errors.js'
import { createLedger } from '../ledger/block-ledger.js'
import type { IngestOutcome, Ledger } from '../ledger/ledger.js'
import { AnchoredCore } from './anchored-core.js'
import type { AnchoredNode, AnchoredNodeOptions, AnchoredNodeStats, SettledTransfer, TransferOrder, TransferOutcome } from './anchored-node.js'
import { decodeExchangeResponse, encodeExchangeRequest, TRANSFER_PROTOCOL } from './exchange-messages.js'
import { FrameAnswerer } from './frame-answerer.js'
import { Outboxes } from './outboxes.js'
import { OutstandingProposals } from './outstanding-proposals.js'
import { OwnChain } from './own-chain.js'
import { Proposer } from './proposer.js'

export function createAnchoredNode(options: AnchoredNodeOptions): AnchoredNode {
  return new AnchoredNodeShell(options)
}

class AnchoredNodeShell implements AnchoredNode {
  readonly publicKey: Uint8Array
  readonly ledger: Ledger
  readonly #core: AnchoredCore
  readonly #outboxes: Outboxes
  readonly #book: OutstandingProposals
  readonly #proposer: Proposer
  readonly #answerer: FrameAnswerer
  #closeHandler: (() => void) | undefined

  constructor(options: AnchoredNodeOptions) {
    const core = new AnchoredCore(options, () => this.stop())
    this.#core = core
    this.publicKey = core.publicKey
    this.ledger = createLedger({
      crypto: options.crypto,
      store: options.store,
      registry: core.registry,
      limits: core.limits,
      ...(options.verifier === undefined ? {} : { verifier: options.verifier }),
      now: () => core.now(),
      maxClockSkewMs: core.maxClockSkewMs,
    })
    this.#outboxes = new Outboxes(core, (peer, answers) => this.#book.onAnswers(peer, answers))
    this.#book = new OutstandingProposals(core, this.#outboxes)
    this.#proposer = new Proposer(core, this.#book, this.#outboxes)
    this.#answerer = new FrameAnswerer(core)
  }

  get stats(): AnchoredNodeStats {
    return { ...this.#core.stats }
  }

  async start(): Promise<void> {
    const core = this.#core
    if (core.running) return
    core.begin(await OwnChain.open(core.crypto, core.options.store, core.publicKey, core.maxStretch * 2))
    this.#closeHandler = core.options.network.handle(TRANSFER_PROTOCOL, (request) => this.#answerer.onRequest(request.from, request.data))
    await this.#book.recover()
  }

  async stop(): Promise<void> {
    if (!this.#core.running) return
    this.#core.halt()
    this.#closeHandler?.()
    this.#closeHandler = undefined
    this.#outboxes.clear()
    this.#book.release()
    this.#answerer.clear()
    await this.#core.settled()
  }

  transfer(orders: readonly TransferOrder[]): Promise<TransferOutcome[]> {
    return this.#proposer.transfer(orders)
  }

  async checkpoint({ consensusResultHash, round }: { readonly consensusResultHash: Uint8Array; readonly round: number }): Promise<HalfBlock> {
    const core = this.#core
    if (!core.running) throw core.stopped()
    const block = core
      .chain()
      .append((head) => createCheckpoint(core.author, head, { consensusResultHash: Uint8Array.from(consensusResultHash), round, timestamp: core.now() }))
    await core.persist([block])
    return block
  }

  stretch(after: number): Promise<HalfBlock[]> {
    const chain = this.#core.chain()
    return chain.blocks(after + 1, chain.head.sequenceNumber)
  }

  head(): ChainHead {
    return this.#core.chain().head
  }

  available(): number {
    return this.#proposer.available()
  }

  outstanding(): number {
    return this.#book.size
  }

  onSettled(listener: (settled: SettledTransfer) => void): () => void {
    return this.#book.onSettled(listener)
  }

  onAgreed(listener: (transaction: { readonly proposal: HalfBlock; readonly agreement: HalfBlock }) => void): () => void {
    return this.#answerer.onAgreed(listener)
  }

  onGrown(listener: (head: ChainHead) => void): () => void {
    return this.#core.onGrown(listener)
  }

  async fetchRange(peer: Uint8Array, publicKey: Uint8Array, from: number, to: number): Promise<HalfBlock[]> {
    const core = this.#core
    const bytes = await core.options.network.request(toHex(peer), TRANSFER_PROTOCOL, encodeExchangeRequest({ type: 'range', publicKey, from, to }), {
      timeout: core.requestTimeoutMs,
    })
    const response = decodeExchangeResponse(bytes)
    if (response.type !== 'blocks') throw new TrustChainError(TrustChainErrorCode.MALFORMED_MESSAGE, 'the peer did not answer with blocks')
    return response.blocks.map((block) => decodeBlock(core.crypto, block, core.limits))
  }

  async crawl(peer: Uint8Array, publicKey: Uint8Array, from: number, to: number): Promise<IngestOutcome[]> {
    return this.ledger.ingest(await this.fetchRange(peer, publicKey, from, to))
  }
}
