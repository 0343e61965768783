/**
 * The counterparty side of the anchored node: it answers proposers' frames, and range requests for sync.
 *
 * Frames of one proposer are read one after the other, each continuing the stretch the one before left
 * (`readFrame`, pure); every proposal addressed here is verified (one batch per frame), and each gets an agreement or
 * a signed refusal: refused when it forks a proposal answered before (double sign), when the proposer cannot pay it,
 * or by the signing policy. Agreements, with the proposals they answer, are stored before the answer goes out: an
 * agreement sent but lost in a crash could be signed twice. A proposal asked about again gets the same answer.
 */
import { equalBytes, toHex } from '@constellation/crypto'
import type { PeerId } from '@constellation/interface'
import type { StretchTail } from '../anchor/stretch.js'
import { createAgreement } from '../block/block-builder.js'
import { blockHash, decodeBlock, encodeBlock } from '../block/block-encoding.js'
import type { HalfBlock } from '../block/half-block.js'
import { signRefusal } from '../block/refusal.js'
import { TrustChainError, TrustChainErrorCode } from '../errors.js'
import type { AnchoredCore } from './anchored-core.js'
import {
  type Answer,
  decodeExchangeRequest,
  encodeExchangeResponse,
  type ExchangeRequest,
  type ExchangeResponse,
  FRAME_MARGIN,
  MAX_FRAME_BLOCKS,
  MAX_FRAME_BYTES,
} from './exchange-messages.js'
import { type ReadProposal, readFrame } from './frame-reading.js'

/** Proposers whose stretch a counterparty keeps in memory, and refusals it remembers. */
const MAX_TAILS = 4_096
const MAX_REMEMBERED_REFUSALS = 65_536

/** A transaction this node countersigned. */
type Agreed = { readonly proposal: HalfBlock; readonly agreement: HalfBlock }

export class FrameAnswerer {
  readonly #core: AnchoredCore
  /** Per proposer: the stretch after its anchor this node saw, and the frames being read, one at a time. */
  readonly #tails = new Map<PeerId, StretchTail>()
  readonly #reading = new Map<PeerId, Promise<unknown>>()
  /** Refusals this node signed, by proposal hash: a refused proposal is never agreed to later. */
  readonly #refusals = new Map<string, Answer>()
  readonly #agreedListeners = new Set<(transaction: Agreed) => void>()

  constructor(core: AnchoredCore) {
    this.#core = core
  }

  onAgreed(listener: (transaction: Agreed) => void): () => void {
    this.#agreedListeners.add(listener)
    return () => this.#agreedListeners.delete(listener)
  }

  /** The node stops: the proposers' stretches are forgotten (refusals are kept). */
  clear(): void {
    this.#tails.clear()
  }

  async onRequest(from: PeerId, data: Uint8Array): Promise<Uint8Array> {
    const core = this.#core
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
    if (!core.running) return encodeExchangeResponse({ type: 'declined', code: TrustChainErrorCode.NODE_STOPPED, reason: 'node stopped' })
    if (request.type === 'range') {
      const to = Math.min(request.to, request.from + MAX_FRAME_BLOCKS - 1)
      const blocks = await core.options.store.range(request.publicKey, request.from, to)
      const encoded: Uint8Array[] = []
      let bytes = 0
      for (const block of blocks) {
        const wire = encodeBlock(block, core.limits)
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
    const core = this.#core
    core.stats.framesReceived++
    const declined = (code: string, reason: string): ExchangeResponse => ({ type: 'declined', code, reason })
    const { anchors } = core.options
    // Whose frame it is, from its first block alone, so that a frame from a node ahead costs one decode, not all.
    let first: HalfBlock | undefined
    try {
      first = frame.blocks[0] === undefined ? undefined : decodeBlock(core.crypto, frame.blocks[0], core.limits)
    } catch (error) {
      return declined(error instanceof TrustChainError ? error.code : TrustChainErrorCode.MALFORMED_BLOCK, 'a block of the frame does not decode')
    }
    // The frame names the proposer's certified round: anchors behind it may not know the proposer's newest anchor.
    if (frame.round > (first === undefined ? anchors.round() : (anchors.roundOf?.(first.publicKey) ?? anchors.round()))) {
      return { type: 'behind', round: frame.round }
    }
    if (first === undefined) return { type: 'answers', answers: [] }
    let blocks: HalfBlock[]
    try {
      blocks = [first, ...frame.blocks.slice(1).map((bytes) => decodeBlock(core.crypto, bytes, core.limits))]
    } catch (error) {
      return declined(error instanceof TrustChainError ? error.code : TrustChainErrorCode.MALFORMED_BLOCK, 'a block of the frame does not decode')
    }
    const proposer = first.publicKey
    const key = toHex(proposer)
    const anchor = anchors.anchorOf(proposer)
    if (anchor === undefined) return declined(TrustChainErrorCode.PROPOSAL_REJECTED, 'the proposer is not a member of the consensus')
    const now = core.now()
    const reading = readFrame(core.publicKey, proposer, anchor, this.#tails.get(key), blocks, {
      crypto: core.crypto,
      registry: core.registry,
      now,
      maxClockSkewMs: core.maxClockSkewMs,
    })
    if (reading.kind === 'resend') return { type: 'resend', from: reading.from, to: reading.to }
    if (reading.kind === 'declined') return declined(TrustChainErrorCode.INVALID_BLOCK, reading.reason)
    // Every proposal addressed here is verified; they authenticate the blocks below them.
    const verdicts = await core.verify(reading.proposals.map((proposal) => proposal.block))
    if (verdicts.some((valid) => !valid)) return declined(TrustChainErrorCode.INVALID_BLOCK, 'a proposal’s signature does not verify')
    if (reading.tail !== undefined) remember(this.#tails, key, reading.tail, MAX_TAILS)
    return { type: 'answers', answers: await this.#answer(key, reading.proposals) }
  }

  /** Agreements or refusals for verified proposals, stored before they are sent; earlier answers are sent again. */
  async #answer(from: PeerId, proposals: readonly ReadProposal[]): Promise<Answer[]> {
    const core = this.#core
    const { store } = core.options
    const positions = proposals.map(({ block }) => block)
    const [held, linked] = await Promise.all([store.getMany(positions), store.getLinkedMany(positions)])
    const answers: Answer[] = []
    const toStore: HalfBlock[] = []
    const agreed: Agreed[] = []
    const chain = core.chain()
    const now = core.now()
    for (const [i, { block: proposal, certified, available }] of proposals.entries()) {
      const hash = blockHash(core.crypto, proposal)
      const stored = held[i]
      const same = stored === undefined || equalBytes(blockHash(core.crypto, stored), hash)
      const earlier = (linked[i] ?? []).find((block) => equalBytes(block.publicKey, core.publicKey))
      if (same && earlier !== undefined) {
        answers.push({ sequenceNumber: proposal.sequenceNumber, agreement: encodeBlock(earlier, core.limits) })
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
          const agreement = chain.append((head) => createAgreement(core.author, head, proposal, { timestamp: Math.max(now, proposal.timestamp) }))
          if (stored === undefined) toStore.push(proposal)
          toStore.push(agreement)
          agreed.push({ proposal, agreement })
          answers.push({ sequenceNumber: proposal.sequenceNumber, agreement: encodeBlock(agreement, core.limits) })
          continue
        } catch (error) {
          // E.g. a credit past the largest safe integer: refused, the node keeps running.
          if (!(error instanceof TrustChainError)) throw error
          why = { code: error.code, reason: error.message.slice(0, 200) }
        }
      }
      const refusal: Answer = { sequenceNumber: proposal.sequenceNumber, refusal: signRefusal(core.crypto, core.options.keyPair, proposal), ...why }
      core.stats.refusalsSigned++
      remember(this.#refusals, toHex(hash), refusal, MAX_REMEMBERED_REFUSALS)
      answers.push(refusal)
    }
    // Stored before answering: an agreement sent but lost in a crash could be signed twice.
    if (toStore.length > 0) await core.persist(toStore)
    core.stats.agreementsSigned += agreed.length
    for (const transaction of agreed) {
      for (const listener of this.#agreedListeners) {
        try {
          listener(transaction)
        } catch (error) {
          core.report(error)
        }
      }
    }
    return answers
  }

  #policy(proposal: HalfBlock, from: PeerId): boolean | Promise<boolean> {
    const core = this.#core
    if (proposal.timestamp > core.now() + core.maxClockSkewMs) return false
    if (core.options.shouldSign === undefined) return true
    // A policy that fails says no.
    try {
      const verdict = core.options.shouldSign(proposal, { from })
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
}

/** A bounded map that forgets its oldest entries. */
function remember<K, V>(map: Map<K, V>, key: K, value: V, capacity: number): void {
  map.delete(key)
  map.set(key, value)
  if (map.size > capacity) map.delete(map.keys().next().value as K)
}
