/**
 * The fingerprint of a simulation run (`SimNetwork.traceHash()`): every delivery and every gossip verdict is
 * folded in as it happens, so equal seeds and inputs give equal hashes and any change in order shows.
 */
export class TraceHash {
  #lane1 = 0x811c9dc5
  #lane2 = 0x01000193

  /** Folds in one happening: its virtual time (ms), its kind, the node indices involved and one detail. */
  record(timeMs: number, kind: number, from: number, to: number, detail: number): void {
    // Two 32-bit FNV-style lanes over (time, kind, from, to, detail): cheap, and any change in order shows.
    const t = Math.round(timeMs * 1000)
    for (const word of [t, kind, from, to, detail]) {
      this.#lane1 = Math.imul(this.#lane1 ^ word, 0x01000193) >>> 0
      this.#lane2 = Math.imul(this.#lane2 ^ (word + 0x9e3779b9), 0x85ebca6b) >>> 0
    }
  }

  /** The two lanes as 16 hex digits. */
  digest(): string {
    return this.#lane1.toString(16).padStart(8, '0') + this.#lane2.toString(16).padStart(8, '0')
  }
}
