/**
 * `constellation tx send | status`: transfers through a running node's API. `send` answers once the counterparty
 * has countersigned (the transaction is agreed); `--wait-final` then follows it until its agreement proof exists
 * (it lies between certified checkpoints on both chains). `status --proof` fetches that proof.
 */
import type { Command } from 'commander'
import * as t from 'io-ts'
import { Hex32Codec, SafePositiveInteger } from '../../config/codecs.js'
import { NodeError, NodeErrorCode } from '../../errors.js'
import type { ApiClient } from '../api-client.js'
import { type ApiFlags, apiClientFor, withApiOptions } from '../api-options.js'
import type { CliContext } from '../cli-context.js'
import { integerText, numberText, parseWith, Seconds } from '../option-values.js'
import { printResult, table } from '../output.js'

export const TransactionCodec = t.intersection([
  t.type({ id: t.string, status: t.keyof({ proposed: null, agreed: null, final: null }), from: t.string, to: t.string, amount: t.number }),
  t.partial({ submittedAt: t.number, agreedAt: t.number, finalAt: t.number, finalRound: t.number }),
])
export type TransactionView = t.TypeOf<typeof TransactionCodec>

const ProofSideCodec = t.type({ publicKey: t.string, fromSequenceNumber: t.number, toSequenceNumber: t.number, blocks: t.number, openingRound: t.number, closingRound: t.number })
export const ProofCodec = t.type({ id: t.string, bytes: t.number, proof: t.string, summary: t.type({ proposalSide: ProofSideCodec, agreementSide: ProofSideCodec }) })
export type ProofView = t.TypeOf<typeof ProofCodec>

const DEFAULT_TIMEOUT_S = 60
/** How often `--wait-final` asks; finality comes with a certified round, every few hundred milliseconds. */
const FINALITY_POLL_MS = 200

interface SendFlags extends ApiFlags {
  readonly to: string
  readonly amount: number
  readonly waitFinal?: boolean
  readonly timeout: number
}

export function registerTxCommand(program: Command, context: CliContext): void {
  const tx = program
    .command('tx')
    .summary('send a transfer, or follow one to finality')
    .description('Transactions through a running node: a transfer is agreed when the counterparty countersigns it and final when both halves lie between certified checkpoints.')
    .addHelpText('after', '\nExamples:\n  $ constellation tx send --data-dir ./node-a --to <node id> --amount 10 --wait-final\n  $ constellation tx status <transaction id> --data-dir ./node-a --proof')

  const send = tx
    .command('send')
    .description('Proposes a transfer from the node to another member; prints the transaction id once it is agreed.')
    .requiredOption('--to <hex>', 'the receiving node id', parseWith(Hex32Codec))
    .requiredOption('--amount <n>', 'value to move (a positive integer)', parseWith(SafePositiveInteger, integerText))
    .option('--wait-final', 'wait until the transaction is final')
    .option('--timeout <seconds>', 'give up after this long', parseWith(Seconds, numberText), DEFAULT_TIMEOUT_S)
  withApiOptions(send)
    .addHelpText('after', '\nExamples:\n  $ constellation tx send --data-dir ./node-a --to <node id> --amount 10\n  $ constellation tx send --api http://127.0.0.1:8080 --to <node id> --amount 10 --wait-final --json')
    .action(async (flags: SendFlags) => {
      const client = await apiClientFor(flags, context.io.env)
      const deadline = Date.now() + flags.timeout * 1000
      let transaction = await client.post('/v1/transactions', { to: flags.to, amount: flags.amount }, TransactionCodec, { timeoutMs: remaining(deadline) })
      if (flags.waitFinal === true) transaction = await untilFinal(client, transaction, deadline, flags.timeout)
      printResult(context.io, flags, transaction, () => formatTransaction(transaction))
    })

  const status = tx
    .command('status')
    .description('Shows how far a transaction got (proposed, agreed, final) and, with --proof, its agreement proof.')
    .argument('<id>', 'the transaction id (printed by `tx send`)', parseWith(Hex32Codec))
    .option('--proof', 'also fetch the agreement proof (only once final)')
  withApiOptions(status)
    .addHelpText('after', '\nExamples:\n  $ constellation tx status <id> --data-dir ./node-a\n  $ constellation tx status <id> --data-dir ./node-a --proof --json')
    .action(async (id: string, flags: ApiFlags & { readonly proof?: boolean }) => {
      const client = await apiClientFor(flags, context.io.env)
      const transaction = await client.get(`/v1/transactions/${id}`, TransactionCodec)
      const proof = flags.proof === true ? await client.get(`/v1/transactions/${id}/proof`, ProofCodec) : undefined
      printResult(context.io, flags, proof === undefined ? transaction : { ...transaction, proof }, () => formatTransaction(transaction) + (proof === undefined ? '' : formatProof(proof)))
    })
}

function remaining(deadline: number): number {
  return Math.max(1, deadline - Date.now())
}

async function untilFinal(client: ApiClient, transaction: TransactionView, deadline: number, timeoutS: number): Promise<TransactionView> {
  let current = transaction
  while (current.status !== 'final') {
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

export function formatTransaction(tx: TransactionView): string {
  const agreed = after(tx.submittedAt, tx.agreedAt)
  const final = after(tx.submittedAt, tx.finalAt)
  return table([
    ['transaction', tx.id],
    ['status', tx.status],
    ['from', tx.from],
    ['to', tx.to],
    ['amount', String(tx.amount)],
    ...(agreed === undefined ? [] : [['agreed', agreed] as const]),
    ...(final === undefined ? [] : [['final', `${final}${tx.finalRound === undefined ? '' : ` (round ${tx.finalRound})`}`] as const]),
  ])
}

function formatProof(proof: ProofView): string {
  const side = (s: ProofView['summary']['proposalSide']) =>
    `${s.publicKey.slice(0, 16)}… blocks ${s.fromSequenceNumber}–${s.toSequenceNumber} between rounds ${s.openingRound} and ${s.closingRound}`
  return table([
    ['proof', `${proof.bytes} bytes (--json for the bytes in hex)`],
    ['proposal side', side(proof.summary.proposalSide)],
    ['agreement side', side(proof.summary.agreementSide)],
  ])
}
