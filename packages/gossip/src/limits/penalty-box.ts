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

  constructor(clock: Clock, maxRejects: number, windowMs: number) {
    this.#clock = clock
    this.#maxRejects = maxRejects
    this.#windowMs = windowMs
  }

  /** Records a reject; returns the count within the window when this reject tips the peer into the box. */
  reject(peer: string): number | undefined {
    const now = this.#clock.now()
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
