/** `constellation init`: a data dir with a key, a config and (optionally) the network genesis. */
import type { Command } from 'commander'
import { Option } from 'commander'
import { SafeNonNegativeInteger } from '../../config/codecs.js'
import { NetworkGenesisV1Codec } from '../../config/network-genesis-form.js'
import type { CliContext } from '../cli-context.js'
import { initDataDir } from '../init-data-dir.js'
import { ENVIRONMENT } from '../load-config.js'
import { integerText, parseWith } from '../option-values.js'
import { printResult, table, withJsonOption } from '../output.js'

const genesisFields = NetworkGenesisV1Codec.type.props

interface InitFlags {
  readonly dataDir: string
  readonly genesis?: string
  readonly newNetwork?: boolean
  readonly group: string
  readonly facilitators: number
  readonly balance: number
  readonly force?: boolean
  readonly json?: boolean
}

export function registerInitCommand(program: Command, context: CliContext): void {
  const command = program
    .command('init')
    .summary('create a node: key file, config.json and the network genesis')
    .description(
      'Creates a data dir for one node: node.key (owner-only; sealed with $' +
        `${ENVIRONMENT.passphrase} when set), config.json with the defaults, and genesis.json — copied from --genesis, or ` +
        'a new network with this node as its only member (--new-network). Prints the node id. Without either genesis ' +
        'option, put the network genesis in <data-dir>/genesis.json before `start` (see `constellation genesis`).',
    )
    .requiredOption('--data-dir <dir>', 'the node data dir (created if missing)')
    .addOption(new Option('--genesis <file>', 'copy this network genesis into the data dir').conflicts('newNetwork'))
    .option('--new-network', 'found a new network with this node as its only member')
    .option('--group <name>', 'the new network group name (with --new-network)', parseWith(genesisFields.group), 'local')
    .option(
      '--facilitators <n>',
      'facilitators per round (with --new-network; more than 1 needs members added)',
      parseWith(genesisFields.facilitators, integerText),
      1,
    )
    .option('--balance <amount>', "this node's opening balance (with --new-network)", parseWith(SafeNonNegativeInteger, integerText), 1_000_000)
    .option('--force', 'rewrite config.json and genesis.json of an initialised dir (the key is kept)')
  withJsonOption(command)
    .addHelpText(
      'after',
      `
Examples:
  $ constellation init --data-dir ./node-a --new-network --group demo --balance 1000000
  $ constellation init --data-dir ./node-b --genesis ./genesis.json
  $ ${ENVIRONMENT.passphrase}=secret constellation init --data-dir ./node-c`,
    )
    .action(async (flags: InitFlags) => {
      if (flags.newNetwork !== true) {
        for (const name of ['group', 'facilitators', 'balance'] as const) {
          if (command.getOptionValueSource(name) === 'cli') command.error(`error: option '--${name}' needs --new-network`, { exitCode: 2 })
        }
      }
      const passphrase = context.io.env[ENVIRONMENT.passphrase]
      const result = await initDataDir({
        dataDir: flags.dataDir,
        force: flags.force === true,
        ...(passphrase !== undefined && passphrase !== '' && { passphrase }),
        ...(flags.genesis !== undefined && { genesis: { kind: 'file' as const, path: flags.genesis } }),
        ...(flags.newNetwork === true && {
          genesis: { kind: 'new-network' as const, group: flags.group, facilitators: flags.facilitators, balance: flags.balance, timestamp: Date.now() },
        }),
      })
      printResult(context.io, flags, result, () => {
        const notes: string[] = []
        if (result.genesisFile === undefined)
          notes.push(`next: put the network genesis in ${result.dataDir}/genesis.json (see \`constellation genesis --help\`)`)
        if (result.member === false) notes.push('note: the genesis does not name this node; it cannot start until it does')
        if (flags.newNetwork === true && flags.facilitators > 1)
          notes.push(`note: ${flags.facilitators} facilitators need ${flags.facilitators - 1} more members (\`constellation genesis add-member\`)`)
        return (
          table([
            ['node id', result.id],
            ['peer id', `${result.peerId} (bootstrap address: /ip4/<host>/tcp/<port>/p2p/${result.peerId})`],
            ['data dir', result.dataDir],
            ['key', `${result.keyFile}${result.keyCreated ? '' : ' (kept)'}`],
            ['config', result.configFile],
            ...(result.genesisFile === undefined ? [] : [['genesis', result.genesisFile] as const]),
          ]) + notes.map((note) => `${note}\n`).join('')
        )
      })
    })
}
