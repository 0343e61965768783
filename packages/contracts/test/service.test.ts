import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, expectTypeOf, it } from 'vitest'
import {
  type ContractError,
  ContractErrorCode,
  compose,
  createCaller,
  createContractHost,
  defineContract,
  inThreadExecutor,
  mapReduce,
  pipe,
  type Service,
  service,
  Types,
} from '../src/index.js'
import { crypto, executor, fixedNow, keyPair } from './helpers.js'

const Point = Types.struct({ x: Types.number, y: Types.number })
const parse = service('parse', { input: Types.string, output: Point }, (text) => {
  const [x = 0, y = 0] = text.split(',').map(Number)
  return { x, y }
})
const norm = service('norm', { input: Point, output: Types.number }, ({ x, y }) => Math.hypot(x, y))
const round = service('round', { input: Types.number, output: Types.integer }, (n) => Math.round(n))
const label = service('label', { input: Types.integer, output: Types.string }, (n) => `|p| = ${n}`)

describe('types line up at compile time', () => {
  it('pipe infers the chain end to end', () => {
    const chain = pipe(parse, norm, round, label)
    expectTypeOf(chain).toEqualTypeOf<Service<string, string>>()
    expectTypeOf(chain.run).returns.returns.resolves.toEqualTypeOf<E.Either<ContractError, string>>()
  })

  it('Service is contravariant in its input and covariant in its output', () => {
    expectTypeOf<Service<number | string, 'a'>>().toMatchTypeOf<Service<number, string>>()
    expectTypeOf<Service<number, string>>().not.toMatchTypeOf<Service<number | string, string>>()
    expectTypeOf<Service<number, string>>().not.toMatchTypeOf<Service<number, 'a'>>()
  })

  it('a mismatched chain does not compile (checked by tsc -b) and is refused at run time', () => {
    // @ts-expect-error norm yields a number, parse wants a string
    expect(() => pipe(norm, parse)).toThrow(expect.objectContaining({ code: ContractErrorCode.TYPE_MISMATCH }))
    // @ts-expect-error label yields a string, round wants a number
    expect(() => compose(label, round)).toThrow(expect.objectContaining({ code: ContractErrorCode.TYPE_MISMATCH }))
  })
})

describe('pipelines run', () => {
  it('a five-stage pipeline runs and checks every value with its codec', async () => {
    const twice = service('twice', { input: Types.string, output: Types.string }, (s) => `${s}!`)
    const chain = pipe(parse, norm, round, label, twice)
    expect(await chain.run('3,4')()).toEqual(E.right('|p| = 5!'))
    // A stage whose function breaks its promised type fails with OUTPUT_INVALID, not with a wrong value.
    const liar = service('liar', { input: Types.integer, output: Types.string }, (n) => n as unknown as string)
    const failed = await pipe(round, liar).run(2.4)()
    expect(E.isLeft(failed) && failed.left.code).toBe(ContractErrorCode.OUTPUT_INVALID)
    const refused = await norm.run({ x: 1 } as never)()
    expect(E.isLeft(refused) && refused.left.code).toBe(ContractErrorCode.INPUT_INVALID)
  })

  it('mapReduce fans a batch out over several hosted contracts and folds in batch order', async () => {
    const square = defineContract({
      code: 'function invoke(state, input) { return { state: state + 1, output: input * input } }',
      input: Types.integer,
      output: Types.integer,
      state: Types.integer,
      initialState: 0,
    })
    const caller = createCaller({ crypto, keyPair: keyPair(11), now: fixedNow })
    const hosts = [12, 13, 14].map((n) => createContractHost({ crypto, keyPair: keyPair(n), executor: inThreadExecutor(executor()), now: fixedNow }))
    for (const host of hosts) await caller.deploy(host, square)
    const mappers = hosts.map((host) => caller.service(host, square))
    const sumOfSquares = mapReduce(
      mappers,
      { initial: [] as number[], combine: (all, n) => [...all, n], output: Types.array(Types.integer) },
      { partitions: 3 },
    )
    expect(await sumOfSquares.run([1, 2, 3, 4, 5, 6, 7])()).toEqual(E.right([1, 4, 9, 16, 25, 36, 49]))
    expect(hosts.map((host) => host.sla().invocations)).toEqual([3, 3, 1])
    const bad = await sumOfSquares.run([1, 2.5])()
    expect(E.isLeft(bad) && bad.left.code).toBe(ContractErrorCode.INPUT_INVALID)
  })

  it('mapReduce stops a slice at its first failure, decodes the fold with reducer.output, and turns a throwing combine into a Left', async () => {
    const calls: number[] = []
    const picky = service('picky', { input: Types.integer, output: Types.integer }, (n) => {
      calls.push(n)
      if (n < 0) throw new Error('negative')
      return n
    })
    const collect = mapReduce(picky, { initial: [] as number[], combine: (all, n) => [...all, n], output: Types.array(Types.integer) }, { partitions: 1 })
    const failed = await collect.run([1, -1, 2, 3])()
    expect(E.isLeft(failed)).toBe(true)
    expect(calls).toEqual([1, -1])
    const lying = mapReduce(picky, { initial: 0, combine: (sum, n) => sum + n + 0.25, output: Types.integer }, { partitions: 2 })
    const unfit = await lying.run([1, 2])()
    expect(E.isLeft(unfit) && unfit.left.code).toBe(ContractErrorCode.OUTPUT_INVALID)
    const throwing = mapReduce(
      picky,
      {
        initial: 0,
        combine: () => {
          throw new Error('boom')
        },
        output: Types.integer,
      },
      { partitions: 1 },
    )
    const threw = await throwing.run([1])()
    expect(E.isLeft(threw) && threw.left.code).toBe(ContractErrorCode.CONTRACT_THREW)
  })

  it('a host refuses a price that is not a non-negative integer', () => {
    for (const price of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => createContractHost({ crypto, keyPair: keyPair(20), executor: inThreadExecutor(executor()), price })).toThrow(/price/)
    }
  })
})
