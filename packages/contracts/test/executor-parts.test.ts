/** The in-thread executor's parts on their own: checking a returned result, and one contract's warm sandbox. */
import { describe, expect, it } from 'vitest'
import { ContractErrorCode, contractId, createExecutor, describeSignature, type ExecuteRequest, sandboxLimits, Types } from '../src/index.js'
import { encodeJson } from '../src/json/json-value.js'
import { LoadedContract } from '../src/sandbox/loaded-contract.js'
import { checkResult } from '../src/sandbox/result-check.js'
import { COUNTER_CODE, counterContract } from './fixtures/contracts.js'
import { crypto, quickjs } from './helpers.js'

const limits = sandboxLimits()

function codeOf(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return (error as { code?: unknown }).code
  }
  return undefined
}

describe('result checks', () => {
  const types = { output: Types.unknown, state: Types.struct({ a: Types.integer, b: Types.integer }) }

  it('encodes and hashes the new state, and keeps its text when its keys are in canonical order', () => {
    const result = checkResult(crypto, limits, types, JSON.stringify({ state: { a: 1, b: 2 }, output: 'ok', effects: [] }), 7)
    expect(result.state).toEqual(encodeJson({ a: 1, b: 2 }, limits.maxStateBytes))
    expect(result.stateHash).toEqual(crypto.sha256(result.state))
    expect(result.gasUsed).toBe(7)
    expect(result.stateText).toBe('{"a":1,"b":2}')
    expect(checkResult(crypto, limits, types, JSON.stringify({ state: { b: 2, a: 1 }, output: 'ok', effects: [] }), 7).stateText).toBeUndefined()
  })

  it('refuses malformed results with typed errors', () => {
    const check = (value: unknown) => codeOf(() => checkResult(crypto, limits, types, JSON.stringify(value), 1))
    expect(codeOf(() => checkResult(crypto, limits, types, 'not json', 1))).toBe(ContractErrorCode.RESULT_MALFORMED)
    expect(check({ state: { a: 1, b: 2 }, output: 'ok', effects: {} })).toBe(ContractErrorCode.RESULT_MALFORMED)
    expect(check({ state: { a: 'x', b: 2 }, output: 'ok', effects: [] })).toBe(ContractErrorCode.STATE_INVALID)
    expect(check({ state: { a: 1, b: 2 }, output: 'x'.repeat(limits.maxOutputBytes), effects: [] })).toBe(ContractErrorCode.OUTPUT_TOO_LARGE)
    const strict = { ...types, output: Types.integer }
    expect(codeOf(() => checkResult(crypto, limits, strict, JSON.stringify({ state: { a: 1, b: 2 }, output: 'ok', effects: [] }), 1))).toBe(
      ContractErrorCode.OUTPUT_INVALID,
    )
  })
})

describe("a contract's warm sandbox", () => {
  const registration = { contractId: contractId(crypto, COUNTER_CODE), code: COUNTER_CODE, signature: describeSignature(counterContract.signature) }
  const zero = encodeJson(0, limits.maxStateBytes)
  const request = (stateHash: Uint8Array, input: number, encodedState?: Uint8Array): ExecuteRequest => ({
    contractId: registration.contractId,
    stateHash,
    ...(encodedState === undefined ? {} : { encodedState }),
    input: JSON.stringify(input),
    context: '{}',
    rpc: [],
  })
  const done = (outcome: ReturnType<LoadedContract['invoke']>) => {
    if (outcome.kind !== 'done') throw new Error(`expected done, got ${outcome.kind}`)
    return outcome.result
  }

  it('asks for the state it does not hold, then serves the current and the previous state warm', () => {
    const contract = new LoadedContract(registration, crypto, quickjs, limits)
    expect(contract.invoke(request(crypto.sha256(zero), 1)).kind).toBe('needs-state')
    const one = done(contract.invoke(request(crypto.sha256(zero), 1, zero)))
    expect(one.output).toBe(1)
    const three = done(contract.invoke(request(one.stateHash, 2)))
    expect(three.output).toBe(3)
    // Rolled back to the state before the last invocation without the encoded state.
    expect(done(contract.invoke(request(one.stateHash, 5))).output).toBe(6)
    expect(contract.invoke(request(three.stateHash, 1)).kind).toBe('needs-state')
    contract.discard()
    expect(contract.invoke(request(one.stateHash, 1)).kind).toBe('needs-state')
  })

  it('only loads when asked to, and refuses an encoded state that does not match its hash or an oversized input', () => {
    const contract = new LoadedContract(registration, crypto, quickjs, limits)
    expect(contract.invoke({ ...request(crypto.sha256(zero), 1, zero), loadOnly: true }).kind).toBe('loaded')
    // A state the sandbox does not hold, sent with an encoding of another.
    const two = encodeJson(2, limits.maxStateBytes)
    expect(codeOf(() => contract.invoke(request(crypto.sha256(two), 1, encodeJson(1, limits.maxStateBytes))))).toBe(ContractErrorCode.INVALID_INPUT)
    expect(codeOf(() => contract.invoke({ ...request(crypto.sha256(zero), 1, zero), input: 'x'.repeat(limits.maxInputBytes + 1) }))).toBe(
      ContractErrorCode.INPUT_TOO_LARGE,
    )
    contract.discard()
  })

  it('the executor discards a sandbox whose invocation failed, and refuses unknown contracts and work after closing', () => {
    const executor = createExecutor({ crypto, quickjs })
    executor.register(registration)
    expect(executor.execute(request(crypto.sha256(zero), 1, zero)).kind).toBe('done')
    const failed = executor.execute({ ...request(crypto.sha256(zero), 1), input: '"x"' })
    expect(failed.kind).toBe('failed')
    // The failure discarded the warm sandbox: the state must be sent again.
    expect(executor.execute(request(crypto.sha256(zero), 1)).kind).toBe('needs-state')
    const unknown = executor.execute({ ...request(crypto.sha256(zero), 1), contractId: '00'.repeat(32) })
    expect(unknown.kind === 'failed' && unknown.error.code).toBe(ContractErrorCode.UNKNOWN_CONTRACT)
    executor.close()
    const closed = executor.execute(request(crypto.sha256(zero), 1, zero))
    expect(closed.kind === 'failed' && closed.error.code).toBe(ContractErrorCode.CLOSED)
    expect(codeOf(() => executor.register(registration))).toBe(ContractErrorCode.CLOSED)
  })
})
