/** `constellation status`: what a running node says about itself (`GET /v1/status`). */
import type { Command } from 'commander'
import * as t from 'io-ts'
import type { CliContext } from '../cli-context.js'
import { type ApiFlags, apiClientFor, withApiOptions } from '../api-options.js'
import { printResult, table } from '../output.js'

const TotalsCodec = t.type({
  submitted: t.number,
  agreed: t.number,
  refused: t.number,
  pending: t.number,
  final: t.number,
  rejected: t.number,
  incoming: t.number,
  incomingFinal: t.number,
  awaitingFinality: t.number,
})
/** The fields the CLI shows (`t.type` keeps any others, so `--json` prints all the node sent). */
export const StatusCodec = t.type({
  id: t.string,
  group: t.string,
  roles: t.array(t.string),
  levels: t.array(t.type({ level: t.number, group: t.string, round: t.number, facilitating: t.boolean })),
  round: t.number,
  facilitators: t.array(t.string),
  facilitating: t.boolean,
  chainHeight: t.number,
  balance: t.number,
  available: t.number,
  peers: t.number,
  listen: t.array(t.string),
  transactions: TotalsCodec,
  uptimeMs: t.number,
})
export type StatusView = t.TypeOf<typeof StatusCodec>

export function registerStatusCommand(program: Command, context: CliContext): void {
  const command = program
    .command('status')
    .summary("show a running node's id, round, chain, balance, peers and transactions")
    .description('Asks a running node for its status over its HTTP API.')
  withApiOptions(command)
    .addHelpText('after', '\nExamples:\n  $ constellation status --data-dir ./node-a\n  $ constellation status --api http://127.0.0.1:8080 --json')
    .action(async (flags: ApiFlags) => {
      const client = await apiClientFor(flags, context.io.env)
      const status = await client.get('/v1/status', StatusCodec)
      printResult(context.io, flags, status, () => formatStatus(status, client.baseUrl))
    })
}

export function formatStatus(status: StatusView, api: string): string {
  const tx = status.transactions
  return table([
    ['node', status.id],
    ['solar system', status.group],
    ['roles', status.roles.join(', ')],
    ['round', `${status.round}${status.facilitating ? ' (facilitating)' : ''}`],
    ...status.levels.map((level) => [`level ${level.level}`, `${level.group} round ${level.round}${level.facilitating ? ' (facilitating)' : ''}`] as const),
    ['facilitators', String(status.facilitators.length)],
    ['chain height', String(status.chainHeight)],
    ['balance', `${status.balance} (spendable now: ${status.available})`],
    ['peers', String(status.peers)],
    [
      'transactions',
      `${tx.submitted} submitted: ${tx.agreed} agreed (${tx.final} final, ${tx.awaitingFinality} awaiting finality), ${tx.pending} pending, ${tx.refused} refused; ` +
        `${tx.rejected} rejected before signing; ${tx.incoming} received (${tx.incomingFinal} final)`,
    ],
    ['uptime', `${(status.uptimeMs / 1000).toFixed(1)} s`],
    ['api', api],
    ...status.listen.map((address, i) => [i === 0 ? 'listen' : '', address] as const),
  ])
}
