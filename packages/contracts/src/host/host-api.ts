/**
 * The contract host's public face: what a caller asks it to run, the options it is built with, a contract it hosts,
 * and the `ContractHost` interface nodes and callers program against (`createContractHost` returns one).
 */
import type { Crypto, KeyPair } from '@constellation/crypto'
import type { BlockLimits, ChainHead, HalfBlock, Ledger } from '@constellation/trustchain'
import type { InvokePayload } from '../chain/payloads.js'
import type { JsonValue } from '../json/json-value.js'
import type { AsyncExecutor } from '../sandbox/executor.js'
import type { ContractType, SignatureDescription } from '../types/contract-type.js'
import type { RpcBridgeOptions } from './rpc-bridge.js'
import type { SlaFigures } from './sla.js'

/** What a caller asks a host to run. */
export interface InvokeRequest {
  /** Hex contract id. */
  readonly contract: string
  /** Public key of the caller (the proposer of the invoke transaction). */
  readonly caller: Uint8Array
  readonly input: unknown
  /** Time and randomness the contract sees: the caller's, fixed in its transaction. */
  readonly timestamp: number
  readonly seed: string
}

export interface ContractHostOptions {
  readonly crypto: Crypto
  readonly keyPair: KeyPair
  readonly executor: AsyncExecutor
  /** Price per invocation, in the chain's value unit (0: free). */
  readonly price?: number
  readonly rpc?: RpcBridgeOptions
  /** Block timestamps of the host's half-blocks (milliseconds). */
  readonly now?: () => number
  readonly blockLimits?: BlockLimits
  /** The host's chain head to append to (default: an empty chain). */
  readonly head?: ChainHead
  /**
   * A ledger (with the contract payload kinds registered) that must accept each pair before the host commits it:
   * it checks the caller's payment against the caller's chain, so a caller cannot pay with value it does not have.
   * The ledger must know the host's chain and the chains of paying callers.
   */
  readonly ledger?: Ledger
}

export interface DeployedContract {
  readonly id: string
  /** Hex deploy hash: what invoke records name, and the contract's key in the executor. */
  readonly deploy: string
  readonly code: string
  readonly signature: SignatureDescription
  readonly input: ContractType<unknown>
  /** The committed state: canonical encoding, hash, and how many invocations produced it. */
  encoded: Uint8Array
  hash: Uint8Array
  invocations: number
}

export interface ContractHost {
  readonly publicKey: Uint8Array
  /** The host's chain head after its latest half-block. */
  readonly head: ChainHead
  /** The price per invocation this host advertises (0: free); a paid invoke carries at least this as `value`. */
  readonly price: number
  deploy(proposal: HalfBlock): Promise<HalfBlock>
  /**
   * Checks a deploy payload as `deploy` would (codec, code hash, initial state, the code loads, not deployed yet)
   * without agreeing to anything; returns the contract id. A deployer asks before it proposes, so a deploy the
   * host would refuse leaves no block in the deployer's chain.
   */
  checkDeploy(payload: unknown): Promise<string>
  /**
   * Rebuilds the contracts this host agreed to host from its own stored agreements (deploy and invoke halves of its
   * chain, in chain order), e.g. after a restart: each recorded invocation runs again with its recorded RPC answers
   * and must reach the recorded state hash. Appends nothing to the chain; give `head` in the options.
   */
  restore(agreements: readonly HalfBlock[]): Promise<void>
  quote(request: InvokeRequest): Promise<InvokePayload>
  /** Agrees to an invoke proposal; returns the agreement and any proposals the contract's effects made. */
  countersign(proposal: HalfBlock): Promise<{ agreement: HalfBlock; proposals: HalfBlock[] }>
  /** The committed state of a contract. */
  state(contract: string): JsonValue
  contract(contract: string): Readonly<DeployedContract> | undefined
  /** Whether a contract's effects consented to countersigning this proposal, payload included (a trustchain `shouldSign` policy). */
  consents(proposal: HalfBlock): boolean
  /** The hex id of the contract that consented to countersigning this proposal, if any. */
  consentOf(proposal: HalfBlock): string | undefined
  sla(): SlaFigures
  close(): Promise<void>
}
