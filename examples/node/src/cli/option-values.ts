/**
 * Command-line values are checked by the same io-ts codecs as the config file and the HTTP API: a parser turns the
 * text into a candidate (a number for integer flags), the codec decides, and a refusal becomes commander's
 * `InvalidArgumentError`, printed as `error: option '--api-port <port>' argument '70000' is invalid. expected …`.
 */
import { InvalidArgumentError } from 'commander'
import { isLeft } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { describeErrors } from '../config/codecs.js'

/** Integers stay text unless they look like one, so the codec reports `got "abc"` rather than `got NaN`. */
export function integerText(text: string): unknown {
  return /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : text
}

/** `expected Port, got 70000` (the path is the option's, which commander names). */
export function refusal(errors: t.Errors): string {
  return describeErrors(errors).replace(/^value: /, '')
}

/** A commander argument parser that decodes one value with `codec`. */
export function parseWith<A>(codec: t.Decoder<unknown, A>, fromText: (text: string) => unknown = (text) => text): (text: string) => A {
  return (text) => {
    const decoded = codec.decode(fromText(text))
    if (isLeft(decoded)) throw new InvalidArgumentError(refusal(decoded.left))
    return decoded.right
  }
}

/** The same for a repeatable option: each occurrence is decoded and appended. */
export function collectWith<A>(codec: t.Decoder<unknown, A>, fromText?: (text: string) => unknown): (text: string, previous: readonly A[] | undefined) => A[] {
  const parse = parseWith(codec, fromText)
  return (text, previous) => [...(previous ?? []), parse(text)]
}

/** Decimal numbers (durations, rates) likewise. */
export function numberText(text: string): unknown {
  return text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text
}

/** A duration in seconds on the command line: more than 0, at most a day. */
export const Seconds = t.refinement(t.number, (n) => Number.isFinite(n) && n > 0 && n <= 86_400, 'Seconds (more than 0, at most a day)')

/** A JSON value given on the command line (`--input '{"to":"bob"}'`). */
export function parseJsonArgument(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch (error) {
    throw new InvalidArgumentError(`not JSON (${(error as Error).message}); quote it for the shell, e.g. '{"n":1}'`)
  }
}
