/**
 * Counts rejected messages per peer. A peer whose messages were rejected `maxRejects` times within `windowMs`
 * is penalised: its gossip is dropped until `windowMs` after the last reject. Honest peers forward a bad message
 * now and then without knowing; a peer that keeps doing it is either faulty or hostile.
 */
import type { Clock } from '../clock.js'

interface Record {
  rejects: number[]
  penalisedUntil: number
}

export class PenaltyBox {
  readonly #clock: Clock
  readonly #maxRejects: number
  readonly #windowMs: number
  readonly #records = new Map<string, Record>()
  #sweptAt: number

  constructor(clock: Clock, maxRejects: number, windowMs: number) {
    this.#clock = clock
    this.#maxRejects = maxRejects
    this.#windowMs = windowMs
    this.#sweptAt = clock.now()
  }

  /** Forgets peers whose rejects have all expired and who are not penalised: the table stays bounded by the
   * peers that misbehaved within one window. */
  #sweep(now: number): void {
    this.#sweptAt = now
    for (const [peer, record] of this.#records) {
      const last = record.rejects.at(-1) ?? 0
      if (record.penalisedUntil <= now && now - last >= this.#windowMs) this.#records.delete(peer)
    }
  }

  /** Records a reject; returns the count within the window when this reject tips the peer into the box. */
  reject(peer: string): number | undefined {
    const now = this.#clock.now()
    if (now - this.#sweptAt >= this.#windowMs) this.#sweep(now)
    let record = this.#records.get(peer)
    if (record === undefined) {
      record = { rejects: [], penalisedUntil: 0 }
      this.#records.set(peer, record)
    }
    record.rejects = record.rejects.filter((at) => now - at < this.#windowMs)
    record.rejects.push(now)
    if (record.rejects.length > this.#maxRejects) record.rejects.shift()
    if (record.rejects.length >= this.#maxRejects) {
      const wasPenalised = record.penalisedUntil > now
      record.penalisedUntil = now + this.#windowMs
      return wasPenalised ? undefined : record.rejects.length
    }
    return undefined
  }

  /** Peers on record (for tests and metrics). */
  recordCount(): number {
    return this.#records.size
  }

  isPenalised(peer: string): boolean {
    const record = this.#records.get(peer)
    if (record === undefined) return false
    if (record.penalisedUntil > this.#clock.now()) return true
    if (record.rejects.length === 0 || this.#clock.now() - (record.rejects.at(-1) as number) >= this.#windowMs) {
      this.#records.delete(peer) // nothing left to remember
    }
    return false
  }
}
