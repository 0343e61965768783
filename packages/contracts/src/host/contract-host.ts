/**
 * A contract host: a node that runs deployed contracts and is their counterparty on chain.
 *
 * Deploy: the deployer proposes a `contract-deploy` transaction to the host; the host checks that the code hashes to
 * the contract id, that the signature and initial state are well formed, and that the code loads, then agrees.
 * Invoke: the caller asks for a quote (`quote`): the host runs the invocation (fetching any RPC answers through the
 * bridge) and returns the complete `contract-invoke` record without committing it. The caller proposes that
 * record carrying its payment as trustchain value (`value: { amount, balance }`, see `withValue`); the host
 * countersigns only if the record is what its execution produced, starts from the committed state, pays at least
 * the advertised price and (given a ledger) the ledger accepts the pair, so payment and result settle in one
 * transaction pair: the caller's balance goes down in the proposal, the host's up in its agreement.
 * Countersigning commits the new state. Effects the contract returned are carried out by the host: `propose`
 * effects become proposals in the host's chain, `countersign` effects are consents `consents` answers.
 *
 * Effects are checked in full when quoted (keys, payload kinds, encodability, block limits) and the proposals are
 * built before anything is committed, so a bad effect leaves state and chain untouched. A contract speaks for
 * itself, not for its host's purse: a proposal may not carry a transfer or any value field (`amount`, `balance`,
 * `payment`, `value`), and a consent names the exact payload (its hash) it agrees to, and the contract that gave it.
 */
import { type Crypto, encodeCanonical, equalBytes, fromHex, type KeyPair, toHex } from '@constellation/crypto'
import {
  advanceHead,
  type BlockLimits,
  type ChainHead,
  createAgreement,
  blockHash,
  createProposal,
  EMPTY_CHAIN_HEAD,
  type HalfBlock,
  isAgreement,
  isProposal,
  type Ledger,
} from '@constellation/trustchain'
import { isLeft } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { contractId } from '../contract/contract.js'
import { DEPLOY_KIND, DeployPayloadCodec, deployHash, INVOKE_KIND, type InvokePayload, InvokePayloadCodec } from '../chain/payloads.js'
import { ContractError, ContractErrorCode } from '../errors.js'
import { asCbor, canonicalForm, decodeJson, type JsonValue } from '../json/json-value.js'
import type { RpcExchange } from '../sandbox/contract-vm.js'
import { type AsyncExecutor, errorOf, type ExecutionResult } from '../sandbox/executor.js'
import { type ContractType, decodeWith, type SignatureDescription, typeFromDescription } from '../types/contract-type.js'
import { createRpcBridge, type RpcBridge, type RpcBridgeOptions } from './rpc-bridge.js'
import { type SlaFigures, SlaRecorder } from './sla.js'

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

const PublicKeyHex = t.refinement(t.string, (s) => /^[0-9a-f]{64}$/.test(s), 'PublicKeyHex')
const ProposeEffect = t.type({ kind: t.literal('propose'), counterparty: PublicKeyHex, payload: t.intersection([t.UnknownRecord, t.type({ kind: t.string })]) })
const CountersignEffect = t.type({
  kind: t.literal('countersign'),
  proposer: PublicKeyHex,
  sequenceNumber: t.refinement(t.number, (n) => Number.isSafeInteger(n) && n >= 1, 'SequenceNumber'),
  /** Hex SHA-256 of the canonical encoding of the payload the contract agrees to. */
  payloadHash: PublicKeyHex,
})
const EffectCodec = t.union([ProposeEffect, CountersignEffect])

/** Payload kinds that move value or speak for the host's other roles: never proposed on a contract's word. */
const FORBIDDEN_PAYLOAD_KINDS: ReadonlySet<string> = new Set(['transfer', DEPLOY_KIND, INVOKE_KIND])
/** Fields that carry value: a payload holding one is refused, whatever its kind. */
const VALUE_FIELDS = ['amount', 'balance', 'payment', 'value']

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

function rejected(message: string, detail: Record<string, unknown> = {}): ContractError {
  return new ContractError(ContractErrorCode.TRANSACTION_REJECTED, message, detail)
}

/** The invoke record without the payment (whose balance is each chain's own): what the host's execution determines. */
function executionPart(payload: InvokePayload): Uint8Array {
  const { value: _value, ...rest } = payload
  return encodeCanonical(asCbor(rest))
}

export function createContractHost(options: ContractHostOptions): ContractHost {
  const { crypto, keyPair, executor } = options
  const price = options.price ?? 0
  if (!Number.isSafeInteger(price) || price < 0) {
    throw new ContractError(ContractErrorCode.INVALID_INPUT, `the price must be a non-negative integer, got ${String(price)}`)
  }
  const now = options.now ?? Date.now
  const author = { crypto, keyPair, ...(options.blockLimits === undefined ? {} : { limits: options.blockLimits }) }
  const bridge: RpcBridge | undefined = options.rpc === undefined ? undefined : createRpcBridge(options.rpc)
  const contracts = new Map<string, DeployedContract>()
  /** Quotes not yet proposed, by contract: the record, who asked, and the new state's encoding. */
  const pending = new Map<string, { payload: InvokePayload; caller: string; state: Uint8Array }>()
  /** Consents by proposer, sequence number and payload hash, to the contract that gave them. */
  const consents = new Map<string, string>()
  const sla = new SlaRecorder()
  let head = options.head ?? EMPTY_CHAIN_HEAD
  let closed = false

  function known(id: string): DeployedContract {
    if (closed) throw new ContractError(ContractErrorCode.CLOSED, 'the host is closed')
    const contract = contracts.get(id)
    if (contract === undefined) throw new ContractError(ContractErrorCode.UNKNOWN_CONTRACT, `contract ${id} is not deployed here`, { contract: id })
    return contract
  }

  function append(block: HalfBlock): HalfBlock {
    head = advanceHead(crypto, head, block)
    return block
  }

  /** Runs an invocation from the committed state, fetching RPC answers as the contract asks for them. */
  async function run(
    contract: DeployedContract,
    from: { readonly hash: Uint8Array; readonly encoded: Uint8Array },
    inputJson: string,
    contextJson: string,
    recorded: RpcExchange[],
  ): Promise<ExecutionResult> {
    let sendState = false
    for (;;) {
      const outcome = await executor.execute({
        contractId: contract.id,
        deploy: contract.deploy,
        stateHash: from.hash,
        ...(sendState ? { encodedState: from.encoded } : {}),
        input: inputJson,
        context: contextJson,
        rpc: recorded,
      })
      if (outcome.kind === 'done') return outcome.result
      if (outcome.kind === 'failed') throw errorOf(outcome.error)
      if (outcome.kind === 'loaded') throw new ContractError(ContractErrorCode.SANDBOX_CRASHED, 'the executor only loaded the contract')
      if (outcome.kind === 'needs-state') {
        if (sendState) throw new ContractError(ContractErrorCode.SANDBOX_CRASHED, 'the executor refused the committed state')
        sendState = true
        continue
      }
      if (bridge === undefined) throw new ContractError(ContractErrorCode.RPC_NOT_ALLOWED, 'this host offers no RPC bridge', { endpoint: outcome.endpoint })
      if (recorded.length >= executor.limits.maxRpcCalls) {
        throw new ContractError(ContractErrorCode.RPC_TOO_LARGE, `the invocation made more than ${executor.limits.maxRpcCalls} RPC calls`)
      }
      recorded.push(await bridge(outcome.endpoint, outcome.request))
    }
  }

  /** A signed proposal to this host whose payload has the given kind. */
  function proposalTo(proposal: HalfBlock, kind: string): void {
    if (closed) throw new ContractError(ContractErrorCode.CLOSED, 'the host is closed')
    if (!isProposal(proposal) || !equalBytes(proposal.linkPublicKey, keyPair.publicKey)) throw rejected(`a ${kind} must be a proposal to this host`)
    if ((proposal.payload as { kind?: unknown }).kind !== kind) throw rejected(`not a ${kind} payload`)
    if (!crypto.verify(proposal.signature, blockHash(crypto, proposal), proposal.publicKey)) throw rejected('the proposal is not signed by its author')
  }

  async function quote(request: InvokeRequest): Promise<InvokePayload> {
    const contract = known(request.contract)
    if (!(request.caller instanceof Uint8Array) || request.caller.length !== 32) {
      throw new ContractError(ContractErrorCode.INVALID_INPUT, 'the caller must be a 32-byte public key')
    }
    if (!Number.isSafeInteger(request.timestamp) || request.timestamp < 0 || typeof request.seed !== 'string' || request.seed.length > 128) {
      throw new ContractError(ContractErrorCode.INVALID_INPUT, 'an invocation needs a non-negative integer timestamp and a seed of at most 128 characters')
    }
    const started = performance.now()
    try {
      const decoded = decodeWith(contract.input, request.input, ContractErrorCode.INPUT_INVALID, 'the input') as JsonValue
      // The contract sees (and the record carries) the input as it reads back from the chain: canonical key order.
      const input = canonicalForm(decoded, executor.limits.maxInputBytes, ContractErrorCode.INPUT_TOO_LARGE, 'the input')
      // What the invocation starts from, taken now: commits may happen while it runs.
      const from = { hash: contract.hash, encoded: contract.encoded, invocation: contract.invocations }
      const context = { caller: toHex(request.caller), timestamp: request.timestamp, seed: request.seed, invocation: from.invocation }
      const recorded: RpcExchange[] = []
      const result = await run(contract, from, JSON.stringify(input), JSON.stringify(context), recorded)
      buildEffects(result.effects, head, now()) // refused here, before a record exists, if any effect is bad
      const payload: InvokePayload = {
        kind: INVOKE_KIND,
        contract: fromHex(contract.id),
        deploy: fromHex(contract.deploy),
        invocation: from.invocation,
        input,
        timestamp: request.timestamp,
        seed: request.seed,
        previousStateHash: from.hash,
        stateHash: result.stateHash,
        output: result.output,
        effects: result.effects as JsonValue[],
        gasUsed: result.gasUsed,
        rpc: recorded,
      }
      pending.set(contract.id, { payload, caller: toHex(request.caller), state: result.state })
      sla.record(performance.now() - started, true)
      return payload
    } catch (error) {
      sla.record(performance.now() - started, false)
      throw error
    }
  }

  /**
   * Checks every effect and builds the proposals they make after `from`, without touching the host's chain: the
   * blocks, the head after them and the consents. Any bad effect is a RESULT_MALFORMED error.
   */
  function buildEffects(effects: JsonValue, from: ChainHead, timestamp: number): { proposals: HalfBlock[]; head: ChainHead; consents: string[] } {
    const built = { proposals: [] as HalfBlock[], head: from, consents: [] as string[] }
    for (const effect of effects as JsonValue[]) {
      const decoded = EffectCodec.decode(effect)
      if (isLeft(decoded)) {
        throw new ContractError(
          ContractErrorCode.RESULT_MALFORMED,
          'an effect is neither { kind: "propose", counterparty, payload } nor { kind: "countersign", proposer, sequenceNumber, payloadHash } (keys and hashes as 64 lowercase hex digits)',
        )
      }
      const checked = decoded.right
      if (checked.kind === 'countersign') {
        built.consents.push(consentKey(checked.proposer, checked.sequenceNumber, checked.payloadHash))
        continue
      }
      if (FORBIDDEN_PAYLOAD_KINDS.has(checked.payload.kind) || VALUE_FIELDS.some((field) => field in checked.payload)) {
        throw new ContractError(
          ContractErrorCode.RESULT_MALFORMED,
          `a contract may not propose a ${checked.payload.kind} payload or one carrying value (${VALUE_FIELDS.join(', ')})`,
          { kind: checked.payload.kind },
        )
      }
      try {
        const block = createProposal(author, built.head, { counterparty: fromHex(checked.counterparty), payload: asCbor(checked.payload), timestamp })
        built.proposals.push(block)
        built.head = advanceHead(crypto, built.head, block)
      } catch (cause) {
        throw new ContractError(
          ContractErrorCode.RESULT_MALFORMED,
          `a proposed payload does not make a valid block: ${cause instanceof Error ? cause.message : String(cause)}`,
          {},
          { cause },
        )
      }
    }
    return built
  }

  /** Runs `step` after every earlier one has finished: the host's chain grows one settled pair at a time. */
  let queue: Promise<unknown> = Promise.resolve()
  function exclusive<T>(step: () => Promise<T>): Promise<T> {
    const run = queue.then(step, step)
    queue = run.catch(() => undefined)
    return run
  }

  /** Stores a pair (and the host's blocks after it) in the host's ledger, if it has one; refused blocks refuse the pair. */
  async function settle(blocks: readonly HalfBlock[]): Promise<void> {
    if (options.ledger === undefined) return
    const outcomes = await options.ledger.ingest(blocks)
    for (const outcome of outcomes) {
      if (outcome.status !== 'rejected') continue
      const { code, message, detail } = outcome.error
      throw rejected(`the ledger refuses the transaction: ${message}`, { ledgerCode: code, ...detail })
    }
  }

  function consentKey(proposer: string, sequenceNumber: number, payloadHash: string): string {
    return `${proposer}:${sequenceNumber}:${payloadHash}`
  }

  function consentKeyOf(proposal: HalfBlock): string | undefined {
    if (!isProposal(proposal)) return undefined
    let payloadHash: string
    try {
      payloadHash = toHex(crypto.sha256(encodeCanonical(proposal.payload)))
    } catch {
      return undefined
    }
    return consentKey(toHex(proposal.publicKey), proposal.sequenceNumber, payloadHash)
  }

  /**
   * Everything a deploy checks before the host agrees: the payload's codec, the code hash, the initial state against
   * the state type, that the contract is new here, and that the code loads (code that does not parse or load is
   * refused before the host agrees to host it). Returns the contract, not yet deployed.
   */
  async function prepare(payloadValue: unknown): Promise<DeployedContract> {
    const decoded = DeployPayloadCodec.decode(payloadValue)
    if (isLeft(decoded)) throw rejected('malformed contract-deploy payload')
    const payload = decoded.right
    const id = contractId(crypto, payload.code)
    if (id !== toHex(payload.contract)) {
      throw new ContractError(ContractErrorCode.CODE_HASH_MISMATCH, 'the code does not hash to the contract id', {
        contract: toHex(payload.contract),
        codeHash: id,
      })
    }
    const initial = decodeJson(payload.initialState, executor.limits.maxStateBytes)
    decodeWith(typeFromDescription(payload.signature.state), initial, ContractErrorCode.STATE_INVALID, 'the initial state')
    if (contracts.has(id)) throw rejected(`contract ${id} is already deployed here`, { contract: id })
    const contract: DeployedContract = {
      id,
      deploy: toHex(deployHash(crypto, payload)),
      code: payload.code,
      signature: payload.signature,
      input: typeFromDescription(payload.signature.input),
      encoded: payload.initialState,
      hash: crypto.sha256(payload.initialState),
      invocations: 0,
    }
    await executor.register({ contractId: id, deploy: contract.deploy, code: payload.code, signature: payload.signature })
    const outcome = await executor.execute({
      contractId: id,
      deploy: contract.deploy,
      stateHash: contract.hash,
      encodedState: contract.encoded,
      input: 'null',
      context: 'null',
      rpc: [],
      loadOnly: true,
    })
    if (outcome.kind === 'failed') throw errorOf(outcome.error)
    return contract
  }

  /** Runs a committed invocation (this host's agreement) again from the contract's state and commits its result. */
  async function replayCommitted(agreement: HalfBlock): Promise<void> {
    const decoded = InvokePayloadCodec.decode(agreement.payload)
    if (isLeft(decoded)) throw rejected('malformed contract-invoke payload')
    const record = decoded.right
    const contract = known(toHex(record.contract))
    if (record.invocation !== contract.invocations || !equalBytes(record.previousStateHash, contract.hash) || toHex(record.deploy) !== contract.deploy) {
      throw rejected(`invocation ${record.invocation} of contract ${contract.id} does not follow the restored state`, { invocation: contract.invocations })
    }
    const context = { caller: toHex(agreement.linkPublicKey), timestamp: record.timestamp, seed: record.seed, invocation: record.invocation }
    const request = {
      contractId: contract.id,
      deploy: contract.deploy,
      stateHash: contract.hash,
      input: JSON.stringify(canonicalForm(record.input, executor.limits.maxInputBytes, ContractErrorCode.INPUT_TOO_LARGE, 'the input')),
      context: JSON.stringify(context),
      rpc: record.rpc,
    }
    let outcome = await executor.execute(request)
    if (outcome.kind === 'needs-state') outcome = await executor.execute({ ...request, encodedState: contract.encoded })
    if (outcome.kind === 'failed') throw errorOf(outcome.error)
    if (outcome.kind !== 'done' || !equalBytes(outcome.result.stateHash, record.stateHash)) {
      throw rejected(`replaying invocation ${record.invocation} of contract ${contract.id} does not reach the recorded state`, {
        invocation: record.invocation,
      })
    }
    for (const key of buildEffects(record.effects, head, agreement.timestamp).consents) consents.set(key, contract.id)
    contract.invocations++
    contract.hash = record.stateHash
    contract.encoded = outcome.result.state
  }

  return {
    publicKey: keyPair.publicKey,
    get head() {
      return head
    },
    price,

    async deploy(proposal) {
      proposalTo(proposal, DEPLOY_KIND)
      const contract = await prepare(proposal.payload)
      const id = contract.id
      return exclusive(async () => {
        if (contracts.has(id)) throw rejected(`contract ${id} is already deployed here`, { contract: id }) // deployed meanwhile
        const agreement = createAgreement(author, head, proposal, { timestamp: now() })
        await settle([proposal, agreement])
        contracts.set(id, contract)
        return append(agreement)
      })
    },

    async checkDeploy(payload) {
      if (closed) throw new ContractError(ContractErrorCode.CLOSED, 'the host is closed')
      return (await prepare(payload)).id
    },

    async restore(agreements) {
      for (const block of agreements) {
        if (!isAgreement(block) || !equalBytes(block.publicKey, keyPair.publicKey)) throw rejected("only this host's own agreements restore its contracts")
        const kind = (block.payload as { kind?: unknown }).kind
        if (kind === DEPLOY_KIND) {
          const contract = await prepare(block.payload)
          contracts.set(contract.id, contract)
        } else if (kind === INVOKE_KIND) {
          await replayCommitted(block)
        }
      }
    },

    quote,

    async countersign(proposal) {
      proposalTo(proposal, INVOKE_KIND)
      const decoded = InvokePayloadCodec.decode(proposal.payload)
      if (isLeft(decoded)) throw rejected('malformed contract-invoke payload')
      const payload = decoded.right
      const contract = known(toHex(payload.contract))
      const paid = payload.value?.amount ?? 0
      if (paid < price) {
        throw new ContractError(ContractErrorCode.PAYMENT_REQUIRED, `this host charges ${price} per invocation, the proposal pays ${paid}`, { price, paid })
      }
      if (payload.invocation !== contract.invocations || !equalBytes(payload.previousStateHash, contract.hash)) {
        throw rejected('the invoke does not start from the committed state', { invocation: contract.invocations })
      }
      const caller = toHex(proposal.publicKey)
      const matches = (quote: { payload: InvokePayload; caller: string } | undefined) =>
        quote !== undefined && quote.caller === caller && equalBytes(executionPart(quote.payload), executionPart(payload))
      if (!matches(pending.get(contract.id))) {
        // No matching quote (another caller's came in between, or none was asked): run it now from the committed state.
        await quote({ contract: contract.id, caller: proposal.publicKey, input: payload.input, timestamp: payload.timestamp, seed: payload.seed })
      }
      const quoted = pending.get(contract.id)
      if (quoted === undefined || !matches(quoted)) throw rejected('the proposed record is not what the contract computes')
      // Building, settling and committing the host's blocks is one step at a time: each starts from the head the last left.
      return exclusive(async () => {
        // Another invocation may have been committed while this one ran: it must still start from the committed state.
        if (payload.invocation !== contract.invocations || !equalBytes(payload.previousStateHash, contract.hash)) {
          throw rejected('the invoke does not start from the committed state', { invocation: contract.invocations })
        }
        // Build every block first: if any cannot be made, nothing is committed.
        const timestamp = now()
        let agreement: HalfBlock
        try {
          agreement = createAgreement(author, head, proposal, { timestamp })
        } catch (cause) {
          throw rejected(`the host cannot agree to this proposal: ${cause instanceof Error ? cause.message : String(cause)}`)
        }
        const effects = buildEffects(payload.effects, advanceHead(crypto, head, agreement), timestamp)
        // The payment is real value: the ledger checks the caller could pay it before anything is committed.
        await settle([proposal, agreement, ...effects.proposals])
        // Commit: the state the contract computed becomes the contract's state (the sandbox already holds it).
        pending.delete(contract.id)
        contract.invocations++
        contract.hash = payload.stateHash
        contract.encoded = quoted.state
        head = effects.head
        for (const key of effects.consents) consents.set(key, contract.id)
        return { agreement, proposals: effects.proposals }
      })
    },

    state(id) {
      return decodeJson(known(id).encoded, executor.limits.maxStateBytes)
    },
    contract: (id) => contracts.get(id),
    consents: (proposal) => {
      const key = consentKeyOf(proposal)
      return key !== undefined && consents.has(key)
    },
    consentOf: (proposal) => {
      const key = consentKeyOf(proposal)
      return key === undefined ? undefined : consents.get(key)
    },
    sla: () => sla.figures(price),
    async close() {
      closed = true
      await executor.close()
    },
  }
}
