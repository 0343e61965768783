/**
 * Consents a host's contracts gave through `countersign` effects: each names the proposer, the sequence number and
 * the hash of the exact payload it agrees to, so a consent to one payload never lets another through.
 */
import { type Crypto, encodeCanonical, toHex } from '@constellation/crypto'
import { type HalfBlock, isProposal } from '@constellation/trustchain'

export function consentKey(proposer: string, sequenceNumber: number, payloadHash: string): string {
  return `${proposer}:${sequenceNumber}:${payloadHash}`
}

/** The key a consent to this proposal would have; undefined for anything that is not a proposal with an encodable payload. */
export function consentKeyOf(crypto: Crypto, proposal: HalfBlock): string | undefined {
  if (!isProposal(proposal)) return undefined
  let payloadHash: string
  try {
    payloadHash = toHex(crypto.sha256(encodeCanonical(proposal.payload)))
  } catch {
    return undefined
  }
  return consentKey(toHex(proposal.publicKey), proposal.sequenceNumber, payloadHash)
}

/** The consents given so far, each to the hex id of the contract that gave it. */
export class ConsentBook {
  readonly #crypto: Crypto
  readonly #given = new Map<string, string>()

  constructor(crypto: Crypto) {
    this.#crypto = crypto
  }

  give(keys: readonly string[], contract: string): void {
    for (const key of keys) this.#given.set(key, contract)
  }

  has(proposal: HalfBlock): boolean {
    const key = consentKeyOf(this.#crypto, proposal)
    return key !== undefined && this.#given.has(key)
  }

  of(proposal: HalfBlock): string | undefined {
    const key = consentKeyOf(this.#crypto, proposal)
    return key === undefined ? undefined : this.#given.get(key)
  }
}
