/**
 * The caller's side of contracts: a chain author that deploys contracts to hosts and invokes them as real
 * transaction pairs (quote -> proposal paying the host's price as trustchain value -> the host's agreement),
 * tracking its own chain head (whose balance goes down by each price paid), and
 * that turns a hosted contract into a `Service` for pipelines.
 */
import { concatBytes, type Crypto, fromHex, type KeyPair, toHex } from '@constellation/crypto'
import {
  advanceHead,
  type BlockAuthor,
  type BlockLimits,
  type ChainHead,
  createProposal,
  EMPTY_CHAIN_HEAD,
  type HalfBlock,
  withValue,
} from '@constellation/trustchain'
import * as E from 'fp-ts/lib/Either.js'
import { DEPLOY_KIND, type InvokePayload } from '../chain/payloads.js'
import { contractId, type ContractDefinition, describeSignature } from '../contract/contract.js'
import { asCbor, encodeJson, type JsonValue } from '../json/json-value.js'
import { check, type Service } from '../service/service.js'
import { ContractError, ContractErrorCode, toContractError } from '../errors.js'
import type { ContractHost } from './host-api.js'

/**
 * What a caller needs of a host: its key, its price and the three steps of the protocol. A `ContractHost` is one;
 * so is a stand-in that forwards the steps to a host on another node.
 */
export type ContractEndpoint = Pick<ContractHost, 'publicKey' | 'price' | 'deploy' | 'quote' | 'countersign'>

export interface Invocation<O> {
  readonly output: O
  readonly record: InvokePayload
  readonly proposal: HalfBlock
  readonly agreement: HalfBlock
}

export interface ContractCaller {
  readonly publicKey: Uint8Array
  readonly head: ChainHead
  /** Deploys a contract to a host; returns its id and the transaction pair. */
  deploy(host: ContractEndpoint, definition: ContractDefinition<unknown, unknown, unknown>): Promise<{ id: string; proposal: HalfBlock; agreement: HalfBlock }>
  /**
   * Invokes a hosted contract, paying the host's price; returns the output and the transaction pair. Given the
   * definition, the output is checked with its codec; given only the id, there is no codec and the output is `unknown`.
   */
  invoke<I, O>(host: ContractEndpoint, contract: ContractDefinition<I, O, unknown>, input: I): Promise<Invocation<O>>
  invoke(host: ContractEndpoint, contract: string, input: unknown): Promise<Invocation<unknown>>
  /** A hosted contract as a service: its output is checked with the contract's output codec. */
  service<I, O>(host: ContractEndpoint, definition: ContractDefinition<I, O, unknown>, name?: string): Service<I, O>
}

interface CallerOptions {
  readonly crypto: Crypto
  readonly keyPair: KeyPair
  readonly now?: () => number
  readonly head?: ChainHead
  readonly blockLimits?: BlockLimits
}

class Caller implements ContractCaller {
  readonly publicKey: Uint8Array
  readonly #crypto: Crypto
  readonly #keyPair: KeyPair
  readonly #now: () => number
  readonly #author: BlockAuthor
  #head: ChainHead

  constructor(options: CallerOptions) {
    const { crypto, keyPair } = options
    this.publicKey = keyPair.publicKey
    this.#crypto = crypto
    this.#keyPair = keyPair
    this.#now = options.now ?? Date.now
    this.#author = { crypto, keyPair, ...(options.blockLimits === undefined ? {} : { limits: options.blockLimits }) }
    this.#head = options.head ?? EMPTY_CHAIN_HEAD
  }

  get head(): ChainHead {
    return this.#head
  }

  async deploy(
    host: ContractEndpoint,
    definition: ContractDefinition<unknown, unknown, unknown>,
  ): Promise<{ id: string; proposal: HalfBlock; agreement: HalfBlock }> {
    const id = contractId(this.#crypto, definition.code)
    const proposal = this.#propose(host, {
      kind: DEPLOY_KIND,
      contract: fromHex(id),
      code: definition.code,
      signature: describeSignature(definition.signature),
      initialState: encodeJson(definition.initialState as JsonValue, 1 << 20),
    })
    const agreement = await host.deploy(proposal)
    return { id, proposal, agreement }
  }

  invoke<I, O>(host: ContractEndpoint, contract: ContractDefinition<I, O, unknown>, input: I): Promise<Invocation<O>>
  invoke(host: ContractEndpoint, contract: string, input: unknown): Promise<Invocation<unknown>>
  async invoke<I, O>(host: ContractEndpoint, contract: string | ContractDefinition<I, O, unknown>, input: I): Promise<Invocation<O>> {
    const id = typeof contract === 'string' ? contract : contractId(this.#crypto, contract.code)
    // The contract's randomness: fixed by the caller's next block position, so every replay sees the same seed.
    const seed = toHex(this.#crypto.sha256(concatBytes(this.#keyPair.publicKey, new TextEncoder().encode(`${this.#head.sequenceNumber + 1}`))))
    const quoted = await host.quote({ contract: id, caller: this.#keyPair.publicKey, input, timestamp: this.#now(), seed })
    const record = host.price === 0 ? quoted : this.#paying(quoted, host.price)
    const proposal = this.#propose(host, record)
    const { agreement } = await host.countersign(proposal)
    const output =
      typeof contract === 'string'
        ? (record.output as O)
        : E.getOrElseW((error) => {
            throw error
          })(check(contract.signature.output, record.output, ContractErrorCode.OUTPUT_INVALID, 'the output'))
    return { output, record, proposal, agreement }
  }

  service<I, O>(
    host: ContractEndpoint,
    definition: ContractDefinition<I, O, unknown>,
    name = `contract ${contractId(this.#crypto, definition.code).slice(0, 8)}`,
  ): Service<I, O> {
    return {
      name,
      inputType: definition.signature.input.description,
      outputType: definition.signature.output.description,
      run: (input) => async () => {
        try {
          return E.right((await this.invoke(host, definition, input)).output)
        } catch (error) {
          return E.left(toContractError(error, ContractErrorCode.CONTRACT_THREW))
        }
      },
    }
  }

  #propose(host: ContractEndpoint, payload: Record<string, unknown>): HalfBlock {
    const proposal = createProposal(this.#author, this.#head, { counterparty: host.publicKey, payload: asCbor(payload), timestamp: this.#now() })
    this.#head = advanceHead(this.#crypto, this.#head, proposal)
    return proposal
  }

  /** The record carrying `price` out of this chain as trustchain value; PAYMENT_REQUIRED when the balance is short. */
  #paying(record: InvokePayload, price: number): InvokePayload {
    const head = this.#head
    if (price > head.balance) {
      throw new ContractError(ContractErrorCode.PAYMENT_REQUIRED, `the host charges ${price} per invocation, this chain holds ${head.balance}`, {
        price,
        balance: head.balance,
      })
    }
    return withValue(head, record, price)
  }
}

export function createCaller(options: { crypto: Crypto; keyPair: KeyPair; now?: () => number; head?: ChainHead; blockLimits?: BlockLimits }): ContractCaller {
  return new Caller(options)
}
