/** The host's parts on their own: effects, consents, pending quotes, its chain, refusals, deploy checks and invocation runs. */
import { encodeCanonical, fromHex, toHex } from '@constellation/crypto'
import { advanceHead, createProposal, EMPTY_CHAIN_HEAD, type HalfBlock, type Ledger } from '@constellation/trustchain'
import { describe, expect, it } from 'vitest'
import {
  ContractErrorCode,
  contractId,
  createContractHost,
  DEPLOY_KIND,
  describeSignature,
  type ExecuteOutcome,
  type ExecuteRequest,
  INVOKE_KIND,
  inThreadExecutor,
  type InvokePayload,
  sandboxLimits,
} from '../src/index.js'
import { asCbor, encodeJson } from '../src/json/json-value.js'
import type { AsyncExecutor } from '../src/sandbox/executor.js'
import { ConsentBook, consentKey, consentKeyOf } from '../src/host/consents.js'
import { prepareDeploy } from '../src/host/deploy-check.js'
import { buildEffects } from '../src/host/effects.js'
import { HostChain } from '../src/host/host-chain.js'
import type { DeployedContract } from '../src/host/host-api.js'
import { replayInvocation, runInvocation } from '../src/host/invocation-run.js'
import { executionPart, PendingQuotes } from '../src/host/pending-quotes.js'
import { checkProposalTo } from '../src/host/refusal.js'
import { counterContract } from './fixtures/contracts.js'
import { crypto, executor, fixedNow, keyPair } from './helpers.js'

const hostKeys = keyPair(40)
const author = { crypto, keyPair: hostKeys }
const otherKeys = keyPair(41)
const other = toHex(otherKeys.publicKey)
const hash = (n: number) => new Uint8Array(32).fill(n)

/** A proposal from `otherKeys` to the host carrying `payload`. */
function proposalToHost(payload: Record<string, unknown>, head = EMPTY_CHAIN_HEAD): HalfBlock {
  return createProposal({ crypto, keyPair: otherKeys }, head, { counterparty: hostKeys.publicKey, payload: asCbor(payload as never), timestamp: fixedNow() })
}

function codeOf(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return (error as { code?: unknown }).code
  }
  return undefined
}

async function asyncCodeOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return (error as { code?: unknown }).code
  }
  return undefined
}

function invokeRecord(overrides: Partial<InvokePayload> = {}): InvokePayload {
  return {
    kind: INVOKE_KIND,
    contract: hash(1),
    deploy: hash(2),
    invocation: 0,
    input: 1,
    timestamp: 5,
    seed: 'seed',
    previousStateHash: hash(3),
    stateHash: hash(4),
    output: 1,
    effects: [],
    gasUsed: 10,
    rpc: [],
    ...overrides,
  }
}

describe('effects', () => {
  it('builds proposals after the given head and collects consents, without touching anything else', () => {
    const payloadHash = toHex(hash(9))
    const built = buildEffects(
      author,
      [
        { kind: 'propose', counterparty: other, payload: { kind: 'note', text: 'hi' } },
        { kind: 'countersign', proposer: other, sequenceNumber: 3, payloadHash },
        { kind: 'propose', counterparty: other, payload: { kind: 'note', text: 'again' } },
      ],
      EMPTY_CHAIN_HEAD,
      fixedNow(),
    )
    expect(built.proposals.map((block) => block.sequenceNumber)).toEqual([1, 2])
    expect(built.head.sequenceNumber).toBe(2)
    expect(built.head).toEqual(advanceHead(crypto, advanceHead(crypto, EMPTY_CHAIN_HEAD, built.proposals[0]!), built.proposals[1]!))
    expect(built.consents).toEqual([consentKey(other, 3, payloadHash)])
  })

  it('refuses malformed effects, value-carrying payloads and forbidden kinds as RESULT_MALFORMED', () => {
    const bad = (effect: unknown) => codeOf(() => buildEffects(author, [effect as never], EMPTY_CHAIN_HEAD, fixedNow()))
    expect(bad({ kind: 'propose', counterparty: 'AB', payload: { kind: 'note' } })).toBe(ContractErrorCode.RESULT_MALFORMED)
    expect(bad({ kind: 'countersign', proposer: other, sequenceNumber: 0, payloadHash: other })).toBe(ContractErrorCode.RESULT_MALFORMED)
    expect(bad({ kind: 'propose', counterparty: other, payload: { kind: 'transfer' } })).toBe(ContractErrorCode.RESULT_MALFORMED)
    expect(bad({ kind: 'propose', counterparty: other, payload: { kind: DEPLOY_KIND } })).toBe(ContractErrorCode.RESULT_MALFORMED)
    expect(bad({ kind: 'propose', counterparty: other, payload: { kind: 'note', amount: 1 } })).toBe(ContractErrorCode.RESULT_MALFORMED)
    expect(bad({ kind: 'propose', counterparty: other, payload: { kind: 'note', text: 'x'.repeat(1 << 21) } })).toBe(ContractErrorCode.RESULT_MALFORMED)
  })
})

describe('consents', () => {
  const proposal = proposalToHost({ kind: 'note', text: 'agreed' })
  const key = consentKey(other, proposal.sequenceNumber, toHex(crypto.sha256(encodeCanonical(proposal.payload))))

  it('keys a proposal by proposer, sequence number and payload hash', () => {
    expect(consentKeyOf(crypto, proposal)).toBe(key)
  })

  it('answers only for the exact payload a contract consented to, naming the contract', () => {
    const book = new ConsentBook(crypto)
    expect(book.has(proposal)).toBe(false)
    expect(book.of(proposal)).toBeUndefined()
    book.give([key], 'c1')
    expect(book.has(proposal)).toBe(true)
    expect(book.of(proposal)).toBe('c1')
    const changed = proposalToHost({ kind: 'note', text: 'changed' })
    expect(book.has(changed)).toBe(false)
    expect(book.of(changed)).toBeUndefined()
  })

  it('a host hands out `consents` and `consentOf` as functions that work on their own', () => {
    const host = createContractHost({ crypto, keyPair: hostKeys, executor: inThreadExecutor(executor()) })
    const { consents, consentOf } = host
    expect(consents(proposal)).toBe(false)
    expect(consentOf(proposal)).toBeUndefined()
  })
})

describe('pending quotes', () => {
  it('the execution part leaves out the payment', () => {
    const free = invokeRecord()
    expect(executionPart({ ...free, value: { amount: 3, balance: 7 } })).toEqual(executionPart(free))
    expect(executionPart(invokeRecord({ output: 2 }))).not.toEqual(executionPart(free))
  })

  it('matches a proposal only from the caller that asked and with the quoted record', () => {
    const quotes = new PendingQuotes()
    const payload = invokeRecord()
    quotes.set('c1', { payload, caller: 'alice', state: hash(5) })
    expect(quotes.matching('c1', 'alice', { ...payload, value: { amount: 1, balance: 0 } })?.state).toEqual(hash(5))
    expect(quotes.matching('c1', 'bob', payload)).toBeUndefined()
    expect(quotes.matching('c1', 'alice', invokeRecord({ gasUsed: 11 }))).toBeUndefined()
    expect(quotes.matching('c2', 'alice', payload)).toBeUndefined()
    quotes.delete('c1')
    expect(quotes.matching('c1', 'alice', payload)).toBeUndefined()
  })
})

describe("the host's chain", () => {
  it('runs steps one at a time, in order, even after a step fails', async () => {
    const chain = new HostChain(author, EMPTY_CHAIN_HEAD, undefined)
    const order: string[] = []
    const slow = chain.exclusive(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20))
      order.push('first')
      throw new Error('first fails')
    })
    const fast = chain.exclusive(async () => {
      order.push('second')
      return 2
    })
    await expect(slow).rejects.toThrow('first fails')
    expect(await fast).toBe(2)
    expect(order).toEqual(['first', 'second'])
  })

  it('appends blocks to its head and settles nothing without a ledger', async () => {
    const chain = new HostChain(author, EMPTY_CHAIN_HEAD, undefined)
    const block = createProposal(author, chain.head, { counterparty: otherKeys.publicKey, payload: asCbor({ kind: 'note' }), timestamp: fixedNow() })
    expect(chain.append(block)).toBe(block)
    expect(chain.head).toEqual(advanceHead(crypto, EMPTY_CHAIN_HEAD, block))
    await expect(chain.settle([block])).resolves.toBeUndefined()
    chain.advanceTo(EMPTY_CHAIN_HEAD)
    expect(chain.head).toBe(EMPTY_CHAIN_HEAD)
  })

  it("refuses a pair the ledger refuses, carrying the ledger's code", async () => {
    const ledger = { ingest: async () => [{ status: 'stored' }, { status: 'rejected', error: { code: 'NO_FUNDS', message: 'short', detail: { need: 3 } } }] }
    const chain = new HostChain(author, EMPTY_CHAIN_HEAD, ledger as unknown as Ledger)
    await expect(chain.settle([])).rejects.toMatchObject({
      code: ContractErrorCode.TRANSACTION_REJECTED,
      message: 'the ledger refuses the transaction: short',
      detail: { ledgerCode: 'NO_FUNDS', need: 3 },
    })
  })
})

describe('refusals', () => {
  it('accepts only a signed proposal to this host with the named payload kind', () => {
    const proposal = proposalToHost({ kind: INVOKE_KIND })
    expect(() => checkProposalTo(crypto, hostKeys.publicKey, proposal, INVOKE_KIND)).not.toThrow()
    expect(() => checkProposalTo(crypto, otherKeys.publicKey, proposal, INVOKE_KIND)).toThrow(`a ${INVOKE_KIND} must be a proposal to this host`)
    expect(() => checkProposalTo(crypto, hostKeys.publicKey, proposal, DEPLOY_KIND)).toThrow(`not a ${DEPLOY_KIND} payload`)
    const forged = { ...proposal, signature: new Uint8Array(proposal.signature.length) }
    expect(() => checkProposalTo(crypto, hostKeys.publicKey, forged, INVOKE_KIND)).toThrow('the proposal is not signed by its author')
    expect(codeOf(() => checkProposalTo(crypto, hostKeys.publicKey, forged, INVOKE_KIND))).toBe(ContractErrorCode.TRANSACTION_REJECTED)
  })
})

describe('deploy checks', () => {
  const payload = {
    kind: DEPLOY_KIND,
    contract: fromHex(contractId(crypto, counterContract.code)),
    code: counterContract.code,
    signature: describeSignature(counterContract.signature),
    initialState: encodeJson(0, 1 << 20),
  }

  it('returns the contract at its initial state, loaded in the executor', async () => {
    const contract = await prepareDeploy(crypto, inThreadExecutor(executor()), payload, () => false)
    expect(contract.id).toBe(contractId(crypto, counterContract.code))
    expect(contract.invocations).toBe(0)
    expect(contract.hash).toEqual(crypto.sha256(payload.initialState))
  })

  it('refuses a malformed payload, a code hash mismatch, a bad initial state and a contract already here', async () => {
    const run = (value: unknown, deployed = false) => asyncCodeOf(prepareDeploy(crypto, inThreadExecutor(executor()), value, () => deployed))
    expect(await run({ ...payload, extra: 1 })).toBe(ContractErrorCode.TRANSACTION_REJECTED)
    expect(await run({ ...payload, contract: hash(1) })).toBe(ContractErrorCode.CODE_HASH_MISMATCH)
    expect(await run({ ...payload, initialState: encodeJson('zero', 1 << 20) })).toBe(ContractErrorCode.STATE_INVALID)
    expect(await run(payload, true)).toBe(ContractErrorCode.TRANSACTION_REJECTED)
  })
})

describe('invocation runs', () => {
  const limits = sandboxLimits({ maxRpcCalls: 2 })
  const contract: DeployedContract = {
    id: 'c1',
    deploy: 'd1',
    code: '',
    signature: describeSignature(counterContract.signature),
    input: counterContract.signature.input,
    encoded: hash(6),
    hash: hash(7),
    invocations: 0,
  }
  const done: ExecuteOutcome = { kind: 'done', result: { output: 1, effects: [], state: hash(8), stateHash: hash(9), gasUsed: 1 } }

  /** An executor answering from a script, one outcome per request, keeping the requests. */
  function scripted(outcomes: ExecuteOutcome[]): AsyncExecutor & { requests: ExecuteRequest[] } {
    const requests: ExecuteRequest[] = []
    return {
      limits,
      requests,
      register: async () => undefined,
      execute: async (request) => {
        requests.push({ ...request, rpc: [...request.rpc] })
        return outcomes.shift() ?? { kind: 'failed', error: { code: ContractErrorCode.SANDBOX_CRASHED, message: 'script ended', detail: {} } }
      },
      close: async () => undefined,
    }
  }
  const needsRpc: ExecuteOutcome = { kind: 'needs-rpc', endpoint: 'https://a.example/x', request: '1' }
  const bridge = async (endpoint: string, request: string) => ({ endpoint, request, response: `${request}!` })

  it('sends the state when asked, calls out over RPC when asked, and records the answers', async () => {
    const executor = scripted([{ kind: 'needs-state' }, needsRpc, done])
    const recorded: { endpoint: string; request: string; response: string }[] = []
    const result = await runInvocation(executor, bridge, contract, contract, '1', '{}', recorded)
    expect(result).toBe(done.kind === 'done' ? done.result : undefined)
    expect(recorded).toEqual([{ endpoint: 'https://a.example/x', request: '1', response: '1!' }])
    expect(executor.requests.map((request) => request.encodedState !== undefined)).toEqual([false, true, true])
    expect(executor.requests.map((request) => request.rpc.length)).toEqual([0, 0, 1])
  })

  it('fails with typed errors: no bridge, too many RPC calls, a refused state, a bare load, a failure', async () => {
    const run = (outcomes: ExecuteOutcome[], withBridge = true) =>
      asyncCodeOf(runInvocation(scripted(outcomes), withBridge ? bridge : undefined, contract, contract, '1', '{}', []))
    expect(await run([needsRpc], false)).toBe(ContractErrorCode.RPC_NOT_ALLOWED)
    expect(await run([needsRpc, needsRpc, needsRpc])).toBe(ContractErrorCode.RPC_TOO_LARGE)
    expect(await run([{ kind: 'needs-state' }, { kind: 'needs-state' }])).toBe(ContractErrorCode.SANDBOX_CRASHED)
    expect(await run([{ kind: 'loaded' }])).toBe(ContractErrorCode.SANDBOX_CRASHED)
    expect(await run([{ kind: 'failed', error: { code: ContractErrorCode.OUT_OF_GAS, message: 'gas', detail: {} } }])).toBe(ContractErrorCode.OUT_OF_GAS)
  })

  it('a replay must reach the recorded state, sending the state only when asked', async () => {
    const record = invokeRecord({ stateHash: hash(9) })
    const executor = scripted([{ kind: 'needs-state' }, done])
    expect(await replayInvocation(executor, contract, record, other)).toBe(done.kind === 'done' ? done.result : undefined)
    expect(executor.requests.map((request) => request.encodedState !== undefined)).toEqual([false, true])
    expect(JSON.parse(executor.requests[0]!.context)).toEqual({ caller: other, timestamp: 5, seed: 'seed', invocation: 0 })
    await expect(replayInvocation(scripted([done]), contract, invokeRecord({ stateHash: hash(10) }), other)).rejects.toMatchObject({
      code: ContractErrorCode.TRANSACTION_REJECTED,
      message: 'replaying invocation 0 of contract c1 does not reach the recorded state',
    })
  })
})
