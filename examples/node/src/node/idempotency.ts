/**
 * Idempotency keys for transfers: a client names each transfer (`Idempotency-Key`, or `id` in a batch), and a retry
 * with the same key returns the transfer it made the first time instead of paying twice.
 *
 * The key is not stored beside the chain but in it: the proposal carries a 16-byte digest of the key as its
 * `reference`, written in the same store batch as the proposal itself, so no crash can separate the payment from its
 * key. At start the node reads its recent chain to learn the references it wrote (`MAX_REMEMBERED_KEYS` of them; an
 * older key is forgotten, as payment APIs forget keys after a while). A key in use by a request under way makes a
 * second request with it wait for the first one's outcome.
 */
import { type Crypto, encodeCanonical, equalBytes, toHex } from '@constellation/crypto'
import { blockHash, type HalfBlock, isProposal, TransferPayloadCodec } from '@constellation/trustchain'

/** Own proposals whose references the node remembers (scanned at start, then kept as they are made). */
export const MAX_REMEMBERED_KEYS = 65_536
/** Longest idempotency key accepted. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 128
const REFERENCE_BYTES = 16

export interface KeyedTransfer {
  /** The proposal's hash (hex): the transaction id. */
  readonly id: string
  readonly to: string
  readonly amount: number
}

/** The reference a proposal made under `key` carries. */
export function referenceOf(crypto: Crypto, key: string): Uint8Array {
  return crypto.sha256(encodeCanonical(['constellation/idempotency/1', key])).subarray(0, REFERENCE_BYTES)
}

export class IdempotencyKeys {
  readonly #crypto: Crypto
  /** By reference (hex), oldest first. */
  readonly #known = new Map<string, KeyedTransfer>()
  readonly #underWay = new Map<string, Promise<unknown>>()

  constructor(crypto: Crypto) {
    this.#crypto = crypto
  }

  /** Learns the references of own proposals (at start: the recent chain; later: each new proposal). */
  learn(blocks: readonly HalfBlock[]): void {
    for (const block of blocks) {
      if (!isProposal(block) || !TransferPayloadCodec.is(block.payload) || block.payload.reference === undefined) continue
      const reference = toHex(block.payload.reference)
      this.#known.delete(reference)
      this.#known.set(reference, { id: toHex(blockHash(this.#crypto, block)), to: toHex(block.linkPublicKey), amount: block.payload.amount })
      if (this.#known.size > MAX_REMEMBERED_KEYS) this.#known.delete(this.#known.keys().next().value as string)
    }
  }

  /** The transfer made under `key`, if any. */
  find(key: string): KeyedTransfer | undefined {
    return this.#known.get(toHex(referenceOf(this.#crypto, key)))
  }

  /**
   * Runs `work` for `key` unless a request with that key is under way, in which case it waits for that one first (so
   * two concurrent retries cannot both pay). `work` runs after the wait, so it sees what the first request made.
   */
  async exclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
    const name = toHex(referenceOf(this.#crypto, key))
    const before = this.#underWay.get(name)
    const run = (before ?? Promise.resolve()).then(work, work)
    this.#underWay.set(name, run)
    try {
      return await run
    } finally {
      if (this.#underWay.get(name) === run) this.#underWay.delete(name)
    }
  }

  /** True when the reference in `proposal` is the one `key` gives. */
  matches(key: string, proposal: HalfBlock): boolean {
    return (
      TransferPayloadCodec.is(proposal.payload) &&
      proposal.payload.reference !== undefined &&
      equalBytes(proposal.payload.reference, referenceOf(this.#crypto, key))
    )
  }
}
