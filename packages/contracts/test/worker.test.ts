import { afterAll, expect, it } from 'vitest'
import { ContractErrorCode, contractId, createWorkerExecutor, describeSignature } from '../src/index.js'
import { encodeJson } from '../src/json/json-value.js'
import { counterContract } from './fixtures/contracts.js'
import { crypto } from './helpers.js'

// One worker executor for the file: starting a worker thread is the slow part.
const executor = createWorkerExecutor({ limits: { wallClockMs: 300, gas: Number.MAX_SAFE_INTEGER } })
afterAll(() => executor.close())

const signature = describeSignature(counterContract.signature)
const counterId = contractId(crypto, counterContract.code)
const spin = 'function invoke(state) { for (;;) {} }'
const spinId = contractId(crypto, spin)
const zero = encodeJson(0, 64)
const zeroHash = crypto.sha256(zero)

it('the wall-clock guard terminates a runaway contract; other contracts continue from their committed state', async () => {
  await executor.register({ contractId: counterId, code: counterContract.code, signature })
  await executor.register({ contractId: spinId, code: spin, signature })
  const first = await executor.execute({ contractId: counterId, stateHash: zeroHash, encodedState: zero, input: '5', context: 'null', rpc: [] })
  expect(first.kind === 'done' && first.result.output).toBe(5)
  const spun = await executor.execute({ contractId: spinId, stateHash: zeroHash, encodedState: zero, input: '1', context: 'null', rpc: [] })
  expect(spun.kind === 'failed' && spun.error.code).toBe(ContractErrorCode.TIMEOUT)
  if (first.kind !== 'done') return
  // A fresh worker took over: it asks for the counter's committed state, then carries on from it.
  const asks = await executor.execute({ contractId: counterId, stateHash: first.result.stateHash, input: '2', context: 'null', rpc: [] })
  expect(asks.kind).toBe('needs-state')
  const next = await executor.execute({
    contractId: counterId,
    stateHash: first.result.stateHash,
    encodedState: first.result.state,
    input: '2',
    context: 'null',
    rpc: [],
  })
  expect(next.kind === 'done' && next.result.output).toBe(7)
})
