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
 * effects become proposals in the host's chain, `countersign` effects are consents `consents` answers (effects.ts).
 *
 * This file is the host's state and the order of its steps; the steps themselves live beside it: deploy checks
 * (deploy-check.ts), running and replaying invocations (invocation-run.ts), effects (effects.ts), consents
 * (consents.ts), quotes awaiting their proposal (pending-quotes.ts), the host's chain and ledger (host-chain.ts),
 * refusals (refusal.ts) and SLA figures (sla.ts).
 */
import { type Crypto, equalBytes, fromHex, type KeyPair, toHex } from '@constellation/crypto'
import { advanceHead, type ChainHead, createAgreement, EMPTY_CHAIN_HEAD, type HalfBlock, isAgreement } from '@constellation/trustchain'
import { isLeft } from 'fp-ts/lib/Either.js'
import { DEPLOY_KIND, INVOKE_KIND, type InvokePayload, InvokePayloadCodec } from '../chain/payloads.js'
import { ContractError, ContractErrorCode } from '../errors.js'
import { canonicalForm, decodeJson, type JsonValue } from '../json/json-value.js'
import type { RpcExchange } from '../sandbox/contract-vm.js'
import type { AsyncExecutor } from '../sandbox/executor.js'
import { decodeWith } from '../types/contract-type.js'
import { ConsentBook } from './consents.js'
import { prepareDeploy } from './deploy-check.js'
import { buildEffects } from './effects.js'
import type { ContractHost, ContractHostOptions, DeployedContract, InvokeRequest } from './host-api.js'
import { HostChain } from './host-chain.js'
import { replayInvocation, runInvocation } from './invocation-run.js'
import { PendingQuotes } from './pending-quotes.js'
import { checkProposalTo, rejected } from './refusal.js'
import { createRpcBridge, type RpcBridge } from './rpc-bridge.js'
import { type SlaFigures, SlaRecorder } from './sla.js'

/** Whether an invoke record starts from the contract's committed state. */
function startsFromCommitted(contract: DeployedContract, payload: InvokePayload): boolean {
  return payload.invocation === contract.invocations && equalBytes(payload.previousStateHash, contract.hash)
}

class ContractHostShell implements ContractHost {
  readonly publicKey: Uint8Array
  readonly price: number
  readonly #crypto: Crypto
  readonly #keyPair: KeyPair
  readonly #executor: AsyncExecutor
  readonly #now: () => number
  readonly #bridge: RpcBridge | undefined
  readonly #chain: HostChain
  readonly #contracts = new Map<string, DeployedContract>()
  readonly #quotes = new PendingQuotes()
  readonly #consents: ConsentBook
  readonly #sla = new SlaRecorder()
  #closed = false

  constructor(options: ContractHostOptions) {
    const { crypto, keyPair, executor } = options
    const price = options.price ?? 0
    if (!Number.isSafeInteger(price) || price < 0) {
      throw new ContractError(ContractErrorCode.INVALID_INPUT, `the price must be a non-negative integer, got ${String(price)}`)
    }
    this.publicKey = keyPair.publicKey
    this.price = price
    this.#crypto = crypto
    this.#keyPair = keyPair
    this.#executor = executor
    this.#now = options.now ?? Date.now
    const author = { crypto, keyPair, ...(options.blockLimits === undefined ? {} : { limits: options.blockLimits }) }
    this.#bridge = options.rpc === undefined ? undefined : createRpcBridge(options.rpc)
    this.#chain = new HostChain(author, options.head ?? EMPTY_CHAIN_HEAD, options.ledger)
    this.#consents = new ConsentBook(crypto)
  }

  get head(): ChainHead {
    return this.#chain.head
  }

  async deploy(proposal: HalfBlock): Promise<HalfBlock> {
    this.#checkProposal(proposal, DEPLOY_KIND)
    const contract = await this.#prepare(proposal.payload)
    const id = contract.id
    return this.#chain.exclusive(async () => {
      if (this.#contracts.has(id)) throw rejected(`contract ${id} is already deployed here`, { contract: id }) // deployed meanwhile
      const agreement = createAgreement(this.#chain.author, this.#chain.head, proposal, { timestamp: this.#now() })
      await this.#chain.settle([proposal, agreement])
      this.#contracts.set(id, contract)
      return this.#chain.append(agreement)
    })
  }

  async checkDeploy(payload: unknown): Promise<string> {
    this.#checkOpen()
    return (await this.#prepare(payload)).id
  }

  async restore(agreements: readonly HalfBlock[]): Promise<void> {
    for (const block of agreements) {
      if (!isAgreement(block) || !equalBytes(block.publicKey, this.#keyPair.publicKey)) throw rejected("only this host's own agreements restore its contracts")
      const kind = (block.payload as { kind?: unknown }).kind
      if (kind === DEPLOY_KIND) {
        const contract = await this.#prepare(block.payload)
        this.#contracts.set(contract.id, contract)
      } else if (kind === INVOKE_KIND) {
        await this.#replayCommitted(block)
      }
    }
  }

  async quote(request: InvokeRequest): Promise<InvokePayload> {
    const contract = this.#known(request.contract)
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
      const input = canonicalForm(decoded, this.#executor.limits.maxInputBytes, ContractErrorCode.INPUT_TOO_LARGE, 'the input')
      // What the invocation starts from, taken now: commits may happen while it runs.
      const from = { hash: contract.hash, encoded: contract.encoded, invocation: contract.invocations }
      const context = { caller: toHex(request.caller), timestamp: request.timestamp, seed: request.seed, invocation: from.invocation }
      const recorded: RpcExchange[] = []
      const result = await runInvocation(this.#executor, this.#bridge, contract, from, JSON.stringify(input), JSON.stringify(context), recorded)
      buildEffects(this.#chain.author, result.effects, this.#chain.head, this.#now()) // refused here, before a record exists, if any effect is bad
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
      this.#quotes.set(contract.id, { payload, caller: toHex(request.caller), state: result.state })
      this.#sla.record(performance.now() - started, true)
      return payload
    } catch (error) {
      this.#sla.record(performance.now() - started, false)
      throw error
    }
  }

  async countersign(proposal: HalfBlock): Promise<{ agreement: HalfBlock; proposals: HalfBlock[] }> {
    this.#checkProposal(proposal, INVOKE_KIND)
    const decoded = InvokePayloadCodec.decode(proposal.payload)
    if (isLeft(decoded)) throw rejected('malformed contract-invoke payload')
    const payload = decoded.right
    const contract = this.#known(toHex(payload.contract))
    const price = this.price
    const paid = payload.value?.amount ?? 0
    if (paid < price) {
      throw new ContractError(ContractErrorCode.PAYMENT_REQUIRED, `this host charges ${price} per invocation, the proposal pays ${paid}`, { price, paid })
    }
    if (!startsFromCommitted(contract, payload)) throw rejected('the invoke does not start from the committed state', { invocation: contract.invocations })
    const caller = toHex(proposal.publicKey)
    if (this.#quotes.matching(contract.id, caller, payload) === undefined) {
      // No matching quote (another caller's came in between, or none was asked): run it now from the committed state.
      await this.quote({ contract: contract.id, caller: proposal.publicKey, input: payload.input, timestamp: payload.timestamp, seed: payload.seed })
    }
    const quoted = this.#quotes.matching(contract.id, caller, payload)
    if (quoted === undefined) throw rejected('the proposed record is not what the contract computes')
    // Building, settling and committing the host's blocks is one step at a time: each starts from the head the last left.
    return this.#chain.exclusive(async () => {
      // Another invocation may have been committed while this one ran: it must still start from the committed state.
      if (!startsFromCommitted(contract, payload)) throw rejected('the invoke does not start from the committed state', { invocation: contract.invocations })
      // Build every block first: if any cannot be made, nothing is committed.
      const author = this.#chain.author
      const head = this.#chain.head
      const timestamp = this.#now()
      let agreement: HalfBlock
      try {
        agreement = createAgreement(author, head, proposal, { timestamp })
      } catch (cause) {
        throw rejected(`the host cannot agree to this proposal: ${cause instanceof Error ? cause.message : String(cause)}`)
      }
      const effects = buildEffects(author, payload.effects, advanceHead(this.#crypto, head, agreement), timestamp)
      // The payment is real value: the ledger checks the caller could pay it before anything is committed.
      await this.#chain.settle([proposal, agreement, ...effects.proposals])
      // Commit: the state the contract computed becomes the contract's state (the sandbox already holds it).
      this.#quotes.delete(contract.id)
      this.#commit(contract, payload.stateHash, quoted.state)
      this.#chain.advanceTo(effects.head)
      this.#consents.give(effects.consents, contract.id)
      return { agreement, proposals: effects.proposals }
    })
  }

  state(id: string): JsonValue {
    return decodeJson(this.#known(id).encoded, this.#executor.limits.maxStateBytes)
  }

  contract(id: string): Readonly<DeployedContract> | undefined {
    return this.#contracts.get(id)
  }

  // Own bound properties, not prototype methods: `consents` is meant to be handed over on its own as a signing policy.
  readonly consents = (proposal: HalfBlock): boolean => this.#consents.has(proposal)

  readonly consentOf = (proposal: HalfBlock): string | undefined => this.#consents.of(proposal)

  sla(): SlaFigures {
    return this.#sla.figures(this.price)
  }

  async close(): Promise<void> {
    this.#closed = true
    await this.#executor.close()
  }

  #checkOpen(): void {
    if (this.#closed) throw new ContractError(ContractErrorCode.CLOSED, 'the host is closed')
  }

  #known(id: string): DeployedContract {
    this.#checkOpen()
    const contract = this.#contracts.get(id)
    if (contract === undefined) throw new ContractError(ContractErrorCode.UNKNOWN_CONTRACT, `contract ${id} is not deployed here`, { contract: id })
    return contract
  }

  /** A signed proposal to this host whose payload has the given kind. */
  #checkProposal(proposal: HalfBlock, kind: string): void {
    this.#checkOpen()
    checkProposalTo(this.#crypto, this.#keyPair.publicKey, proposal, kind)
  }

  #prepare(payload: unknown): Promise<DeployedContract> {
    return prepareDeploy(this.#crypto, this.#executor, payload, (id) => this.#contracts.has(id))
  }

  /** Runs a committed invocation (this host's agreement) again from the contract's state and commits its result. */
  async #replayCommitted(agreement: HalfBlock): Promise<void> {
    const decoded = InvokePayloadCodec.decode(agreement.payload)
    if (isLeft(decoded)) throw rejected('malformed contract-invoke payload')
    const record = decoded.right
    const contract = this.#known(toHex(record.contract))
    if (!startsFromCommitted(contract, record) || toHex(record.deploy) !== contract.deploy) {
      throw rejected(`invocation ${record.invocation} of contract ${contract.id} does not follow the restored state`, { invocation: contract.invocations })
    }
    const result = await replayInvocation(this.#executor, contract, record, toHex(agreement.linkPublicKey))
    this.#consents.give(buildEffects(this.#chain.author, record.effects, this.#chain.head, agreement.timestamp).consents, contract.id)
    this.#commit(contract, record.stateHash, result.state)
  }

  #commit(contract: DeployedContract, stateHash: Uint8Array, encoded: Uint8Array): void {
    contract.invocations++
    contract.hash = stateHash
    contract.encoded = encoded
  }
}

export function createContractHost(options: ContractHostOptions): ContractHost {
  return new ContractHostShell(options)
}
