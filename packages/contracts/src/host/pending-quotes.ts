/**
 * Quotes a host has given but not yet seen proposed: the latest one per contract, with who asked for it and the
 * new state's encoding, so that countersigning a matching proposal commits what was computed without running again.
 */
import { encodeCanonical, equalBytes } from '@constellation/crypto'
import type { InvokePayload } from '../chain/payloads.js'
import { asCbor } from '../json/json-value.js'

export interface PendingQuote {
  readonly payload: InvokePayload
  /** Hex public key of the caller that asked. */
  readonly caller: string
  /** Canonical encoding of the state the invocation computed. */
  readonly state: Uint8Array
}

/** The invoke record without the payment (whose balance is each chain's own): what the host's execution determines. */
export function executionPart(payload: InvokePayload): Uint8Array {
  const { value: _value, ...rest } = payload
  return encodeCanonical(asCbor(rest))
}

export class PendingQuotes {
  readonly #byContract = new Map<string, PendingQuote>()

  set(contract: string, quote: PendingQuote): void {
    this.#byContract.set(contract, quote)
  }

  /** The contract's pending quote if this caller asked for it and it is this record, payment aside. */
  matching(contract: string, caller: string, payload: InvokePayload): PendingQuote | undefined {
    const quote = this.#byContract.get(contract)
    return quote !== undefined && quote.caller === caller && equalBytes(executionPart(quote.payload), executionPart(payload)) ? quote : undefined
  }

  delete(contract: string): void {
    this.#byContract.delete(contract)
  }
}
