/**
 * Services: typed, composable units of work. A `Service<in I, out O>` takes an I and eventually yields an O or a
 * `ContractError` (a `TaskEither`). It is contravariant in its input and covariant in its output, so a service that
 * accepts more, or promises more, can stand in for another; `compose`/`pipe` only accept chains whose types line
 * up. Each service also carries the descriptions of its types: chains are checked again at run time when they are
 * built, and every value is decoded with the service's codec before it is used, since a remote or sandboxed
 * service's output is only data until checked.
 */
import * as E from 'fp-ts/lib/Either.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import { ContractError, ContractErrorCode, toContractError } from '../errors.js'
import { type ContractType, describeErrors, isAssignable, type TypeDescription } from '../types/contract-type.js'

export interface Service<in I, out O> {
  readonly name: string
  readonly inputType: TypeDescription
  readonly outputType: TypeDescription
  readonly run: (input: I) => TE.TaskEither<ContractError, O>
}

/** Decodes a value with a contract type into an Either. */
export function check<A>(type: ContractType<A>, value: unknown, code: ContractErrorCode, what: string): E.Either<ContractError, A> {
  const decoded = type.codec.decode(value)
  if (E.isRight(decoded)) return decoded
  const errors = describeErrors(decoded.left)
  return E.left(new ContractError(code, `${what} does not fit ${type.codec.name}: ${errors.join('; ')}`, { errors }))
}

/** A service from a local function; its input and output are checked with their codecs on every call. */
export function service<I, O>(
  name: string,
  types: { readonly input: ContractType<I>; readonly output: ContractType<O> },
  fn: (input: I) => O | Promise<O>,
): Service<I, O> {
  return {
    name,
    inputType: types.input.description,
    outputType: types.output.description,
    run: (input) => async () => {
      const accepted = check(types.input, input, ContractErrorCode.INPUT_INVALID, `${name}: the input`)
      if (E.isLeft(accepted)) return accepted
      try {
        return check(types.output, await fn(accepted.right), ContractErrorCode.OUTPUT_INVALID, `${name}: the output`)
      } catch (error) {
        return E.left(toContractError(error, ContractErrorCode.CONTRACT_THREW))
      }
    },
  }
}

/** `first` then `second`. Refuses (TYPE_MISMATCH) a chain whose described types do not line up. */
export function compose<A, B, C>(first: Service<A, B>, second: Service<B, C>): Service<A, C> {
  if (!isAssignable(first.outputType, second.inputType)) {
    throw new ContractError(ContractErrorCode.TYPE_MISMATCH, `${first.name} yields what ${second.name} does not accept`, {
      from: first.name,
      to: second.name,
    })
  }
  return {
    name: `${first.name} | ${second.name}`,
    inputType: first.inputType,
    outputType: second.outputType,
    run: (input) => async () => {
      const middle = await first.run(input)()
      return E.isLeft(middle) ? middle : second.run(middle.right)()
    },
  }
}

/** A left-to-right chain of services; each one's output type must be accepted by the next. */
export function pipe<A, B>(s1: Service<A, B>): Service<A, B>
export function pipe<A, B, C>(s1: Service<A, B>, s2: Service<B, C>): Service<A, C>
export function pipe<A, B, C, D>(s1: Service<A, B>, s2: Service<B, C>, s3: Service<C, D>): Service<A, D>
export function pipe<A, B, C, D, E>(s1: Service<A, B>, s2: Service<B, C>, s3: Service<C, D>, s4: Service<D, E>): Service<A, E>
export function pipe<A, B, C, D, E, F>(s1: Service<A, B>, s2: Service<B, C>, s3: Service<C, D>, s4: Service<D, E>, s5: Service<E, F>): Service<A, F>
export function pipe<A, B, C, D, E, F, G>(
  s1: Service<A, B>,
  s2: Service<B, C>,
  s3: Service<C, D>,
  s4: Service<D, E>,
  s5: Service<E, F>,
  s6: Service<F, G>,
): Service<A, G>
export function pipe(first: Service<never, unknown>, ...rest: Service<never, unknown>[]): Service<never, unknown> {
  return rest.reduce<Service<never, unknown>>((chain, next) => compose(chain as Service<never, never>, next), first)
}
