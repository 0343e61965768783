import { encodeCanonical, toHex } from '@constellation/crypto'
import {
  advanceHead,
  createGenesisBlock,
  createLedger,
  createMemoryBlockStore,
  decodeBlock,
  EMPTY_CHAIN_HEAD,
  encodeBlock,
  PayloadRegistry,
  signBlock,
  TRANSFER,
  withValue,
} from '@constellation/trustchain'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import {
  ContractErrorCode,
  contractId,
  createCaller,
  createContractHost,
  defineContract,
  inThreadExecutor,
  type InvokePayload,
  PROTOCOL_SIZE_LIMITS,
  reexecute,
  registerContractPayloads,
  Types,
  verifyExecutionFraudProof,
} from '../src/index.js'
import { tokenContract } from './fixtures/contracts.js'
import { crypto, executor, fixedNow, keyPair } from './helpers.js'

const hostKeys = keyPair(7)
/** A caller whose chain opens with `balance` (its genesis block too, for ledgers that must check its payments). */
function funded(seed: number, balance = 1_000) {
  const genesis = createGenesisBlock({ crypto, keyPair: keyPair(seed) }, { balance, timestamp: 1 })
  return { genesis, caller: createCaller({ crypto, keyPair: keyPair(seed), now: fixedNow, head: advanceHead(crypto, EMPTY_CHAIN_HEAD, genesis) }) }
}

const { genesis: aliceGenesis, caller: alice } = funded(1)
const token = tokenContract(toHex(alice.publicKey))
const host = createContractHost({ crypto, keyPair: hostKeys, executor: inThreadExecutor(executor()), price: 3, now: fixedNow })
const verifier = inThreadExecutor(executor())

/** A proposal signed by hand (not through a caller): for payloads a well-behaved caller would never propose. */
function proposalBy(seed: number, caller: { publicKey: Uint8Array; head: { sequenceNumber: number; hash: Uint8Array } }, to: Uint8Array, payload: unknown) {
  return signBlock(crypto, keyPair(seed), {
    publicKey: caller.publicKey,
    sequenceNumber: caller.head.sequenceNumber + 1,
    linkPublicKey: to,
    linkSequenceNumber: 0,
    previousHash: caller.head.hash,
    timestamp: fixedNow(),
    type: 'tx',
    payload: payload as never,
  })
}

describe('deploy and invoke as transaction pairs', async () => {
  const deployed = await alice.deploy(host, token)
  const first = await alice.invoke(host, token, { to: 'acct001', amount: 10 })

  it('deploy and invoke are half-blocks that a trustchain ledger with the contract payloads accepts', async () => {
    const registry = registerContractPayloads(new PayloadRegistry([TRANSFER]))
    const ledger = createLedger({ crypto, store: createMemoryBlockStore({ crypto }), registry })
    const outcomes = await ledger.ingest([aliceGenesis, deployed.proposal, deployed.agreement, first.proposal, first.agreement])
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['stored', 'stored', 'stored', 'stored', 'stored'])
    expect(deployed.id).toBe(toHex(crypto.sha256(new TextEncoder().encode(token.code))))
  })

  it('contract payloads with keys their codec does not name are refused', () => {
    const registry = registerContractPayloads(new PayloadRegistry([TRANSFER]))
    expect(registry.check('tx', first.proposal.payload).ok).toBe(true)
    expect(registry.check('tx', { ...(first.proposal.payload as object), note: 'extra' } as never).ok).toBe(false)
    expect(registry.check('tx', { ...(deployed.proposal.payload as object), note: 'extra' } as never).ok).toBe(false)
    // The payment is closed too: exactly { amount, balance }, and only on invoke records.
    expect(registry.check('tx', { ...(first.proposal.payload as object), value: { amount: 3, balance: 997, note: 'extra' } } as never).ok).toBe(false)
    expect(registry.check('tx', { ...(deployed.proposal.payload as object), value: { amount: 3, balance: 997 } } as never).ok).toBe(false)
  })

  it('the invoke records input, output, state hash, gas and pays the advertised price as value', () => {
    const record = first.agreement.payload as unknown as InvokePayload
    expect(record.input).toEqual({ to: 'acct001', amount: 10 })
    expect(record.output).toEqual({ ok: true, balance: 999_990 })
    // The caller's chain pays 3 out of its 1,000 in the proposal; the host's (empty before) holds 3 in its agreement.
    expect((first.proposal.payload as unknown as InvokePayload).value).toEqual({ amount: 3, balance: 997 })
    expect(record.value).toEqual({ amount: 3, balance: 3 })
    expect(record.gasUsed).toBe(first.record.gasUsed)
    expect(toHex(record.stateHash)).toBe(toHex(crypto.sha256(encodeCanonical(host.state(deployed.id) as never))))
    expect(first.output).toEqual({ ok: true, balance: 999_990 })
  })

  it('the host countersigns only when paid', async () => {
    const quote = await host.quote({ contract: deployed.id, caller: alice.publicKey, input: { to: 'acct002', amount: 1 }, timestamp: fixedNow(), seed: '01' })
    const underpaid = proposalBy(1, alice, host.publicKey, withValue(alice.head, quote, 2))
    await expect(host.countersign(underpaid)).rejects.toMatchObject({ code: ContractErrorCode.PAYMENT_REQUIRED })
    const unpaid = proposalBy(1, alice, host.publicKey, quote)
    await expect(host.countersign(unpaid)).rejects.toMatchObject({ code: ContractErrorCode.PAYMENT_REQUIRED })
  })

  it('a proposal whose record is not what the contract computes is refused', async () => {
    const quote = await host.quote({ contract: deployed.id, caller: alice.publicKey, input: { to: 'acct002', amount: 1 }, timestamp: fixedNow(), seed: '01' })
    const forged = proposalBy(1, alice, host.publicKey, withValue(alice.head, { ...quote, output: { ok: true, balance: 5 } }, 3))
    await expect(host.countersign(forged)).rejects.toMatchObject({ code: ContractErrorCode.TRANSACTION_REJECTED })
  })

  it('any node re-executes a recorded invocation and agrees', async () => {
    const previousState = encodeCanonical(token.initialState as never)
    const verdict = await reexecute(crypto, verifier, { deploy: deployed.proposal, invoke: first.agreement, previousState })
    expect(verdict.kind).toBe('agrees')
    const notFraud = await verifyExecutionFraudProof(crypto, verifier, { deploy: deployed.proposal, invoke: first.agreement, previousState })
    expect(E.isLeft(notFraud) && notFraud.left.code).toBe(ContractErrorCode.INVALID_FRAUD_PROOF)
  })

  it('a host that signs a wrong record is caught by a fraud proof anyone can check', async () => {
    const record = first.agreement.payload as unknown as InvokePayload
    const lie = signBlock(crypto, hostKeys, { ...first.agreement, payload: { ...record, output: { ok: true, balance: 1 } } as never })
    const previousState = encodeCanonical(token.initialState as never)
    const verdict = await reexecute(crypto, verifier, { deploy: deployed.agreement, invoke: lie, previousState })
    expect(verdict.kind === 'disagrees' && verdict.reason).toBe('the output differs from the record')
    if (verdict.kind !== 'disagrees') return
    const checked = await verifyExecutionFraudProof(crypto, inThreadExecutor(executor()), verdict.proof)
    expect(checked).toEqual(E.right('the output differs from the record'))
    // The proof is bound to the host's signature: a block the host did not sign proves nothing.
    const unsigned = { ...lie, signature: new Uint8Array(64) }
    const refused = await verifyExecutionFraudProof(crypto, verifier, { ...verdict.proof, invoke: unsigned })
    expect(E.isLeft(refused) && refused.left.code).toBe(ContractErrorCode.INVALID_FRAUD_PROOF)
  })

  it('a deploy of the same code with another signature does not make a fraud proof, whichever the verifier saw first', async () => {
    // Mallory deploys the token's code elsewhere with an output type the honest record cannot fit.
    const mallory = funded(66).caller
    const elsewhere = createContractHost({ crypto, keyPair: keyPair(67), executor: inThreadExecutor(executor()), now: fixedNow })
    const fake = defineContract({
      code: token.code,
      input: token.signature.input,
      output: Types.string,
      state: token.signature.state,
      initialState: token.initialState,
    })
    const fakeDeploy = await mallory.deploy(elsewhere, fake)
    const previousState = encodeCanonical(token.initialState as never)
    const fresh = inThreadExecutor(executor())
    const forged = await verifyExecutionFraudProof(crypto, fresh, { deploy: fakeDeploy.proposal, invoke: first.agreement, previousState })
    expect(E.isLeft(forged) && forged.left.code).toBe(ContractErrorCode.INVALID_FRAUD_PROOF)
    // The verifier that saw the fake deploy first still judges the honest deploy on its own signature.
    expect((await reexecute(crypto, fresh, { deploy: deployed.proposal, invoke: first.agreement, previousState })).kind).toBe('agrees')
  })

  it('a verifier with a smaller gas budget or stricter size limits than the record needs is inconclusive, not a fraud proof', async () => {
    const grow = defineContract({
      code: 'function invoke(s, n) { let t = s; for (let i = 0; i < n; i++) t += "x"; return { state: t, output: n } }',
      input: Types.integer,
      output: Types.integer,
      state: Types.string,
      initialState: '',
    })
    const other = createContractHost({ crypto, keyPair: keyPair(12), executor: inThreadExecutor(executor()), now: fixedNow })
    const caller = funded(13).caller
    const grown = await caller.deploy(other, grow)
    const big = await caller.invoke(other, grow, 1_000)
    const items = { deploy: grown.proposal, invoke: big.agreement, previousState: encodeCanonical('') }
    const record = big.agreement.payload as unknown as InvokePayload
    expect((await reexecute(crypto, inThreadExecutor(executor()), items)).kind).toBe('agrees')
    const lowGas = await reexecute(crypto, inThreadExecutor(executor({ gas: record.gasUsed - 1 })), items)
    expect(lowGas.kind === 'inconclusive' && lowGas.error.code).toBe(ContractErrorCode.OUT_OF_GAS)
    const smallState = await reexecute(crypto, inThreadExecutor(executor({ maxStateBytes: 512 })), items)
    expect(smallState.kind === 'inconclusive' && smallState.error.code).toBe(ContractErrorCode.STATE_TOO_LARGE)
    // The replay runs on exactly the recorded gas: a record claiming less gas than the run needs is a lie.
    const cheap = signBlock(crypto, keyPair(12), { ...big.agreement, payload: { ...record, gasUsed: record.gasUsed - 1 } as never })
    const verdict = await reexecute(crypto, inThreadExecutor(executor()), { ...items, invoke: cheap })
    expect(verdict.kind === 'disagrees' && verdict.reason).toBe(`the invocation fails: ${ContractErrorCode.OUT_OF_GAS}`)
    // Size limits are the protocol's at most: a host cannot be looser than every verifier.
    expect(() => executor({ maxStateBytes: PROTOCOL_SIZE_LIMITS.maxStateBytes + 1 })).toThrow(/maxStateBytes/)
    expect(() => executor({ stackBytes: 1 << 30 })).toThrow(/stackBytes/)
    expect(() => executor({ memoryBytes: 1024 })).toThrow(/memoryBytes/)
  })

  it('a record read back from the wire (encodeBlock/decodeBlock) re-executes to the same result: contracts see inputs in canonical key order', async () => {
    const keys = defineContract({
      code: 'function invoke(s, input) { return { state: s, output: Object.keys(input).join() } }',
      input: Types.struct({ amount: Types.integer, to: Types.string }),
      output: Types.string,
      state: Types.null,
      initialState: null,
    })
    const other = createContractHost({ crypto, keyPair: keyPair(14), executor: inThreadExecutor(executor()), now: fixedNow })
    const caller = funded(15).caller
    const keysDeploy = await caller.deploy(other, keys)
    const invoked = await caller.invoke(other, keys, { amount: 1, to: 'bob' }) // not canonical order: 'to' is shorter
    const wire = (block: typeof invoked.agreement) => decodeBlock(crypto, encodeBlock(block))
    const items = { deploy: wire(keysDeploy.proposal), invoke: wire(invoked.agreement), previousState: encodeCanonical(null) }
    expect((await reexecute(crypto, inThreadExecutor(executor()), items)).kind).toBe('agrees')
    expect((await reexecute(crypto, inThreadExecutor(executor()), { ...items, invoke: invoked.agreement })).kind).toBe('agrees')
  })

  it('of two invokes proposed from the same state at once, only one is countersigned', async () => {
    const bob = funded(3).caller
    const carol = funded(4).caller
    const ask = (caller: typeof bob) =>
      host.quote({ contract: deployed.id, caller: caller.publicKey, input: { to: 'acct003', amount: 0 }, timestamp: fixedNow(), seed: '02' })
    const [forBob, forCarol] = [await ask(bob), await ask(carol)]
    const results = await Promise.allSettled([
      host.countersign(proposalBy(3, bob, host.publicKey, withValue(bob.head, forBob, 3))),
      host.countersign(proposalBy(4, carol, host.publicKey, withValue(carol.head, forCarol, 3))),
    ])
    expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected'])
  })

  it('publishes SLA figures as plain numbers', () => {
    const sla = host.sla()
    expect(sla.invocations).toBeGreaterThanOrEqual(3)
    expect(sla.successRate).toBe(1)
    expect(sla.price).toBe(3)
    expect(sla.latencyP95Ms).toBeGreaterThanOrEqual(sla.latencyP50Ms)
  })
})

describe('hosting', () => {
  it('refuses code whose hash does not match, code that does not parse, and unknown contracts', async () => {
    const other = createContractHost({ crypto, keyPair: keyPair(8), executor: inThreadExecutor(executor()), now: fixedNow })
    const caller = funded(2).caller
    const broken = defineContract({ code: 'function invoke(', input: Types.null, output: Types.null, state: Types.null, initialState: null })
    await expect(caller.deploy(other, broken)).rejects.toMatchObject({ code: ContractErrorCode.SYNTAX_ERROR })
    const good = defineContract({
      code: 'function invoke(s) { return { state: s, output: null } }',
      input: Types.null,
      output: Types.null,
      state: Types.null,
      initialState: null,
    })
    const wrongId = proposalBy(2, caller, other.publicKey, {
      kind: 'contract-deploy',
      contract: new Uint8Array(32),
      code: good.code,
      signature: { input: { kind: 'null' }, output: { kind: 'null' }, state: { kind: 'null' } },
      initialState: encodeCanonical(null),
    })
    await expect(other.deploy(wrongId)).rejects.toMatchObject({ code: ContractErrorCode.CODE_HASH_MISMATCH })
    await caller.deploy(other, good)
    await expect(caller.deploy(other, good)).rejects.toMatchObject({ code: ContractErrorCode.TRANSACTION_REJECTED })
    const quote = await other.quote({ contract: contractId(crypto, good.code), caller: caller.publicKey, input: null, timestamp: fixedNow(), seed: '00' })
    const forged = { ...proposalBy(2, caller, other.publicKey, quote), signature: new Uint8Array(64) }
    await expect(other.countersign(forged)).rejects.toMatchObject({ code: ContractErrorCode.TRANSACTION_REJECTED })
    await expect(caller.invoke(other, 'ff'.repeat(32), null)).rejects.toMatchObject({ code: ContractErrorCode.UNKNOWN_CONTRACT })
    // By id alone there is no codec to check the output with, so it is unknown (not whatever the caller claims).
    // @ts-expect-error invoked by id, the caller cannot name the output type it would like
    const byId = await caller.invoke<null, number>(other, contractId(crypto, good.code), null)
    expect(byId.output).toBeNull()
    await expect(caller.invoke(other, good, 5 as never)).rejects.toMatchObject({ code: ContractErrorCode.INPUT_INVALID })
  })

  it('carries out effects: proposals in the host chain and consents to countersign bound to a payload hash', async () => {
    const effects = defineContract({
      code: `function invoke(state, input, context) {
        return { state: state + 1, output: state, effects: [
          { kind: 'propose', counterparty: context.caller, payload: { kind: 'receipt', n: state } },
          { kind: 'countersign', proposer: context.caller, sequenceNumber: 9, payloadHash: input },
        ] }
      }`,
      input: Types.string,
      output: Types.integer,
      state: Types.integer,
      initialState: 0,
    })
    const other = createContractHost({ crypto, keyPair: keyPair(9), executor: inThreadExecutor(executor()), now: fixedNow })
    const caller = funded(3).caller
    const agreed = { kind: 'note', text: 'ok' }
    const deployedEffects = await caller.deploy(other, effects)
    const invocation = await caller.invoke(other, effects, toHex(crypto.sha256(encodeCanonical(agreed))))
    expect(invocation.record.effects).toHaveLength(2)
    expect(other.head.sequenceNumber).toBe(3) // deploy agreement, invoke agreement, the receipt proposal
    expect(other.consents({ ...invocation.proposal, sequenceNumber: 9, payload: agreed })).toBe(true)
    expect(other.consentOf({ ...invocation.proposal, sequenceNumber: 9, payload: agreed })).toBe(deployedEffects.id)
    expect(other.consents({ ...invocation.proposal, sequenceNumber: 9, payload: { kind: 'note', text: 'other' } })).toBe(false)
    expect(other.consents({ ...invocation.proposal, sequenceNumber: 8, payload: agreed })).toBe(false)
  })

  it('a contract cannot make its host propose a transfer or any payload carrying value', async () => {
    const genesis = createGenesisBlock({ crypto, keyPair: keyPair(16) }, { balance: 1_000, timestamp: 1 })
    const other = createContractHost({
      crypto,
      keyPair: keyPair(16),
      executor: inThreadExecutor(executor()),
      now: fixedNow,
      head: advanceHead(crypto, EMPTY_CHAIN_HEAD, genesis),
    })
    const payout = defineContract({
      code: `function invoke(s, input, ctx) { return { state: s + 1, output: null, effects: [{ kind: 'propose', counterparty: ctx.caller, payload: input === 0 ? { kind: 'transfer', amount: 1000, balance: 0 } : input === 1 ? { kind: 'bonus', value: { amount: 1, balance: 999 } } : { kind: 'bonus', amount: input } }] } }`,
      input: Types.integer,
      output: Types.null,
      state: Types.integer,
      initialState: 0,
    })
    const mallory = funded(17).caller
    const payoutDeploy = await mallory.deploy(other, payout)
    const headBefore = other.head
    for (const input of [0, 1, 5]) await expect(mallory.invoke(other, payout, input)).rejects.toMatchObject({ code: ContractErrorCode.RESULT_MALFORMED })
    expect(other.head).toEqual(headBefore)
    expect(other.head.balance).toBe(1_000)
    expect(other.state(payoutDeploy.id)).toBe(0)
  })

  it('a bad effect is refused before anything is committed: state, invocation count and chain stay as they were', async () => {
    const bad = defineContract({
      code: `function invoke(s, input, ctx) { const effects = [[], [{ kind: 'propose', counterparty: 'zz', payload: { kind: 'x' } }], [{ kind: 'propose', counterparty: ctx.caller, payload: { kind: 'x', blob: 'y'.repeat(9000) } }], [{ kind: 'countersign', proposer: ctx.caller, sequenceNumber: 1.5, payloadHash: '00' }]][input]; return { state: s + 1, output: s, effects } }`,
      input: Types.integer,
      output: Types.integer,
      state: Types.integer,
      initialState: 0,
    })
    const other = createContractHost({ crypto, keyPair: keyPair(18), executor: inThreadExecutor(executor()), now: fixedNow })
    const caller = funded(19).caller
    const badDeploy = await caller.deploy(other, bad)
    const seq = other.head.sequenceNumber
    for (const input of [1, 2, 3]) {
      await expect(caller.invoke(other, bad, input)).rejects.toMatchObject({ code: ContractErrorCode.RESULT_MALFORMED })
      expect(other.state(badDeploy.id)).toBe(0)
      expect(other.contract(badDeploy.id)?.invocations).toBe(0)
      expect(other.head.sequenceNumber).toBe(seq)
    }
    expect((await caller.invoke(other, bad, 0)).output).toBe(0)
  })
})
