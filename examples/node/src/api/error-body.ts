/**
 * The shape of every error the HTTP API answers, `{ "error": { "code", "message" } }`, as clients decode it (the
 * CLI's client and the devnet's load generator), so both read it with one codec.
 */
import * as t from 'io-ts'

export const ApiErrorBodyCodec = t.type({ error: t.type({ code: t.string, message: t.string }) })
export type ApiErrorBody = t.TypeOf<typeof ApiErrorBodyCodec>
