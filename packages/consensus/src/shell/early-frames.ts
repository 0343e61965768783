/**
 * Round frames that arrived before this node started their round, held per sender within a byte budget and a
 * window of rounds, and released when the round starts. A facilitator that learns of a certificate a little later
 * than its peers would otherwise lose the first messages of the next round, and the agreement waits on them.
 */
import { ConsensusError, ConsensusErrorCode } from '../errors.js'

interface Held {
  readonly frames: readonly { readonly round: number; readonly bytes: Uint8Array }[]
  readonly bytes: number
}

export class EarlyFrames {
  readonly #held = new Map<string, Held>()
  readonly #maxBytesPerPeer: number

  constructor(maxBytesPerPeer: number) {
    this.#maxBytesPerPeer = maxBytesPerPeer
  }

  /**
   * Keeps `bytes` from `peer` for `round`. Past the peer's budget it throws INVALID_INPUT, so the frame is refused,
   * not acknowledged, and the sender retries it later.
   */
  hold(peer: string, round: number, bytes: Uint8Array): void {
    const held = this.#held.get(peer) ?? { frames: [], bytes: 0 }
    if (held.bytes + bytes.length > this.#maxBytesPerPeer) throw new ConsensusError(ConsensusErrorCode.INVALID_INPUT, 'too many frames held for later rounds')
    this.#held.set(peer, { frames: [...held.frames, { round, bytes }], bytes: held.bytes + bytes.length })
  }

  /** The frames held for `round`, in arrival order per sender; those of earlier rounds can never be used and go. */
  release(round: number): { peer: string; bytes: Uint8Array }[] {
    const out: { peer: string; bytes: Uint8Array }[] = []
    for (const [peer, held] of this.#held) {
      for (const frame of held.frames) if (frame.round === round) out.push({ peer, bytes: frame.bytes })
      const later = held.frames.filter((frame) => frame.round > round)
      if (later.length === 0) this.#held.delete(peer)
      else this.#held.set(peer, { frames: later, bytes: later.reduce((sum, frame) => sum + frame.bytes.length, 0) })
    }
    return out
  }
}
