/**
 * `constellation tx send | status`: transfers through a running node's API.
 *
 * `send` proposes a transfer and prints it as the node answered: agreed (the counterparty countersigned; 201), or
 * pending (signed and sent, no answer yet; 202) — it may still be agreed, and `tx status` follows it. A refused
 * transfer (the counterparty refused, the proposal was voided: nothing moved) and one refused before signing (no
 * funds, the node busy, a key used for another transfer) are errors. `--wait-final` follows the transfer until a
 * certified round finalises it (or it is refused). `--idempotency-key K` sends the `Idempotency-Key` header: sending
 * again with the same key answers with the transfer the first request made instead of paying twice, so a send whose
 * answer was lost can be repeated safely.
 *
 * `status` shows how far a transaction got (pending, proposed, agreed, refused with its reason and void, final with
 * its round), which side the node is on (proposer: outgoing, counterparty: incoming) and, with `--proof`, its
 * agreement proof: the certificate of the round that finalised it and the transfer's place among that round's
 * finalised transfers.
 */
import type { Command } from 'commander'
import * as t from 'io-ts'
import { Hex32Codec, SafePositiveInteger } from '../../config/codecs.js'
import { isNodeError, NodeError, NodeErrorCode } from '../../errors.js'
import { MAX_IDEMPOTENCY_KEY_LENGTH } from '../../node/idempotency.js'
import { ApiCallError, type ApiClient } from '../api-client.js'
import { type ApiFlags, apiClientFor, withApiOptions } from '../api-options.js'
import type { CliContext } from '../cli-context.js'
import { ExitCode } from '../cli-io.js'
import { integerText, numberText, parseWith, Seconds } from '../option-values.js'
import { printResult, table } from '../output.js'

const HalfBlockRefCodec = t.type({ hash: t.string, sequenceNumber: t.number })
export const TransactionCodec = t.intersection([
  t.type({
    id: t.string,
    status: t.keyof({ pending: null, proposed: null, agreed: null, refused: null, final: null }),
    from: t.string,
    to: t.string,
    amount: t.number,
  }),
  t.partial({
    /** Absent when the node is party to neither side. */
    role: t.keyof({ proposer: null, counterparty: null }),
    submittedAt: t.number,
    agreedAt: t.number,
    finalAt: t.number,
    finalRound: t.number,
    refusal: t.type({ code: t.string, reason: t.string, void: HalfBlockRefCodec }),
  }),
])
export type TransactionView = t.TypeOf<typeof TransactionCodec>

const ProofHalfCodec = t.type({ hash: t.string, publicKey: t.string, sequenceNumber: t.number })
/** With `?rooted=true`: the paths rooting the proof, and the root certificate that commits it. */
const RootedPartCodec = t.partial({
  paths: t.array(t.string),
  root: t.union([t.null, t.type({ level: t.number, group: t.string, round: t.number })]),
})
const PlainProofCodec = t.type({
  id: t.string,
  bytes: t.number,
  proof: t.string,
  summary: t.type({
    proposal: ProofHalfCodec,
    agreement: ProofHalfCodec,
    round: t.number,
    group: t.string,
    leaf: t.number,
    finalised: t.number,
    signatures: t.number,
  }),
})
export const ProofCodec = t.intersection([PlainProofCodec, RootedPartCodec])
export type ProofView = t.TypeOf<typeof ProofCodec>

/** What the API accepts as `Idempotency-Key`: 1 to 128 printable ASCII characters, no space. */
export const IdempotencyKeyCodec = t.refinement(
  t.string,
  (key) => key.length > 0 && key.length <= MAX_IDEMPOTENCY_KEY_LENGTH && /^[\x21-\x7e]+$/.test(key),
  `IdempotencyKey (1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters, no spaces)`,
)

const DEFAULT_TIMEOUT_S = 60
/** How often `--wait-final` asks; finality comes with a certified round, every few hundred milliseconds. */
const FINALITY_POLL_MS = 200

interface SendFlags extends ApiFlags {
  readonly to: string
  readonly amount: number
  readonly waitFinal?: boolean
  readonly timeout: number
  readonly idempotencyKey?: string
}

export function registerTxCommand(program: Command, context: CliContext): void {
  const tx = program
    .command('tx')
    .summary('send a transfer, or follow one to finality')
    .description(
      'Transactions through a running node: a transfer is pending until the counterparty answers, agreed once it countersigns (or refused: the proposal is voided and nothing moves), and final once a certified round finalises it.',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ constellation tx send --data-dir ./node-a --to <node id> --amount 10 --wait-final\n  $ constellation tx status <transaction id> --data-dir ./node-a --proof',
    )

  const send = tx
    .command('send')
    .description(
      'Proposes a transfer from the node to another member and prints it once agreed, or as pending when the counterparty has not answered yet (it may still be agreed: follow it with `tx status`). A refused transfer is an error (REFUSED: nothing moved), and so is one the node refuses before signing anything (INSUFFICIENT_FUNDS, BUSY, KEY_CONFLICT).',
    )
    .requiredOption('--to <hex>', 'the receiving node id', parseWith(Hex32Codec))
    .requiredOption('--amount <n>', 'value to move (a positive integer)', parseWith(SafePositiveInteger, integerText))
    .option('--wait-final', 'wait until the transaction is final (a pending one is followed until it is agreed, then final)')
    .option('--timeout <seconds>', 'give up after this long', parseWith(Seconds, numberText), DEFAULT_TIMEOUT_S)
    .option(
      '--idempotency-key <key>',
      'names this transfer (sent as the Idempotency-Key header): sending again with the same key answers with the transfer it made instead of paying twice',
      parseWith(IdempotencyKeyCodec),
    )
  withApiOptions(send)
    .addHelpText(
      'after',
      '\nExamples:\n  $ constellation tx send --data-dir ./node-a --to <node id> --amount 10\n  $ constellation tx send --api http://127.0.0.1:8080 --to <node id> --amount 10 --wait-final --json\n  $ constellation tx send --data-dir ./node-a --to <node id> --amount 10 --idempotency-key invoice-1042',
    )
    .action(async (flags: SendFlags) => {
      const client = await apiClientFor(flags, context.io.env)
      const deadline = Date.now() + flags.timeout * 1000
      const key = flags.idempotencyKey
      let transaction: TransactionView
      try {
        transaction = await client.post('/v1/transactions', { to: flags.to, amount: flags.amount }, TransactionCodec, {
          timeoutMs: remaining(deadline),
          ...(key === undefined ? {} : { headers: { 'idempotency-key': key } }),
        })
      } catch (error) {
        throw sendError(error, key)
      }
      if (flags.waitFinal === true) transaction = await untilFinal(client, transaction, deadline, flags.timeout)
      printResult(context.io, flags, transaction, () => formatTransaction(transaction))
    })

  const status = tx
    .command('status')
    .description('Shows how far a transaction got (pending, proposed, agreed, refused, final) and, with --proof, its agreement proof.')
    .argument('<id>', 'the transaction id (printed by `tx send`)', parseWith(Hex32Codec))
    .option('--proof', 'also fetch the agreement proof (only once final)')
    .option('--rooted', 'with --proof: the proof with the path showing the root committed it (a network with levels above its solar systems)')
  withApiOptions(status)
    .addHelpText(
      'after',
      '\nExamples:\n  $ constellation tx status <id> --data-dir ./node-a\n  $ constellation tx status <id> --data-dir ./node-a --proof --json\n  $ constellation tx status <id> --data-dir ./node-a --proof --rooted',
    )
    .action(async (id: string, flags: ApiFlags & { readonly proof?: boolean; readonly rooted?: boolean }) => {
      if (flags.rooted === true && flags.proof !== true) status.error('error: --rooted goes with --proof', { exitCode: ExitCode.USAGE })
      const client = await apiClientFor(flags, context.io.env)
      const transaction = await client.get(`/v1/transactions/${id}`, TransactionCodec)
      if (flags.proof === true && transaction.status === 'refused') throw refusedError(transaction, 'a refused transaction has no agreement proof')
      const query = flags.rooted === true ? '?rooted=true' : ''
      const proof = flags.proof === true ? await client.get(`/v1/transactions/${id}/proof${query}`, ProofCodec) : undefined
      printResult(
        context.io,
        flags,
        proof === undefined ? transaction : { ...transaction, proof },
        () => formatTransaction(transaction) + (proof === undefined ? '' : formatProof(proof)),
      )
    })
}

function remaining(deadline: number): number {
  return Math.max(1, deadline - Date.now())
}

/** A failed send, with what the user can do about it: the refused transaction's id, or the key to send again with. */
function sendError(error: unknown, key: string | undefined): unknown {
  if (error instanceof ApiCallError && error.code === 'REFUSED') {
    const refused = TransactionCodec.decode(error.detail.transaction)
    if (refused._tag === 'Right')
      return new ApiCallError(error.code, `${error.message} (transaction ${refused.right.id})`, error.status, error.detail, error.retryAfterS)
  }
  if (key !== undefined && isNodeError(error, NodeErrorCode.UNAVAILABLE)) {
    return new NodeError(
      error.code,
      `${error.message}; the transfer may or may not have been made: send again with the same --idempotency-key to find out without paying twice`,
      error.detail,
      {
        cause: error,
      },
    )
  }
  return error
}

/** The error of a transaction the counterparty refused: nothing moved, and it will never be final. */
function refusedError(transaction: TransactionView, consequence: string): ApiCallError {
  const why = transaction.refusal === undefined ? '' : ` (${transaction.refusal.code}: ${transaction.refusal.reason})`
  return new ApiCallError(
    'REFUSED',
    `transaction ${transaction.id} was refused by the counterparty${why} and its proposal voided: nothing moved; ${consequence}`,
    422,
    {
      transaction,
    },
  )
}

async function untilFinal(client: ApiClient, transaction: TransactionView, deadline: number, timeoutS: number): Promise<TransactionView> {
  let current = transaction
  while (current.status !== 'final') {
    if (current.status === 'refused') throw refusedError(current, 'it will never be final')
    if (Date.now() + FINALITY_POLL_MS > deadline) {
      throw new NodeError(NodeErrorCode.UNAVAILABLE, `transaction ${current.id} is ${current.status} but not final after ${timeoutS} s`, { id: current.id })
    }
    await new Promise((resolve) => setTimeout(resolve, FINALITY_POLL_MS))
    current = await client.get(`/v1/transactions/${current.id}`, TransactionCodec, { timeoutMs: remaining(deadline) })
  }
  return current
}

function after(from: number | undefined, to: number | undefined): string | undefined {
  return from === undefined || to === undefined ? undefined : `${to - from} ms after submission`
}

const ROLE_TEXT: Readonly<Record<NonNullable<TransactionView['role']>, string>> = {
  proposer: 'proposer (outgoing)',
  counterparty: 'counterparty (incoming)',
}

export function formatTransaction(tx: TransactionView): string {
  const agreed = after(tx.submittedAt, tx.agreedAt)
  const final = after(tx.submittedAt, tx.finalAt)
  return table([
    ['transaction', tx.id],
    ['status', tx.status],
    ...(tx.role === undefined ? [] : [['this node', ROLE_TEXT[tx.role]] as const]),
    ['from', tx.from],
    ['to', tx.to],
    ['amount', tx.status === 'refused' ? `${tx.amount} (not moved)` : String(tx.amount)],
    ...(tx.status === 'pending'
      ? [['note', `no answer from the counterparty yet: it may still be agreed; follow it with \`constellation tx status ${tx.id}\``] as const]
      : []),
    ...(tx.refusal === undefined
      ? []
      : [
          ['refused', `${tx.refusal.code}: ${tx.refusal.reason}`] as const,
          ['void', `block #${tx.refusal.void.sequenceNumber} ${tx.refusal.void.hash} returned the amount: nothing moved, it will never be final`] as const,
        ]),
    ...(agreed === undefined ? [] : [['agreed', agreed] as const]),
    ...(final === undefined ? [] : [['final', `${final}${tx.finalRound === undefined ? '' : ` (round ${tx.finalRound})`}`] as const]),
  ])
}

export function formatProof(proof: ProofView): string {
  const { summary } = proof
  const half = (h: ProofView['summary']['proposal']) => `#${h.sequenceNumber} of ${h.publicKey.slice(0, 16)}… ${h.hash}`
  return table([
    ['proof', `${proof.bytes} bytes (--json for the bytes in hex)`],
    ['proposal', half(summary.proposal)],
    ['agreement', half(summary.agreement)],
    [
      'certificate',
      `round ${summary.round} of ${summary.group}, which finalised it: ${summary.signatures} ${summary.signatures === 1 ? 'signature' : 'signatures'}`,
    ],
    ['merkle path', `transfer ${summary.leaf + 1} of the ${summary.finalised} that round ${summary.round} finalised`],
    ...(proof.root === undefined || proof.root === null
      ? []
      : [['rooted', `committed by round ${proof.root.round} of ${proof.root.group} (level ${proof.root.level}), the root`] as const]),
  ])
}
