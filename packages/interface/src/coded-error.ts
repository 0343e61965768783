/**
 * The base of every package's typed error: a stable machine-readable `code` (a string union per package, prefixed by
 * the package: `GOSSIP_TIMEOUT`, `TRUSTCHAIN_INVALID_BLOCK`), a human message, and a `detail` record of the values
 * that explain it. Callers branch on `code`, never on the message; `detail` is plain data, so an error can be logged
 * or returned as JSON as it is.
 */
export class CodedError<Code extends string = string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
    readonly detail: Readonly<Record<string, unknown>> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** True for any package's typed error, and for one with `code` when given. */
export function isCodedError(error: unknown, code?: string): error is CodedError {
  return error instanceof CodedError && (code === undefined || error.code === code)
}
