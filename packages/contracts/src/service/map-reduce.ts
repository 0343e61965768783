/**
 * Map-reduce over services: a batch is cut into `partitions` contiguous slices, slice k is mapped by the k-th
 * mapper (round robin: typically the same contract on several hosts), the slices run concurrently, and the outputs
 * are folded in batch order, so the result does not depend on which host answered first. The first failure, in
 * batch order, fails the whole run: a slice stops at its first failure, and slices after a failed one stop too (an
 * earlier slice may still hold an earlier failure). The folded result is decoded with `reducer.output`, and a
 * `combine` that throws is a Left like any other failure.
 */
import * as E from 'fp-ts/lib/Either.js'
import { ContractError, ContractErrorCode } from '../errors.js'
import type { ContractType } from '../types/contract-type.js'
import { check, type Service } from './service.js'

export interface Reducer<M, R> {
  readonly initial: R
  readonly combine: (accumulator: R, value: M) => R
  /** The type of the folded result, for pipelines that continue after the fold. */
  readonly output: ContractType<R>
}

export function mapReduce<I, M, R>(
  mapper: Service<I, M> | readonly Service<I, M>[],
  reducer: Reducer<M, R>,
  options: { readonly partitions: number },
): Service<readonly I[], R> {
  const mappers = Array.isArray(mapper) ? (mapper as readonly Service<I, M>[]) : [mapper as Service<I, M>]
  const first = mappers[0]
  if (first === undefined) throw new ContractError(ContractErrorCode.INVALID_INPUT, 'mapReduce needs at least one mapper')
  if (!Number.isSafeInteger(options.partitions) || options.partitions < 1) {
    throw new ContractError(ContractErrorCode.INVALID_INPUT, `partitions must be a positive integer, got ${options.partitions}`)
  }
  return {
    name: `mapReduce(${first.name})`,
    inputType: { kind: 'array', items: first.inputType },
    outputType: reducer.output.description,
    run: (batch) => async () => {
      const size = Math.ceil(batch.length / options.partitions)
      const slices = Array.from({ length: Math.min(options.partitions, batch.length) }, (_, k) => batch.slice(k * size, (k + 1) * size))
      let failedSlice = Number.POSITIVE_INFINITY
      const mapped = await Promise.all(
        slices.map(async (slice, k) => {
          const host = mappers[k % mappers.length] as Service<I, M>
          const outputs: E.Either<ContractError, M>[] = []
          for (const item of slice) {
            if (k > failedSlice) break // an earlier slice failed: nothing here can come first in batch order
            const outcome = await host.run(item)()
            outputs.push(outcome)
            if (E.isLeft(outcome)) {
              failedSlice = Math.min(failedSlice, k)
              break
            }
          }
          return outputs
        }),
      )
      let accumulator = reducer.initial
      for (const outcome of mapped.flat()) {
        if (E.isLeft(outcome)) return outcome
        try {
          accumulator = reducer.combine(accumulator, outcome.right)
        } catch (cause) {
          return E.left(
            new ContractError(ContractErrorCode.CONTRACT_THREW, `combine threw: ${cause instanceof Error ? cause.message : String(cause)}`, {}, { cause }),
          )
        }
      }
      return check(reducer.output, accumulator, ContractErrorCode.OUTPUT_INVALID, 'the folded result')
    },
  }
}
