/**
 * Certified fragments a node has already read and checked, indexed for membership questions.
 *
 * Checking a fragment verifies every block's signature; a chain that transacts a lot holds many transactions in one
 * fragment, and without this each of them would verify the whole fragment again (twice: extract, then contains).
 * A fragment is keyed by its chain and its closing checkpoint's hash, so a different fragment never hits an entry.
 */
import { type Crypto, toHex } from '@constellation/crypto'
import { type AgreementFragment, blockHash, type HalfBlock, isAgreement } from '@constellation/trustchain'

export interface IndexedFragment {
  readonly fragment: AgreementFragment
  /** Hashes (hex) of the blocks strictly between the checkpoints, with how often each occurs. */
  readonly inner: ReadonlyMap<string, number>
  /** Agreements strictly between the checkpoints, by the proposal they answer (`publicKey hex/sequence`). */
  readonly answers: ReadonlyMap<string, number>
}

/** Indexes a fragment already checked (`checkFragment` / `extractFragment`). */
export function indexFragment(crypto: Crypto, fragment: AgreementFragment): IndexedFragment {
  const inner = new Map<string, number>()
  const answers = new Map<string, number>()
  for (const block of fragment.blocks.slice(1, -1)) {
    const hash = toHex(blockHash(crypto, block))
    inner.set(hash, (inner.get(hash) ?? 0) + 1)
    if (isAgreement(block)) {
      const link = `${toHex(block.linkPublicKey)}/${block.linkSequenceNumber}`
      answers.set(link, (answers.get(link) ?? 0) + 1)
    }
  }
  return { fragment, inner, answers }
}

/** `containsExactlyOnce` on an indexed fragment: the half once, and (for an agreement) the only answer to its proposal. */
export function holdsExactlyOnce(crypto: Crypto, indexed: IndexedFragment, half: HalfBlock): boolean {
  if (indexed.inner.get(toHex(blockHash(crypto, half))) !== 1) return false
  return !isAgreement(half) || indexed.answers.get(`${toHex(half.linkPublicKey)}/${half.linkSequenceNumber}`) === 1
}

/** A bounded cache of indexed fragments, least recently used out first. */
export class FragmentCache {
  readonly #entries = new Map<string, IndexedFragment>()

  constructor(readonly capacity = 1_024) {}

  static keyOf(publicKey: Uint8Array, closingHash: Uint8Array): string {
    return `${toHex(publicKey)}/${toHex(closingHash)}`
  }

  get(key: string): IndexedFragment | undefined {
    const entry = this.#entries.get(key)
    if (entry !== undefined) {
      this.#entries.delete(key)
      this.#entries.set(key, entry)
    }
    return entry
  }

  set(key: string, entry: IndexedFragment): void {
    this.#entries.delete(key)
    this.#entries.set(key, entry)
    if (this.#entries.size > this.capacity) this.#entries.delete(this.#entries.keys().next().value as string)
  }
}
