/**
 * How own proposals travel to their counterparties: one outbox per counterparty, one frame in flight per outbox.
 *
 * A frame carries the run of own blocks the counterparty lacks — from the first after the own certified anchor it
 * has not seen, up to the last proposal queued for it — so it can hash back from its anchor. Proposals queued while a
 * frame is in flight go together in the next one. A frame that fails (unreachable, timed out, garbled, declined) is
 * sent again after a backoff; a counterparty that asks for earlier blocks gets them at once, unless it keeps asking;
 * one that is behind on the consensus round is asked again shortly.
 */
import type { PeerId, TimerHandle } from '@constellation/interface'
import { encodeBlock } from '../block/block-encoding.js'
import type { AnchoredCore } from './anchored-core.js'
import {
  type Answer,
  decodeExchangeResponse,
  encodeExchangeRequest,
  type ExchangeResponse,
  FRAME_MARGIN,
  MAX_FRAME_BLOCKS,
  MAX_FRAME_BYTES,
  TRANSFER_PROTOCOL,
} from './exchange-messages.js'

/** Retry delays of a frame that failed (backoff, capped), and of one the counterparty was behind for. */
const RETRY_MIN_MS = 200
const RETRY_MAX_MS = 10_000
const BEHIND_RETRY_MS = 50

interface Outbox {
  readonly peer: PeerId
  /** Own proposals (sequence numbers) waiting for the next frame to this peer. */
  readonly queued: Set<number>
  inFlight: boolean
  /** The highest own block the peer holds (in its view of the stretch), and the least it must be sent up to next. */
  sentUpTo: number
  reachAtLeast: number
  attempts: number
  retry: TimerHandle | undefined
}

interface Frame {
  readonly blocks: Uint8Array[]
  /** The queued proposals it carries. */
  readonly proposals: number[]
  readonly top: number
}

export class Outboxes {
  readonly #core: AnchoredCore
  /** Takes a counterparty's answers to a frame. */
  readonly #answered: (peer: PeerId, answers: readonly Answer[]) => Promise<void>
  readonly #outboxes = new Map<PeerId, Outbox>()

  constructor(core: AnchoredCore, answered: (peer: PeerId, answers: readonly Answer[]) => Promise<void>) {
    this.#core = core
    this.#answered = answered
  }

  /** Queues the own proposal `sequenceNumber` for the next frame to `peer`. */
  queue(peer: PeerId, sequenceNumber: number): void {
    let outbox = this.#outboxes.get(peer)
    if (outbox === undefined) {
      outbox = { peer, queued: new Set(), inFlight: false, sentUpTo: 0, reachAtLeast: 0, attempts: 0, retry: undefined }
      this.#outboxes.set(peer, outbox)
    }
    outbox.queued.add(sequenceNumber)
  }

  /** The proposal was answered: it no longer waits for a frame. */
  remove(peer: PeerId, sequenceNumber: number): void {
    this.#outboxes.get(peer)?.queued.delete(sequenceNumber)
  }

  flushAll(): void {
    for (const peer of this.#outboxes.keys()) void this.flush(peer)
  }

  /** The node stops: retries are cancelled and the outboxes forgotten (the proposals stay in the own chain). */
  clear(): void {
    for (const outbox of this.#outboxes.values()) outbox.retry?.cancel()
    this.#outboxes.clear()
  }

  /** Sends the peer one frame with every proposal queued for it, unless one is in flight (it then goes next). */
  async flush(peer: PeerId): Promise<void> {
    const core = this.#core
    const outbox = this.#outboxes.get(peer)
    if (outbox === undefined || outbox.inFlight || outbox.retry !== undefined || outbox.queued.size === 0 || !core.running) return
    outbox.inFlight = true
    let frame: Frame | undefined
    try {
      frame = await this.#frameFor(outbox)
      core.stats.framesSent++
      const bytes = await core.options.network.request(
        peer,
        TRANSFER_PROTOCOL,
        encodeExchangeRequest({ type: 'transfers', round: core.options.anchors.round(), blocks: frame.blocks }),
        {
          timeout: core.requestTimeoutMs,
        },
      )
      await this.#onResponse(outbox, frame, decodeExchangeResponse(bytes))
    } catch {
      // Unreachable, timed out or garbled: the proposals stay queued and go again after a backoff.
      this.#retryLater(outbox, Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** outbox.attempts++))
    } finally {
      outbox.inFlight = false
    }
    if (outbox.retry === undefined && outbox.queued.size > 0) void this.flush(peer)
  }

  #retryLater(outbox: Outbox, delayMs: number): void {
    if (!this.#core.running || outbox.retry !== undefined) return
    outbox.retry = this.#core.after(delayMs, () => {
      outbox.retry = undefined
      void this.flush(outbox.peer)
    })
  }

  /**
   * The run of own blocks the frame carries: from the first the peer lacks (after the own anchor) to the last queued
   * proposal, within the frame's bounds. A proposal at or below the own anchor (one answered late) takes the run up to
   * the anchor, so the peer can hash back from it.
   */
  async #frameFor(outbox: Outbox): Promise<Frame> {
    const core = this.#core
    const anchor = core.options.anchors.anchorOf(core.publicKey)?.sequenceNumber ?? 0
    const queued = [...outbox.queued].sort((a, b) => a - b)
    const lowest = queued[0] as number
    let from = outbox.sentUpTo >= anchor ? outbox.sentUpTo + 1 : anchor + 1
    if (lowest <= anchor) from = lowest
    from = Math.min(from, lowest)
    let top = Math.max(queued.at(-1) as number, outbox.reachAtLeast, lowest <= anchor ? anchor : 0)
    top = Math.min(top, core.chain().head.sequenceNumber)
    const blocks = await core.chain().blocks(from, top)
    const encoded: Uint8Array[] = []
    let bytes = 0
    for (const block of blocks) {
      const wire = encodeBlock(block, core.limits)
      if (encoded.length >= MAX_FRAME_BLOCKS || bytes + wire.length > MAX_FRAME_BYTES - FRAME_MARGIN) break
      encoded.push(wire)
      bytes += wire.length
    }
    top = from + encoded.length - 1
    return { blocks: encoded, proposals: queued.filter((seq) => seq <= top), top }
  }

  async #onResponse(outbox: Outbox, frame: Frame, response: ExchangeResponse): Promise<void> {
    switch (response.type) {
      case 'answers': {
        // The peer took in the frame's blocks up to the last proposal addressed to it.
        const last = frame.proposals.at(-1)
        if (last !== undefined) outbox.sentUpTo = Math.max(outbox.sentUpTo, last)
        outbox.reachAtLeast = 0
        await this.#answered(outbox.peer, response.answers)
        // A proposal the peer read but did not answer waits, so an answer it keeps back never makes this node spin.
        if (frame.proposals.some((seq) => outbox.queued.has(seq))) this.#retryLater(outbox, Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** outbox.attempts++))
        else outbox.attempts = 0
        return
      }
      case 'resend':
        this.#core.stats.resends++
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
}
