/**
 * The anchored TrustChain node: transfers whose cost is a few signature checks, not the network's history.
 *
 * It needs a consensus that certifies checkpoints (`CertifiedAnchors`): a certified checkpoint vouches for its
 * chain up to it, so a counterparty checks only the proposer's blocks after it. The data flow, per counterparty:
 *
 *   proposer                                           counterparty
 *   transfer(orders) -> checks what it may spend, signs
 *   the proposals, stores them (one batch)
 *   frame: its blocks after its anchor the counterparty  -> readFrame: hash links from the anchor, balances, what the
 *   lacks, up to its last proposal to it (one frame         proposer may still spend; verifies the proposals to it
 *   per counterparty in flight; the rest wait and go        (one batch); signs agreements or refusals; stores the
 *   together in the next)                                   proposals and its agreements (one batch)
 *   answers: verifies the agreements (one batch) and     <- answers
 *   stores them; voids each refused proposal with the
 *   counterparty's refusal, so the amount comes back
 *
 * Nothing crawls on this path. A transfer is `agreed`, `refused` (voided: nothing moved), `pending` (no answer within
 * `answerTimeoutMs`: it is retried until answered, and may still be agreed) or `rejected` before anything was signed
 * (an overdraft, a bad order, or `BUSY` at a bound with a retry hint). Finality is the consensus's: both halves in
 * certified stretches.
 */
import { type Crypto, equalBytes, fromHex, type KeyPair, type SignedMessage, toHex } from '@constellation/crypto'
import type { CertifiedAnchors } from '../anchor/chain-anchor.js'
import type { StretchTail } from '../anchor/stretch.js'
import { type ChainHead, createAgreement, createCheckpoint, createProposal, createVoid, transferPayload } from '../block/block-builder.js'
import { type BlockLimits, blockHash, decodeBlock, DEFAULT_BLOCK_LIMITS, encodeBlock } from '../block/block-encoding.js'
import { type HalfBlock, isAgreement, isProposal } from '../block/half-block.js'
import { MAX_REFERENCE_BYTES, PayloadRegistry, transferOf } from '../block/payloads.js'
import { checkRefusal, signRefusal } from '../block/refusal.js'
import { TrustChainError, TrustChainErrorCode } from '../errors.js'
import { type BatchVerifier, createLedger, type IngestOutcome, type Ledger } from '../ledger/ledger.js'
import { type Clock, systemClock } from '../protocol/clock.js'
import type { MessengerNetwork } from '../protocol/network-messenger.js'
import type { BlockStore } from '../store/block-store.js'
import { sameContent } from '../validation/validate-block.js'
import {
  type Answer,
  decodeExchangeRequest,
  decodeExchangeResponse,
  encodeExchangeRequest,
  encodeExchangeResponse,
  type ExchangeRequest,
  type ExchangeResponse,
  MAX_FRAME_BLOCKS,
  MAX_FRAME_BYTES,
  TRANSFER_PROTOCOL,
} from './exchange-messages.js'
import { type ReadProposal, readFrame } from './frame-reading.js'
import { OwnChain } from './own-chain.js'

/** The part of a network the node uses: request/response (@constellation/gossip's `Network` has it). */
export type ExchangeNetwork = Pick<MessengerNetwork, 'request' | 'handle'>

/** A transfer to make: `amount` of value to the chain `to`, with an optional reference its proposal carries. */
export interface TransferOrder {
  readonly to: Uint8Array
  readonly amount: number
  /** At most 32 bytes, written into the proposal (see `TransferPayloadCodec`). */
  readonly reference?: Uint8Array
}

export type TransferOutcome =
  | { readonly status: 'agreed'; readonly proposal: HalfBlock; readonly agreement: HalfBlock }
  /** Signed and sent, no answer yet: retried until the counterparty answers; it may still be agreed. */
  | { readonly status: 'pending'; readonly proposal: HalfBlock }
  /** The counterparty refused; `void` returned the amount. Nothing moved, and it can never become final. */
  | { readonly status: 'refused'; readonly proposal: HalfBlock; readonly void: HalfBlock; readonly code: string; readonly reason: string }
  /** Refused before anything was signed. */
  | { readonly status: 'rejected'; readonly error: TrustChainError }

/** A settled own proposal, heard later than its `transfer` call returned (or at once). */
export type SettledTransfer = Extract<TransferOutcome, { status: 'agreed' | 'refused' }>

/** Decides whether to countersign a proposal addressed to this node whose proposer can pay it. */
export type AnchoredSigningPolicy = (proposal: HalfBlock, context: { readonly from: string }) => boolean | Promise<boolean>

export interface AnchoredNodeOptions {
  readonly crypto: Crypto
  readonly keyPair: KeyPair
  readonly store: BlockStore
  readonly network: ExchangeNetwork
  readonly anchors: CertifiedAnchors
  readonly clock?: Clock
  readonly registry?: PayloadRegistry
  readonly limits?: BlockLimits
  /** Countersign policy (default: every proposal whose proposer can pay). */
  readonly shouldSign?: AnchoredSigningPolicy
  /** Verifies signature batches elsewhere (a worker pool); default: this thread. */
  readonly verifier?: BatchVerifier
  /** How long `transfer` waits for answers before it reports `pending` (default 5 s). */
  readonly answerTimeoutMs?: number
  /** A frame not answered within this is sent again (default 10 s). */
  readonly requestTimeoutMs?: number
  /** Own blocks after the own certified anchor at most; past it transfers are `BUSY` until a checkpoint is certified (default 2,048). */
  readonly maxStretchBlocks?: number
  /** Own proposals without an answer at most; past it transfers are `BUSY` (default 4,096). */
  readonly maxOutstanding?: number
  /** Proposals stamped further ahead of this node's clock are refused (default 60 s). */
  readonly maxClockSkewMs?: number
  /** Failures of the node itself (a store that cannot write): the node stops. */
  readonly onError?: (error: unknown) => void
}

export interface AnchoredNodeStats {
  readonly framesSent: number
  readonly framesReceived: number
  readonly resends: number
  readonly proposalsSigned: number
  readonly agreementsSigned: number
  readonly refusalsSigned: number
  readonly voids: number
}

export interface AnchoredNode {
  readonly publicKey: Uint8Array
  /** Validate-and-store for blocks fetched for sync and recovery (`fetchRange`). */
  readonly ledger: Ledger
  start(): Promise<void>
  /** Stops: waiting `transfer` calls report what they have (pending), frames in flight are dropped. */
  stop(): Promise<void>
  /** Proposes transfers; one outcome per order, in order. */
  transfer(orders: readonly TransferOrder[]): Promise<TransferOutcome[]>
  /** Appends a checkpoint block recording a certified result to the own chain; resolves once stored. */
  checkpoint(options: { readonly consensusResultHash: Uint8Array; readonly round: number }): Promise<HalfBlock>
  /** Own blocks after `sequenceNumber` up to the head (a checkpoint's stretch). */
  stretch(after: number): Promise<HalfBlock[]>
  head(): ChainHead
  /** What the own chain may still spend: the certified spendable balance minus what it paid since its anchor. */
  available(): number
  /** Own proposals answered (agreed or refused), including those whose `transfer` call already said pending. */
  onSettled(listener: (settled: SettledTransfer) => void): () => void
  /** Transactions this node countersigned. */
  onAgreed(listener: (transaction: { readonly proposal: HalfBlock; readonly agreement: HalfBlock }) => void): () => void
  /**
   * Calls `listener` with the own chain's new head each time own blocks were stored (proposals, agreements, voids,
   * checkpoints); returns the unsubscribe. The consensus's `CheckpointWriter.onGrown`: a member idle for a round
   * checkpoints at once when its chain moves.
   */
  onGrown(listener: (head: ChainHead) => void): () => void
  /** Stored blocks of a chain from a peer (sync, recovery), not validated: the caller ingests them. */
  fetchRange(peer: Uint8Array, publicKey: Uint8Array, from: number, to: number): Promise<HalfBlock[]>
  /** `fetchRange`, then the blocks validated and stored through the ledger: one outcome per block fetched. */
  crawl(peer: Uint8Array, publicKey: Uint8Array, from: number, to: number): Promise<IngestOutcome[]>
  /** Own proposals not answered yet. */
  outstanding(): number
  readonly stats: AnchoredNodeStats
}

const DEFAULT_ANSWER_TIMEOUT_MS = 5_000
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000
const DEFAULT_MAX_STRETCH = 2_048
const DEFAULT_MAX_OUTSTANDING = 4_096
const DEFAULT_MAX_CLOCK_SKEW_MS = 60_000
/** Retry delays of a frame that failed (backoff, capped), and of one the counterparty was behind for. */
const RETRY_MIN_MS = 200
const RETRY_MAX_MS = 10_000
const BEHIND_RETRY_MS = 50
/** Proposers whose stretch a counterparty keeps in memory, and refusals it remembers. */
const MAX_TAILS = 4_096
const MAX_REMEMBERED_REFUSALS = 65_536
/** Frame bytes left for the envelope. */
const FRAME_MARGIN = 4_096

interface Outstanding {
  readonly proposal: HalfBlock
  readonly counterparty: string
  readonly waiters: ((outcome: TransferOutcome) => void)[]
}

interface Outbox {
  readonly peer: string
  /** Own proposals (sequence numbers) waiting for the next frame to this peer. */
  readonly queued: Set<number>
  inFlight: boolean
  /** The highest own block the peer holds (in its view of the stretch), and the least it must be sent up to next. */
  sentUpTo: number
  reachAtLeast: number
  attempts: number
  retry: (() => void) | undefined
}

/** A bounded map that forgets its oldest entries. */
function remember<K, V>(map: Map<K, V>, key: K, value: V, capacity: number): void {
  map.delete(key)
  map.set(key, value)
  if (map.size > capacity) map.delete(map.keys().next().value as K)
}

export function createAnchoredNode(options: AnchoredNodeOptions): AnchoredNode {
  return new AnchoredNodeShell(options)
}

class AnchoredNodeShell implements AnchoredNode {
  readonly publicKey: Uint8Array
  readonly ledger: Ledger
  readonly #options: AnchoredNodeOptions
  readonly #crypto: Crypto
  readonly #clock: Clock
  readonly #limits: BlockLimits
  readonly #registry: PayloadRegistry
  readonly #author: { readonly crypto: Crypto; readonly keyPair: KeyPair; readonly limits: BlockLimits }
  #chain: OwnChain | undefined
  #running = false
  #closeHandler: (() => void) | undefined
  readonly #outstanding = new Map<number, Outstanding>()
  readonly #outboxes = new Map<string, Outbox>()
  /** Per proposer: the stretch after its anchor this node saw, and the frames being read, one at a time. */
  readonly #tails = new Map<string, StretchTail>()
  readonly #reading = new Map<string, Promise<unknown>>()
  /** Refusals this node signed, by proposal hash: a refused proposal is never agreed to later. */
  readonly #refusals = new Map<string, Answer>()
  readonly #settledListeners = new Set<(settled: SettledTransfer) => void>()
  readonly #agreedListeners = new Set<(transaction: { readonly proposal: HalfBlock; readonly agreement: HalfBlock }) => void>()
  readonly #grownListeners = new Set<(head: ChainHead) => void>()
  /** Own debits after the own anchor: `{anchor, spent}` for the anchor they were summed from, up to `through`. */
  #spent = { anchor: -1, through: 0, spent: 0 }
  #stats = { framesSent: 0, framesReceived: 0, resends: 0, proposalsSigned: 0, agreementsSigned: 0, refusalsSigned: 0, voids: 0 }

  constructor(options: AnchoredNodeOptions) {
    this.#options = options
    this.#crypto = options.crypto
    this.publicKey = options.keyPair.publicKey
    this.#clock = options.clock ?? systemClock
    this.#limits = options.limits ?? DEFAULT_BLOCK_LIMITS
    this.#registry = options.registry ?? new PayloadRegistry()
    this.#author = { crypto: options.crypto, keyPair: options.keyPair, limits: this.#limits }
    this.ledger = createLedger({
      crypto: options.crypto,
      store: options.store,
      registry: this.#registry,
      limits: this.#limits,
      ...(options.verifier === undefined ? {} : { verifier: options.verifier }),
      now: () => this.#clock.now(),
      maxClockSkewMs: options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS,
    })
  }

  get stats(): AnchoredNodeStats {
    return { ...this.#stats }
  }

  async start(): Promise<void> {
    if (this.#running) return
    this.#chain = await OwnChain.open(this.#crypto, this.#options.store, this.publicKey, this.#maxStretch() * 2)
    this.#running = true
    this.#closeHandler = this.#options.network.handle(TRANSFER_PROTOCOL, (request) => this.#onRequest(request.from, request.data))
    await this.#recoverOutstanding()
  }

  async stop(): Promise<void> {
    if (!this.#running) return
    this.#running = false
    this.#closeHandler?.()
    this.#closeHandler = undefined
    for (const outbox of this.#outboxes.values()) outbox.retry?.()
    this.#outboxes.clear()
    for (const entry of this.#outstanding.values()) for (const waiter of entry.waiters.splice(0)) waiter({ status: 'pending', proposal: entry.proposal })
    this.#outstanding.clear()
    this.#tails.clear()
    await this.#chain?.settled()
  }

  head(): ChainHead {
    return this.#ownChain().head
  }

  outstanding(): number {
    return this.#outstanding.size
  }

  available(): number {
    const anchor = this.#options.anchors.anchorOf(this.publicKey)
    if (anchor === undefined) return 0
    return anchor.spendable - this.#spentSince(anchor.sequenceNumber)
  }

  onSettled(listener: (settled: SettledTransfer) => void): () => void {
    this.#settledListeners.add(listener)
    return () => this.#settledListeners.delete(listener)
  }

  onAgreed(listener: (transaction: { readonly proposal: HalfBlock; readonly agreement: HalfBlock }) => void): () => void {
    this.#agreedListeners.add(listener)
    return () => this.#agreedListeners.delete(listener)
  }

  onGrown(listener: (head: ChainHead) => void): () => void {
    this.#grownListeners.add(listener)
    return () => this.#grownListeners.delete(listener)
  }

  stretch(after: number): Promise<HalfBlock[]> {
    const chain = this.#ownChain()
    return chain.blocks(after + 1, chain.head.sequenceNumber)
  }

  async checkpoint({ consensusResultHash, round }: { readonly consensusResultHash: Uint8Array; readonly round: number }): Promise<HalfBlock> {
    if (!this.#running) throw this.#stopped()
    const chain = this.#ownChain()
    const block = chain.append((head) =>
      createCheckpoint(this.#author, head, { consensusResultHash: Uint8Array.from(consensusResultHash), round, timestamp: this.#clock.now() }),
    )
    await this.#persist([block])
    return block
  }

  async fetchRange(peer: Uint8Array, publicKey: Uint8Array, from: number, to: number): Promise<HalfBlock[]> {
    const bytes = await this.#options.network.request(toHex(peer), TRANSFER_PROTOCOL, encodeExchangeRequest({ type: 'range', publicKey, from, to }), {
      timeout: this.#options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    })
    const response = decodeExchangeResponse(bytes)
    if (response.type !== 'blocks') throw new TrustChainError(TrustChainErrorCode.MALFORMED_MESSAGE, 'the peer did not answer with blocks')
    return response.blocks.map((block) => decodeBlock(this.#crypto, block, this.#limits))
  }

  async crawl(peer: Uint8Array, publicKey: Uint8Array, from: number, to: number): Promise<IngestOutcome[]> {
    return this.ledger.ingest(await this.fetchRange(peer, publicKey, from, to))
  }

  // ---- proposer ----------------------------------------------------------------------------------------

  async transfer(orders: readonly TransferOrder[]): Promise<TransferOutcome[]> {
    const outcomes: (TransferOutcome | undefined)[] = new Array(orders.length).fill(undefined)
    if (!this.#running) return orders.map(() => ({ status: 'rejected', error: this.#stopped() }))
    const chain = this.#ownChain()
    const anchor = this.#options.anchors.anchorOf(this.publicKey)
    const now = this.#clock.now()
    const signed: { index: number; proposal: HalfBlock; counterparty: string }[] = []
    const reject = (index: number, code: TrustChainErrorCode, message: string, detail: Record<string, unknown> = {}) => {
      outcomes[index] = { status: 'rejected', error: new TrustChainError(code, message, detail) }
    }
    for (const [index, order] of orders.entries()) {
      const to = order?.to
      if (!(to instanceof Uint8Array) || to.length !== 32) {
        reject(index, TrustChainErrorCode.INVALID_INPUT, 'the counterparty must be a 32-byte public key')
        continue
      }
      if (equalBytes(to, this.publicKey)) {
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
      if (this.#options.anchors.anchorOf(to) === undefined) {
        reject(index, TrustChainErrorCode.INVALID_INPUT, `${toHex(to)} is not a member of the consensus`)
        continue
      }
      if (this.#outstanding.size + signed.length >= this.#maxOutstanding()) {
        reject(index, TrustChainErrorCode.BUSY, 'too many proposals are waiting for an answer', { retryAfterMs: 1_000 })
        continue
      }
      if (chain.head.sequenceNumber - anchor.sequenceNumber >= this.#maxStretch()) {
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
        createProposal(this.#author, head, { counterparty: to, payload: transferPayload(head, order.amount, order.reference), timestamp: now }),
      )
      signed.push({ index, proposal, counterparty: toHex(to) })
    }
    if (signed.length === 0) return outcomes as TransferOutcome[]
    this.#stats.proposalsSigned += signed.length
    // Persisted before anyone hears of them: a proposal sent but lost in a crash would leave a hole in the chain.
    await this.#persist(signed.map((entry) => entry.proposal))
    const waits = signed.map(({ index, proposal, counterparty }) => {
      const entry: Outstanding = { proposal, counterparty, waiters: [] }
      this.#outstanding.set(proposal.sequenceNumber, entry)
      this.#queue(counterparty, proposal.sequenceNumber)
      return new Promise<void>((resolve) => {
        const cancel = this.#clock.setTimer(this.#clock.now() + (this.#options.answerTimeoutMs ?? DEFAULT_ANSWER_TIMEOUT_MS), () => {
          outcomes[index] ??= { status: 'pending', proposal }
          resolve()
        })
        entry.waiters.push((outcome) => {
          cancel()
          outcomes[index] ??= outcome
          resolve()
        })
      })
    })
    for (const counterparty of new Set(signed.map((entry) => entry.counterparty))) void this.#flush(counterparty)
    await Promise.all(waits)
    return outcomes as TransferOutcome[]
  }

  /** The sum of the own debits after `anchor` (kept incrementally: a new anchor starts it again). */
  #spentSince(anchor: number): number {
    const chain = this.#ownChain()
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

  #queue(peer: string, sequenceNumber: number): void {
    let outbox = this.#outboxes.get(peer)
    if (outbox === undefined) {
      outbox = { peer, queued: new Set(), inFlight: false, sentUpTo: 0, reachAtLeast: 0, attempts: 0, retry: undefined }
      this.#outboxes.set(peer, outbox)
    }
    outbox.queued.add(sequenceNumber)
  }

  /** Sends the peer one frame with every proposal queued for it, unless one is in flight (it then goes next). */
  async #flush(peer: string): Promise<void> {
    const outbox = this.#outboxes.get(peer)
    if (outbox === undefined || outbox.inFlight || outbox.retry !== undefined || outbox.queued.size === 0 || !this.#running) return
    outbox.inFlight = true
    let frame: { blocks: Uint8Array[]; proposals: number[]; top: number } | undefined
    try {
      frame = await this.#frameFor(outbox)
      this.#stats.framesSent++
      const bytes = await this.#options.network.request(
        peer,
        TRANSFER_PROTOCOL,
        encodeExchangeRequest({ type: 'transfers', round: this.#options.anchors.round(), blocks: frame.blocks }),
        {
          timeout: this.#options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
        },
      )
      await this.#onResponse(outbox, frame, decodeExchangeResponse(bytes))
    } catch {
      // Unreachable, timed out or garbled: the proposals stay queued and go again after a backoff.
      this.#retryLater(outbox, Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** outbox.attempts++))
    } finally {
      outbox.inFlight = false
    }
    if (outbox.retry === undefined && outbox.queued.size > 0) void this.#flush(peer)
  }

  #retryLater(outbox: Outbox, delayMs: number): void {
    if (!this.#running || outbox.retry !== undefined) return
    outbox.retry = this.#clock.setTimer(this.#clock.now() + delayMs, () => {
      outbox.retry = undefined
      void this.#flush(outbox.peer)
    })
  }

  /**
   * The run of own blocks the frame carries: from the first the peer lacks (after the own anchor) to the last queued
   * proposal, within the frame's bounds. A proposal at or below the own anchor (one answered late) takes the run up to
   * the anchor, so the peer can hash back from it.
   */
  async #frameFor(outbox: Outbox): Promise<{ blocks: Uint8Array[]; proposals: number[]; top: number }> {
    const anchor = this.#options.anchors.anchorOf(this.publicKey)?.sequenceNumber ?? 0
    const queued = [...outbox.queued].sort((a, b) => a - b)
    const lowest = queued[0] as number
    let from = outbox.sentUpTo >= anchor ? outbox.sentUpTo + 1 : anchor + 1
    if (lowest <= anchor) from = lowest
    from = Math.min(from, lowest)
    let top = Math.max(queued.at(-1) as number, outbox.reachAtLeast, lowest <= anchor ? anchor : 0)
    top = Math.min(top, this.#ownChain().head.sequenceNumber)
    const blocks = await this.#ownChain().blocks(from, top)
    const encoded: Uint8Array[] = []
    let bytes = 0
    for (const block of blocks) {
      const wire = encodeBlock(block, this.#limits)
      if (encoded.length >= MAX_FRAME_BLOCKS || bytes + wire.length > MAX_FRAME_BYTES - FRAME_MARGIN) break
      encoded.push(wire)
      bytes += wire.length
    }
    top = from + encoded.length - 1
    return { blocks: encoded, proposals: queued.filter((seq) => seq <= top), top }
  }

  async #onResponse(outbox: Outbox, frame: { proposals: number[]; top: number }, response: ExchangeResponse): Promise<void> {
    switch (response.type) {
      case 'answers': {
        // The peer took in the frame's blocks up to the last proposal addressed to it.
        const last = frame.proposals.at(-1)
        if (last !== undefined) outbox.sentUpTo = Math.max(outbox.sentUpTo, last)
        outbox.reachAtLeast = 0
        await this.#onAnswers(outbox, response.answers)
        // A proposal the peer read but did not answer waits, so an answer it keeps back never makes this node spin.
        if (frame.proposals.some((seq) => outbox.queued.has(seq))) this.#retryLater(outbox, Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** outbox.attempts++))
        else outbox.attempts = 0
        return
      }
      case 'resend':
        this.#stats.resends++
        outbox.sentUpTo = response.from - 1
        outbox.reachAtLeast = response.to
        // Sent again at once, unless it keeps asking (a peer that cannot follow must not make this node spin).
        if (outbox.attempts++ > 2) this.#retryLater(outbox, Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** outbox.attempts))
        return
      case 'behind':
        this.#retryLater(outbox, BEHIND_RETRY_MS)
        return
      default:
        // Declined (nothing signed) or a response of another kind: try again later; the proposals stay pending.
        this.#retryLater(outbox, Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** outbox.attempts++))
    }
  }

  async #onAnswers(outbox: Outbox, answers: readonly Answer[]): Promise<void> {
    const counterparty = fromHex(outbox.peer)
    const agreed: { entry: Outstanding; agreement: HalfBlock }[] = []
    const refused: { entry: Outstanding; answer: Extract<Answer, { refusal: Uint8Array }> }[] = []
    for (const answer of answers) {
      const entry = this.#outstanding.get(answer.sequenceNumber)
      if (entry === undefined || entry.counterparty !== outbox.peer) continue
      if ('agreement' in answer) {
        let agreement: HalfBlock
        try {
          agreement = decodeBlock(this.#crypto, answer.agreement, this.#limits)
        } catch {
          continue
        }
        const { proposal } = entry
        if (
          isAgreement(agreement) &&
          equalBytes(agreement.publicKey, counterparty) &&
          equalBytes(agreement.linkPublicKey, this.publicKey) &&
          agreement.linkSequenceNumber === proposal.sequenceNumber &&
          sameContent(proposal, agreement)
        ) {
          agreed.push({ entry, agreement })
        }
      } else if (checkRefusal(this.#crypto, { hash: blockHash(this.#crypto, entry.proposal), counterparty }, answer.refusal)) {
        refused.push({ entry, answer })
      }
    }
    const verdicts = await this.#verify(agreed.map(({ agreement }) => agreement))
    const good = agreed.filter((_, i) => verdicts[i] === true)
    // An agreement at a position where the store holds another block of the counterparty's is a fork of its chain:
    // not stored (the store would refuse the whole batch), the proposal stays pending.
    const held = await this.#options.store.getMany(good.map(({ agreement }) => agreement))
    const stored = good.filter(
      (item, i) => held[i] === undefined || equalBytes(blockHash(this.#crypto, held[i] as HalfBlock), blockHash(this.#crypto, item.agreement)),
    )
    const chain = this.#ownChain()
    const voids = refused.map(({ entry, answer }) =>
      chain.append((head) => createVoid(this.#author, head, entry.proposal, { refusal: answer.refusal, timestamp: this.#clock.now() })),
    )
    this.#stats.voids += voids.length
    if (stored.length + voids.length > 0) await this.#persist([...stored.map(({ agreement }) => agreement), ...voids])
    for (const { entry, agreement } of stored) this.#settle(entry, { status: 'agreed', proposal: entry.proposal, agreement })
    refused.forEach(({ entry, answer }, i) =>
      this.#settle(entry, { status: 'refused', proposal: entry.proposal, void: voids[i] as HalfBlock, code: answer.code, reason: answer.reason }),
    )
  }

  #settle(entry: Outstanding, outcome: SettledTransfer): void {
    const seq = entry.proposal.sequenceNumber
    this.#outstanding.delete(seq)
    this.#outboxes.get(entry.counterparty)?.queued.delete(seq)
    for (const waiter of entry.waiters.splice(0)) waiter(outcome)
    for (const listener of this.#settledListeners) {
      try {
        listener(outcome)
      } catch (error) {
        this.#options.onError?.(error)
      }
    }
  }

  /** After a restart: own proposals of the recent chain with no answer stored (no agreement, no void) go out again. */
  async #recoverOutstanding(): Promise<void> {
    const chain = this.#ownChain()
    const recent = await chain.blocks(Math.max(1, chain.head.sequenceNumber - this.#maxStretch() + 1), chain.head.sequenceNumber)
    const proposals = recent.filter((block) => isProposal(block) && transferOf(block.type, block.payload) !== undefined)
    if (proposals.length === 0) return
    const voided = new Set(recent.filter((block) => block.type === 'void').map((block) => block.linkSequenceNumber))
    const linked = await this.#options.store.getLinkedMany(proposals)
    proposals.forEach((proposal, i) => {
      const answered = (linked[i] ?? []).some((block) => equalBytes(block.publicKey, proposal.linkPublicKey))
      if (answered || voided.has(proposal.sequenceNumber)) return
      const counterparty = toHex(proposal.linkPublicKey)
      this.#outstanding.set(proposal.sequenceNumber, { proposal, counterparty, waiters: [] })
      this.#queue(counterparty, proposal.sequenceNumber)
    })
    for (const peer of this.#outboxes.keys()) void this.#flush(peer)
  }

  // ---- counterparty ------------------------------------------------------------------------------------

  async #onRequest(from: string, data: Uint8Array): Promise<Uint8Array> {
    let request: ExchangeRequest
    try {
      request = decodeExchangeRequest(data)
    } catch (error) {
      return encodeExchangeResponse({
        type: 'declined',
        code: TrustChainErrorCode.MALFORMED_MESSAGE,
        reason: error instanceof Error ? error.message.slice(0, 200) : 'malformed',
      })
    }
    if (!this.#running) return encodeExchangeResponse({ type: 'declined', code: TrustChainErrorCode.NODE_STOPPED, reason: 'node stopped' })
    if (request.type === 'range') {
      const to = Math.min(request.to, request.from + MAX_FRAME_BLOCKS - 1)
      const blocks = await this.#options.store.range(request.publicKey, request.from, to)
      const encoded: Uint8Array[] = []
      let bytes = 0
      for (const block of blocks) {
        const wire = encodeBlock(block, this.#limits)
        if (bytes + wire.length > MAX_FRAME_BYTES - FRAME_MARGIN) break
        encoded.push(wire)
        bytes += wire.length
      }
      return encodeExchangeResponse({ type: 'blocks', blocks: encoded })
    }
    // Frames of one proposer are read one after the other: each continues the stretch the one before left.
    const before = this.#reading.get(from) ?? Promise.resolve()
    const reading = before.then(
      () => this.#onFrame(request),
      () => this.#onFrame(request),
    )
    this.#reading.set(from, reading)
    try {
      return encodeExchangeResponse(await reading)
    } finally {
      if (this.#reading.get(from) === reading) this.#reading.delete(from)
    }
  }

  async #onFrame(frame: Extract<ExchangeRequest, { type: 'transfers' }>): Promise<ExchangeResponse> {
    this.#stats.framesReceived++
    const declined = (code: string, reason: string): ExchangeResponse => ({ type: 'declined', code, reason })
    if (frame.round > this.#options.anchors.round()) return { type: 'behind', round: frame.round }
    let blocks: HalfBlock[]
    try {
      blocks = frame.blocks.map((bytes) => decodeBlock(this.#crypto, bytes, this.#limits))
    } catch (error) {
      return declined(error instanceof TrustChainError ? error.code : TrustChainErrorCode.MALFORMED_BLOCK, 'a block of the frame does not decode')
    }
    const first = blocks[0]
    if (first === undefined) return { type: 'answers', answers: [] }
    const proposer = first.publicKey
    const key = toHex(proposer)
    const anchor = this.#options.anchors.anchorOf(proposer)
    if (anchor === undefined) return declined(TrustChainErrorCode.PROPOSAL_REJECTED, 'the proposer is not a member of the consensus')
    const now = this.#clock.now()
    const reading = readFrame(this.publicKey, proposer, anchor, this.#tails.get(key), blocks, {
      crypto: this.#crypto,
      registry: this.#registry,
      now,
      maxClockSkewMs: this.#options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS,
    })
    if (reading.kind === 'resend') return { type: 'resend', from: reading.from, to: reading.to }
    if (reading.kind === 'declined') return declined(TrustChainErrorCode.INVALID_BLOCK, reading.reason)
    // Every proposal addressed here is verified; they authenticate the blocks below them.
    const verdicts = await this.#verify(reading.proposals.map((proposal) => proposal.block))
    if (verdicts.some((valid) => !valid)) return declined(TrustChainErrorCode.INVALID_BLOCK, 'a proposal’s signature does not verify')
    if (reading.tail !== undefined) remember(this.#tails, key, reading.tail, MAX_TAILS)
    return { type: 'answers', answers: await this.#answer(key, reading.proposals) }
  }

  /** Agreements or refusals for verified proposals, stored before they are sent; earlier answers are sent again. */
  async #answer(from: string, proposals: readonly ReadProposal[]): Promise<Answer[]> {
    const { store } = this.#options
    const positions = proposals.map(({ block }) => block)
    const [held, linked] = await Promise.all([store.getMany(positions), store.getLinkedMany(positions)])
    const answers: Answer[] = []
    const toStore: HalfBlock[] = []
    const agreed: { proposal: HalfBlock; agreement: HalfBlock }[] = []
    const chain = this.#ownChain()
    const now = this.#clock.now()
    for (const [i, { block: proposal, certified, available }] of proposals.entries()) {
      const hash = blockHash(this.#crypto, proposal)
      const stored = held[i]
      const same = stored === undefined || equalBytes(blockHash(this.#crypto, stored), hash)
      const earlier = (linked[i] ?? []).find((block) => equalBytes(block.publicKey, this.publicKey))
      if (same && earlier !== undefined) {
        answers.push({ sequenceNumber: proposal.sequenceNumber, agreement: encodeBlock(earlier, this.#limits) })
        continue
      }
      const refusedBefore = this.#refusals.get(toHex(hash))
      if (refusedBefore !== undefined) {
        answers.push(refusedBefore)
        continue
      }
      let why: { code: string; reason: string } | undefined
      if (!same) why = { code: TrustChainErrorCode.INVALID_BLOCK, reason: 'double-sign: another proposal was answered at this position' }
      else if (!certified && available < 0) why = { code: TrustChainErrorCode.INSUFFICIENT_FUNDS, reason: 'the proposer cannot pay it' }
      else {
        // A policy that answers at once costs no await (a frame may hold thousands of proposals).
        let accept = this.#policy(proposal, from)
        if (accept instanceof Promise) accept = await accept
        if (!accept) why = { code: TrustChainErrorCode.PROPOSAL_REJECTED, reason: 'policy' }
      }
      if (why === undefined) {
        try {
          const agreement = chain.append((head) => createAgreement(this.#author, head, proposal, { timestamp: Math.max(now, proposal.timestamp) }))
          if (stored === undefined) toStore.push(proposal)
          toStore.push(agreement)
          agreed.push({ proposal, agreement })
          answers.push({ sequenceNumber: proposal.sequenceNumber, agreement: encodeBlock(agreement, this.#limits) })
          continue
        } catch (error) {
          // E.g. a credit past the largest safe integer: refused, the node keeps running.
          if (!(error instanceof TrustChainError)) throw error
          why = { code: error.code, reason: error.message.slice(0, 200) }
        }
      }
      const refusal: Answer = { sequenceNumber: proposal.sequenceNumber, refusal: signRefusal(this.#crypto, this.#options.keyPair, proposal), ...why }
      this.#stats.refusalsSigned++
      remember(this.#refusals, toHex(hash), refusal, MAX_REMEMBERED_REFUSALS)
      answers.push(refusal)
    }
    // Stored before answering: an agreement sent but lost in a crash could be signed twice.
    if (toStore.length > 0) await this.#persist(toStore)
    this.#stats.agreementsSigned += agreed.length
    for (const transaction of agreed) {
      for (const listener of this.#agreedListeners) {
        try {
          listener(transaction)
        } catch (error) {
          this.#options.onError?.(error)
        }
      }
    }
    return answers
  }

  #policy(proposal: HalfBlock, from: string): boolean | Promise<boolean> {
    if (proposal.timestamp > this.#clock.now() + (this.#options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS)) return false
    if (this.#options.shouldSign === undefined) return true
    // A policy that fails says no.
    try {
      const verdict = this.#options.shouldSign(proposal, { from })
      return verdict instanceof Promise
        ? verdict.then(
            (accept) => accept === true,
            () => false,
          )
        : verdict === true
    } catch {
      return false
    }
  }

  // ---- shared ------------------------------------------------------------------------------------------

  async #verify(blocks: readonly HalfBlock[]): Promise<boolean[]> {
    if (blocks.length === 0) return []
    const items: SignedMessage[] = blocks.map((block) => ({ publicKey: block.publicKey, message: blockHash(this.#crypto, block), signature: block.signature }))
    if (this.#options.verifier !== undefined && items.length >= 32) {
      const verdicts = await this.#options.verifier.verifyBatch(items).catch(() => undefined)
      if (verdicts !== undefined) return verdicts
    }
    return this.#crypto.verifyMany(items)
  }

  async #persist(blocks: readonly HalfBlock[]): Promise<void> {
    try {
      await this.#ownChain().persist(blocks)
    } catch (error) {
      this.#options.onError?.(error)
      void this.stop()
      throw error
    }
    if (this.#grownListeners.size === 0 || !blocks.some((block) => equalBytes(block.publicKey, this.publicKey))) return
    const head = this.#ownChain().head
    for (const listener of this.#grownListeners) {
      try {
        listener(head)
      } catch (error) {
        this.#options.onError?.(error)
      }
    }
  }

  #ownChain(): OwnChain {
    if (this.#chain === undefined) throw this.#stopped()
    return this.#chain
  }

  #maxStretch(): number {
    return this.#options.maxStretchBlocks ?? DEFAULT_MAX_STRETCH
  }

  #maxOutstanding(): number {
    return this.#options.maxOutstanding ?? DEFAULT_MAX_OUTSTANDING
  }

  #stopped(): TrustChainError {
    return new TrustChainError(TrustChainErrorCode.NODE_STOPPED, 'the node is stopped')
  }
}
