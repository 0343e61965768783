import { toHex } from '@constellation/crypto'
import { describe, expect, it } from 'vitest'
import { contractId, ContractErrorCode, describeSignature, type ExecuteOutcome, type Executor, Types } from '../src/index.js'
import { encodeJson } from '../src/json/json-value.js'
import { ContractVm } from '../src/sandbox/contract-vm.js'
import { counterContract, tokenContract, TokenState, TransferInput, TransferOutput } from './fixtures/contracts.js'
import { crypto, executor } from './helpers.js'

const token = tokenContract('alice')
const tokenId = contractId(crypto, token.code)
const tokenSignature = describeSignature(token.signature)
const initial = encodeJson(token.initialState, 1 << 20)
const context = (invocation: number) => JSON.stringify({ caller: 'alice', timestamp: 1_000 + invocation, seed: '00', invocation })
const transfer = (i: number) => JSON.stringify({ to: `acct${String(1 + (i % 99)).padStart(3, '0')}`, amount: 1 + (i % 7) })

function done(outcome: ExecuteOutcome) {
  if (outcome.kind !== 'done') throw new Error(`expected a result, got ${JSON.stringify(outcome)}`)
  return outcome.result
}

/** Runs `count` transfers, warm, and returns what each produced. */
function runTransfers(target: Executor, count: number, cold = false) {
  target.register({ contractId: tokenId, code: token.code, signature: tokenSignature })
  let state = initial
  const seen: { output: unknown; gas: number; hash: string }[] = []
  for (let i = 0; i < count; i++) {
    const result = done(
      target.execute({ contractId: tokenId, stateHash: crypto.sha256(state), encodedState: state, input: transfer(i), context: context(i), rpc: [] }),
    )
    if (cold) target.evict(tokenId)
    seen.push({ output: result.output, gas: result.gasUsed, hash: toHex(result.stateHash) })
    state = result.state
  }
  return seen
}

describe('determinism', () => {
  it('two runs of the same invocations give identical results and gas, warm or reloaded before every call', () => {
    const first = runTransfers(executor(), 30)
    const second = runTransfers(executor(), 30)
    const cold = runTransfers(executor(), 30, true)
    expect(second).toEqual(first)
    expect(cold).toEqual(first)
    expect(first).toHaveLength(30) // every invocation recorded (the comparisons above are not vacuous)
    expect(first[0]?.gas).toBeGreaterThan(0)
  })

  it('gas counts polls exactly: a loop of n iterations costs 2n more', () => {
    const code = 'function invoke(state, input) { let x = 0; for (let i = 0; i < input; i++) x++; return { state, output: x } }'
    const target = executor()
    const id = contractId(crypto, code)
    target.register({ contractId: id, code, signature: describeSignature(counterContract.signature) })
    const state = encodeJson(0, 64)
    const gasOf = (n: number) =>
      done(target.execute({ contractId: id, stateHash: crypto.sha256(state), encodedState: state, input: String(n), context: 'null', rpc: [] })).gasUsed
    const base = gasOf(0)
    expect(gasOf(10) - base).toBe(20)
    expect(gasOf(25_000) - base).toBe(50_000)
  })

  it('the gas budget is exact: a call fits a budget of exactly its gas and fails with one poll less', () => {
    const target = executor()
    target.register({ contractId: tokenId, code: token.code, signature: tokenSignature })
    const request = { contractId: tokenId, stateHash: crypto.sha256(initial), encodedState: initial, input: transfer(3), context: context(0), rpc: [] }
    const used = done(target.execute(request)).gasUsed
    expect(done(target.execute({ ...request, gas: used })).gasUsed).toBe(used)
    const short = target.execute({ ...request, gas: used - 1 })
    expect(short.kind === 'failed' && short.error.code).toBe(ContractErrorCode.OUT_OF_GAS)
  })

  it('top-level variables start afresh in every invocation, so a warm sandbox cannot remember anything', () => {
    const code = 'let calls = 0\nconst seen = []\nfunction invoke(state, input) { calls++; seen.push(input); return { state, output: [calls, seen.length] } }'
    const target = executor()
    const id = contractId(crypto, code)
    target.register({ contractId: id, code, signature: { input: { kind: 'unknown' }, output: { kind: 'unknown' }, state: { kind: 'null' } } })
    const state = encodeJson(null, 64)
    for (let i = 0; i < 3; i++) {
      const result = done(target.execute({ contractId: id, stateHash: crypto.sha256(state), encodedState: state, input: String(i), context: 'null', rpc: [] }))
      expect(result.output).toEqual([1, 1])
    }
  })

  it('intrinsics reachable only through instances (iterators, generators, async functions) are frozen: writes do not persist warm', () => {
    const reach = [
      '[][Symbol.iterator]()',
      'new Map()[Symbol.iterator]()',
      'new Set()[Symbol.iterator]()',
      "''[Symbol.iterator]()",
      "/a/g[Symbol.matchAll]('')",
      'Object.getPrototypeOf([][Symbol.iterator]())',
      'function* () {}',
      'Object.getPrototypeOf((function* () {})())',
      'async function () {}',
      'async function* () {}',
      'Object.getPrototypeOf((async function* () {})())',
      '[].values().map((x) => x)',
      'Iterator.from({ next() { return { done: true } } })',
    ]
    const code = `function invoke(state, input) {
      const targets = [${reach.join(', ')}].map((value) => Object.getPrototypeOf(value))
      const seen = targets.map((target) => { try { target.mark = (target.mark || 0) + 1 } catch (error) {} ; return target.mark || 0 })
      return { state, output: seen }
    }`
    const id = contractId(crypto, code)
    const signature = { input: { kind: 'unknown' }, output: { kind: 'unknown' }, state: { kind: 'null' } } as const
    const state = encodeJson(null, 64)
    const call = (target: Executor) => {
      target.register({ contractId: id, code, signature })
      return done(target.execute({ contractId: id, stateHash: crypto.sha256(state), encodedState: state, input: 'null', context: 'null', rpc: [] })).output
    }
    const warm = executor()
    const cold = call(executor())
    expect(cold).toEqual(reach.map(() => 0))
    for (let i = 0; i < 3; i++) expect(call(warm)).toEqual(cold)
  })

  it('a contract that catches its out-of-memory error gets the same result warm as cold, or a machine-dependent failure', () => {
    const code = `function invoke(s, input) { for (let i = 0; i < 20000; i++) { const o = {}; const p = { o }; o.p = p } const a = []; let n = 0; try { for (;;) { a.push({ n, pad: 'x' + n }); n++ } } catch (e) { } return { state: s + 1, output: n } }`
    const id = contractId(crypto, code)
    const signature = { input: { kind: 'unknown' }, output: { kind: 'unknown' }, state: { kind: 'unknown' } } as const
    const limits = { memoryBytes: 8 << 20 }
    const call = (target: Executor, state: Uint8Array) => {
      target.register({ contractId: id, code, signature })
      return target.execute({ contractId: id, stateHash: crypto.sha256(state), encodedState: state, input: 'null', context: '{}', rpc: [] })
    }
    const warm = executor(limits)
    let state = encodeJson(0, 64)
    for (let i = 0; i < 5; i++) {
      const outcome = call(warm, state)
      const cold = done(call(executor(limits), state))
      if (outcome.kind === 'failed') {
        expect(outcome.error.code).toBe(ContractErrorCode.OUT_OF_MEMORY)
        break
      }
      const result = done(outcome)
      expect([result.output, result.gasUsed]).toEqual([cold.output, cold.gasUsed])
      state = result.state
    }
  })

  it('an invocation that leaves promise jobs pending is refused', () => {
    const code = 'function invoke(s) { Promise.resolve().then(() => {}); return { state: s, output: null } }'
    const id = contractId(crypto, code)
    const target = executor()
    target.register({ contractId: id, code, signature: { input: { kind: 'unknown' }, output: { kind: 'unknown' }, state: { kind: 'null' } } })
    const state = encodeJson(null, 64)
    const outcome = target.execute({ contractId: id, stateHash: crypto.sha256(state), encodedState: state, input: 'null', context: 'null', rpc: [] })
    expect(outcome.kind === 'failed' && outcome.error.code).toBe(ContractErrorCode.RESULT_MALFORMED)
  })

  it("a failure that is not the contract's (a trap, a host exception) poisons the executor: it runs nothing more", () => {
    const target = executor()
    const state = encodeJson(0, 64)
    const counterId = contractId(crypto, counterContract.code)
    target.register({ contractId: counterId, code: counterContract.code, signature: describeSignature(counterContract.signature) })
    const request = { contractId: counterId, stateHash: crypto.sha256(state), encodedState: state, input: '1', context: 'null', rpc: [] }
    expect(target.execute(request).kind).toBe('done')
    const run = ContractVm.prototype.run
    ContractVm.prototype.run = () => {
      throw new RangeError('memory access out of bounds') // as a WebAssembly trap surfaces: not a ContractError
    }
    try {
      const trapped = target.execute(request)
      expect(trapped.kind === 'failed' && trapped.error.code).toBe(ContractErrorCode.SANDBOX_CRASHED)
    } finally {
      ContractVm.prototype.run = run
    }
    const after = target.execute(request)
    expect(after.kind === 'failed' && after.error.code).toBe(ContractErrorCode.SANDBOX_CRASHED)
  })

  it('a state with shared sub-objects behaves the same warm as cold (the sandbox reloads the canonical state)', () => {
    const code =
      'function invoke(state, input) { if (input === 0) { const shared = { n: 0 }; state = { a: shared, b: shared } } else state.a.n += 1; return { state, output: state.b.n } }'
    const signature = { input: { kind: 'integer' }, output: { kind: 'integer' }, state: { kind: 'unknown' } } as const
    const outputs = (cold: boolean) => {
      const target = executor()
      const id = contractId(crypto, code)
      target.register({ contractId: id, code, signature })
      let state = encodeJson(null, 64)
      const seen: unknown[] = []
      for (let i = 0; i < 3; i++) {
        const result = done(
          target.execute({ contractId: id, stateHash: crypto.sha256(state), encodedState: state, input: String(i), context: 'null', rpc: [] }),
        )
        if (cold) target.evict(id)
        seen.push(result.output, result.gasUsed)
        state = result.state
      }
      return seen
    }
    expect(outputs(false)).toEqual(outputs(true))
    expect(outputs(false).filter((_, i) => i % 2 === 0)).toEqual([0, 0, 0])
  })

  it('code cannot close the function it is compiled into', () => {
    const code = 'function invoke(s) { return { state: s, output: 1 } } return invoke }); globalThis.leak = 1; (function () {'
    const target = executor()
    target.register({ contractId: contractId(crypto, code), code, signature: describeSignature(counterContract.signature) })
    const outcome = target.execute({
      contractId: contractId(crypto, code),
      stateHash: crypto.sha256(encodeJson(0, 64)),
      encodedState: encodeJson(0, 64),
      input: '1',
      context: 'null',
      rpc: [],
    })
    expect(outcome.kind === 'failed' && outcome.error.code).toBe(ContractErrorCode.SYNTAX_ERROR)
  })

  it('the sandbox has no Date, no Math.random, and a frozen global object', () => {
    const code = `
      function invoke(state) {
        let wrote = true
        try { globalThis.leaked = 1 } catch (e) { wrote = false }
        return { state, output: [typeof Date, typeof Math.random, wrote, Object.isFrozen(Array.prototype), typeof require, typeof process] }
      }`
    const target = executor()
    const id = contractId(crypto, code)
    target.register({ contractId: id, code, signature: { input: { kind: 'unknown' }, output: { kind: 'unknown' }, state: { kind: 'unknown' } } })
    const state = encodeJson(null, 64)
    const result = done(target.execute({ contractId: id, stateHash: crypto.sha256(state), encodedState: state, input: 'null', context: 'null', rpc: [] }))
    expect(result.output).toEqual(['undefined', 'undefined', false, true, 'undefined', 'undefined'])
  })
})

describe('bad input', () => {
  const target = executor({ memoryBytes: 8 << 20, maxStateBytes: 64 << 10, gas: 2_000_000 })
  target.register({ contractId: tokenId, code: token.code, signature: tokenSignature })
  const tokenState = crypto.sha256(initial)
  const before = done(target.execute({ contractId: tokenId, stateHash: tokenState, encodedState: initial, input: transfer(0), context: context(0), rpc: [] }))

  const cases: [string, string, ContractErrorCode][] = [
    ['a syntax error', 'function invoke(state, input {', ContractErrorCode.SYNTAX_ERROR],
    ['code without invoke', 'const x = 1', ContractErrorCode.NOT_A_CONTRACT],
    ['an infinite loop', 'function invoke(state) { for (;;) {} }', ContractErrorCode.OUT_OF_GAS],
    ['runaway allocation', 'function invoke(state) { const a = []; for (let i = 0; ; i++) a.push({ i, tag: "runaway" }) }', ContractErrorCode.OUT_OF_MEMORY],
    ['deep recursion', 'function invoke(state) { function down(n) { return down(n + 1) + 1 } return down(0) }', ContractErrorCode.STACK_OVERFLOW],
    [
      'an oversized state',
      'function invoke(state) { state.balances["x".repeat(100000)] = 1; return { state, output: { ok: true, balance: 0 } } }',
      ContractErrorCode.STATE_TOO_LARGE,
    ],
    ['an output failing its codec', 'function invoke(state) { return { state, output: { ok: "yes", balance: 1 } } }', ContractErrorCode.OUTPUT_INVALID],
    [
      'a state failing its codec',
      'function invoke(state) { state.balances.alice = "lots"; return { state, output: { ok: true, balance: 1 } } }',
      ContractErrorCode.STATE_INVALID,
    ],
    ['a contract that throws', 'function invoke() { throw new RangeError("no") }', ContractErrorCode.CONTRACT_THREW],
    // Failures the contract makes up are its own, whatever they say: only the engine reports memory and stack limits.
    ['a contract that throws null', 'function invoke() { throw null }', ContractErrorCode.CONTRACT_THREW],
    ['a contract that throws "out of memory"', 'function invoke() { throw new Error("out of memory") }', ContractErrorCode.CONTRACT_THREW],
    ['a contract that throws "stack overflow"', 'function invoke() { throw new RangeError("stack overflow") }', ContractErrorCode.CONTRACT_THREW],
    [
      'a contract that fakes an engine error',
      'function invoke() { throw { name: "InternalError", message: "out of memory" } }',
      ContractErrorCode.CONTRACT_THREW,
    ],
    ['a contract that builds an InternalError', 'function invoke() { throw new InternalError("stack overflow") }', ContractErrorCode.CONTRACT_THREW],
    [
      'a contract that rethrows a caught stack overflow with the engine prototype',
      'function invoke() { let p; try { (function f() { f() })() } catch (e) { p = Object.getPrototypeOf(e) } throw new p.constructor("out of memory") }',
      ContractErrorCode.CONTRACT_THREW,
    ],
    ['a malformed result', 'function invoke(state) { return 42 }', ContractErrorCode.RESULT_MALFORMED],
  ]
  for (const [what, code, expected] of cases) {
    it(`${what} yields ${expected}, and the token contract on the same executor is unaffected`, () => {
      const id = contractId(crypto, code)
      target.register({ contractId: id, code, signature: tokenSignature })
      const outcome = target.execute({ contractId: id, stateHash: tokenState, encodedState: initial, input: transfer(1), context: context(1), rpc: [] })
      expect(outcome.kind === 'failed' && outcome.error.code).toBe(expected)
      // The failed contract's sandbox is gone: asked for its state again, it needs it sent (nothing was kept).
      expect(target.execute({ contractId: id, stateHash: tokenState, input: transfer(1), context: context(1), rpc: [] }).kind).toBe('needs-state')
      const next = done(target.execute({ contractId: tokenId, stateHash: before.stateHash, input: transfer(1), context: context(1), rpc: [] }))
      expect(next.output).toEqual({ ok: true, balance: 1_000_000 - 1 - 2 })
      // Roll the token back so every case starts from the same state.
      done(target.execute({ contractId: tokenId, stateHash: tokenState, encodedState: initial, input: transfer(0), context: context(0), rpc: [] }))
    })
  }

  it('code whose hash does not match its contract id is refused', () => {
    expect(() => target.register({ contractId: tokenId, code: `${token.code}\n`, signature: tokenSignature })).toThrow(
      expect.objectContaining({ code: ContractErrorCode.CODE_HASH_MISMATCH }),
    )
  })

  it('a failed invocation leaves the previous state untouched: the next call starts from it', () => {
    const code =
      'function invoke(state, input) { state.balances.alice -= input.amount; if (input.amount > 5) throw new Error("too much"); return { state, output: { ok: true, balance: state.balances.alice } } }'
    const id = contractId(crypto, code)
    target.register({ contractId: id, code, signature: tokenSignature })
    const first = done(
      target.execute({ contractId: id, stateHash: tokenState, encodedState: initial, input: '{"to":"x","amount":1}', context: 'null', rpc: [] }),
    )
    const failed = target.execute({ contractId: id, stateHash: first.stateHash, input: '{"to":"x","amount":100}', context: 'null', rpc: [] })
    expect(failed.kind === 'failed' && failed.error.code).toBe(ContractErrorCode.CONTRACT_THREW)
    const again = done(
      target.execute({ contractId: id, stateHash: first.stateHash, encodedState: first.state, input: '{"to":"x","amount":1}', context: 'null', rpc: [] }),
    )
    expect(again.output).toEqual({ ok: true, balance: 1_000_000 - 2 })
  })

  it('an uncommitted result is rolled back when the next request names the earlier state', () => {
    const a = done(target.execute({ contractId: tokenId, stateHash: tokenState, encodedState: initial, input: transfer(5), context: context(0), rpc: [] }))
    const b = done(target.execute({ contractId: tokenId, stateHash: tokenState, input: transfer(5), context: context(0), rpc: [] }))
    expect(toHex(b.stateHash)).toBe(toHex(a.stateHash))
  })

  it('inputs larger than the limit are refused before they reach the sandbox', () => {
    const outcome = target.execute({
      contractId: tokenId,
      stateHash: tokenState,
      encodedState: initial,
      input: JSON.stringify('x'.repeat(70_000)),
      context: 'null',
      rpc: [],
    })
    expect(outcome.kind === 'failed' && outcome.error.code).toBe(ContractErrorCode.INPUT_TOO_LARGE)
  })
})

it('contract types round-trip through their descriptions', () => {
  expect(TransferInput.codec.is({ to: 'a', amount: 1 })).toBe(true)
  expect(TransferInput.codec.is({ to: 'a', amount: 1, extra: true })).toBe(false)
  expect(TransferOutput.codec.is({ ok: true, balance: 1.5 })).toBe(false)
  expect(TokenState.codec.is({ balances: { a: 1 } })).toBe(true)
  const union = Types.union(Types.literal('a'), Types.integer)
  expect(union.codec.is('a') && union.codec.is(3) && !union.codec.is('b')).toBe(true)
})
