import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { contractId, type ContractType, describeSignature, isAssignable, typeFromDescription, Types } from '../src/index.js'
import { encodeJson } from '../src/json/json-value.js'
import { tokenContract } from './fixtures/contracts.js'
import { crypto, executor } from './helpers.js'

describe('properties', () => {
  it('any sequence of transfers gives the same outputs, state hashes and gas warm and cold', () => {
    const token = tokenContract('owner', 8)
    const id = contractId(crypto, token.code)
    const warm = executor()
    const cold = executor()
    for (const target of [warm, cold]) target.register({ contractId: id, code: token.code, signature: describeSignature(token.signature) })
    const transfer = fc.record({ to: fc.constantFrom('owner', 'acct001', 'acct002', 'new', 'zz', '10', '9'), amount: fc.integer({ min: 0, max: 3_000 }) })
    fc.assert(
      fc.property(fc.array(transfer, { minLength: 1, maxLength: 12 }), (transfers) => {
        const run = (target: typeof warm, evict: boolean) => {
          let state = encodeJson(token.initialState, 1 << 20)
          return transfers.map((input, i) => {
            const outcome = target.execute({
              contractId: id,
              stateHash: crypto.sha256(state),
              encodedState: state,
              input: JSON.stringify(input),
              context: JSON.stringify({ caller: i % 2 === 0 ? 'owner' : 'acct001', timestamp: i, seed: '00', invocation: i }),
              rpc: [],
            })
            if (evict) target.evict(id)
            if (outcome.kind !== 'done') return outcome.kind
            state = outcome.result.state
            return [outcome.result.output, outcome.result.gasUsed, Buffer.from(outcome.result.stateHash).toString('hex')]
          })
        }
        expect(run(cold, true)).toEqual(run(warm, false))
      }),
      { numRuns: 40, seed: 8 },
    )
  })

  it('isAssignable is sound: a value of the source type is a value of the target type', () => {
    const types: ContractType<unknown>[] = [
      Types.unknown,
      Types.null,
      Types.boolean,
      Types.integer,
      Types.number,
      Types.string,
      Types.literal('a'),
      Types.literal(1),
      Types.array(Types.integer),
      Types.array(Types.number),
      Types.record(Types.integer),
      Types.record(Types.number),
      Types.struct({ a: Types.integer }),
      Types.struct({ a: Types.number }),
      Types.union(Types.string, Types.integer),
      Types.union(Types.literal('a'), Types.literal(1)),
    ]
    const value = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('a', 1, 1.5, { a: 1 }, { a: 1.5 }, [1, 2], { x: 1 }))
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.constantFrom(...types), value, (from, to, v) => {
        if (isAssignable(from.description, to.description) && from.codec.is(v)) expect(to.codec.is(v)).toBe(true)
      }),
      { numRuns: 2_000, seed: 8 },
    )
    // And it is not vacuous: it relates types that do line up.
    expect(isAssignable(Types.integer.description, Types.number.description)).toBe(true)
    expect(isAssignable(Types.struct({ a: Types.integer }).description, Types.record(Types.number).description)).toBe(true)
    expect(isAssignable(Types.number.description, Types.integer.description)).toBe(false)
  })

  it('a type rebuilt from its description accepts exactly what the original accepts', () => {
    const type = Types.struct({ to: Types.string, amounts: Types.array(Types.union(Types.integer, Types.literal('all'))), memo: Types.record(Types.boolean) })
    const rebuilt = typeFromDescription(JSON.parse(JSON.stringify(type.description)))
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue({ maxDepth: 3 }),
          fc.record({
            to: fc.string(),
            amounts: fc.array(fc.oneof(fc.integer(), fc.constant('all'), fc.double())),
            memo: fc.dictionary(fc.string(), fc.oneof(fc.boolean(), fc.integer())),
          }),
        ),
        (v) => {
          expect(rebuilt.codec.is(v)).toBe(type.codec.is(v))
        },
      ),
      { numRuns: 500, seed: 8 },
    )
  })
})
