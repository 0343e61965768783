/**
 * The node's consensus journal on LevelDB: every certificate it applied, by round (with the round's finalised
 * transfers' leaves), a mark that it has taken part in consensus before, and the round that finalised each of the
 * node's own transactions. On restart the certificates are replayed (verified again) so the node resumes with its
 * history, memes and transfer ledger; the mark tells a data dir from before the round journal (round-journal-file.ts)
 * to sit out, once, the rounds it may have been facilitating when it stopped (it knows nothing of what it sent in
 * them). The finality index and the leaves let it prove a transaction final long after the round, without asking
 * anyone.
 *
 * Layout: 'c' round (8 bytes, big-endian) -> the certificate's canonical bytes; 'm' -> the started mark; 'f' proposal
 * hash -> the round (8 bytes). Writes are LevelDB batches appended in order by a single writer.
 */
import { type CheckpointCertificate, decodeCertificate, encodeCertificate } from '@constellation/consensus'
import { toHex } from '@constellation/crypto'
import { ClassicLevel } from 'classic-level'

const CERTIFICATE = 0x63 // 'c'
const STARTED = Uint8Array.of(0x6d) // 'm'
const FINAL = 0x66 // 'f'

function finalKey(id: Uint8Array): Uint8Array {
  const key = new Uint8Array(1 + id.length)
  key[0] = FINAL
  key.set(id, 1)
  return key
}

function roundBytes(round: number): Uint8Array {
  return roundKey(round).subarray(1)
}

function roundOf(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return view.getUint32(0) * 0x100000000 + view.getUint32(4)
}

function roundKey(round: number): Uint8Array {
  const key = new Uint8Array(9)
  key[0] = CERTIFICATE
  const view = new DataView(key.buffer)
  view.setUint32(1, Math.floor(round / 0x100000000))
  view.setUint32(5, round >>> 0)
  return key
}

export interface CertificateJournal {
  /** Whether this data dir's node took part in consensus before (false on a fresh data dir). */
  readonly started: boolean
  /** The certificates stored, rounds 1, 2, … up to the first gap. */
  certificates(): Promise<CheckpointCertificate[]>
  markStarted(): Promise<void>
  /** Appends certificates; call in round order. Resolves once they are in LevelDB's log. */
  append(certificate: CheckpointCertificate): Promise<void>
  /** A stored certificate (with its finalised leaves), if held. */
  certificate(round: number): Promise<CheckpointCertificate | undefined>
  /** Records the rounds that finalised transactions (by proposal hash), after the certificates before them. */
  recordFinal(entries: readonly { readonly id: Uint8Array; readonly round: number }[]): Promise<void>
  /** The round that finalised a transaction (by proposal hash), if recorded. */
  finalRound(id: Uint8Array): Promise<number | undefined>
  close(): Promise<void>
}

export async function openCertificateJournal(location: string): Promise<CertificateJournal> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(location, { keyEncoding: 'view', valueEncoding: 'view' })
  await db.open()
  return new LevelCertificateJournal(db, (await db.get(STARTED)) !== undefined)
}

class LevelCertificateJournal implements CertificateJournal {
  readonly #db: ClassicLevel<Uint8Array, Uint8Array>
  /** Read when the journal opened: marking it started later does not make this run a restart. */
  readonly started: boolean
  // Writes are chained so the journal never has a later round on disk before an earlier one.
  #writing: Promise<void> = Promise.resolve()

  constructor(db: ClassicLevel<Uint8Array, Uint8Array>, started: boolean) {
    this.#db = db
    this.started = started
  }

  async certificates(): Promise<CheckpointCertificate[]> {
    const out: CheckpointCertificate[] = []
    for await (const [key, value] of this.#db.iterator({ gte: roundKey(1), lt: roundKey(Number.MAX_SAFE_INTEGER) })) {
      const certificate = decodeCertificate(value)
      const round = new DataView(key.buffer, key.byteOffset).getUint32(5)
      if (certificate.result.body.round !== out.length + 1 || round !== (out.length + 1) >>> 0) break
      out.push(certificate)
    }
    return out
  }

  async markStarted(): Promise<void> {
    await this.#db.put(STARTED, Uint8Array.of(1))
  }

  append(certificate: CheckpointCertificate): Promise<void> {
    const bytes = encodeCertificate(certificate)
    this.#writing = this.#writing.then(() => this.#db.put(roundKey(certificate.result.body.round), bytes))
    return this.#writing
  }

  async certificate(round: number): Promise<CheckpointCertificate | undefined> {
    const bytes = await this.#db.get(roundKey(round))
    return bytes === undefined ? undefined : decodeCertificate(bytes)
  }

  recordFinal(entries: readonly { readonly id: Uint8Array; readonly round: number }[]): Promise<void> {
    if (entries.length === 0) return this.#writing
    this.#writing = this.#writing.then(() =>
      this.#db.batch(entries.map(({ id, round }) => ({ type: 'put' as const, key: finalKey(id), value: roundBytes(round) }))),
    )
    return this.#writing
  }

  async finalRound(id: Uint8Array): Promise<number | undefined> {
    const bytes = await this.#db.get(finalKey(id))
    return bytes === undefined ? undefined : roundOf(bytes)
  }

  async close(): Promise<void> {
    await this.#writing.catch(() => undefined)
    await this.#db.close()
  }
}

/** The same journal in memory, for a node without a data dir to keep it (a test, a simulation). */
export function createMemoryCertificateJournal(): CertificateJournal {
  return new MemoryCertificateJournal()
}

class MemoryCertificateJournal implements CertificateJournal {
  readonly #certificates = new Map<number, CheckpointCertificate>()
  readonly #final = new Map<string, number>()
  /** A journal in memory always starts empty: its node never took part in consensus before. */
  readonly started = false

  async certificates(): Promise<CheckpointCertificate[]> {
    const out: CheckpointCertificate[] = []
    for (let round = 1; this.#certificates.has(round); round++) out.push(this.#certificates.get(round) as CheckpointCertificate)
    return out
  }

  async markStarted(): Promise<void> {}

  async append(certificate: CheckpointCertificate): Promise<void> {
    this.#certificates.set(certificate.result.body.round, certificate)
  }

  async certificate(round: number): Promise<CheckpointCertificate | undefined> {
    return this.#certificates.get(round)
  }

  async recordFinal(entries: readonly { readonly id: Uint8Array; readonly round: number }[]): Promise<void> {
    for (const { id, round } of entries) this.#final.set(toHex(id), round)
  }

  async finalRound(id: Uint8Array): Promise<number | undefined> {
    return this.#final.get(toHex(id))
  }

  async close(): Promise<void> {}
}
