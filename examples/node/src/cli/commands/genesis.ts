/**
 * `constellation genesis create | add-member`: assembling the genesis of a network of several nodes by hand — every
 * node's id comes from its own `init`, the genesis names them all, and each data dir gets the same file.
 */
import type { Command } from 'commander'
import * as t from 'io-ts'
import { Hex32Codec, SafeNonNegativeInteger } from '../../config/codecs.js'
import { loadCrypto } from '@constellation/crypto'
import { type GenesisMember, GenesisMemberCodec, genesisFingerprint, type NetworkGenesis } from '../../config/network-genesis.js'
import { NetworkGenesisV1Codec } from '../../config/network-genesis-form.js'
import type { CliContext } from '../cli-context.js'
import { addGenesisMember, createGenesis, genesisText, readGenesisDraft, writeGenesisFile } from '../genesis-file.js'
import { collectWith, integerText, parseWith } from '../option-values.js'
import { printResult, withJsonOption } from '../output.js'

const genesisFields = NetworkGenesisV1Codec.type.props

/** `HEX:BALANCE`, decoded as a genesis member. */
function memberText(text: string): unknown {
  const [id, balance, ...rest] = text.split(':')
  return rest.length > 0 || balance === undefined ? text : { id, balance: integerText(balance) }
}
const MemberArgument = t.exact(t.type(GenesisMemberCodec.type.props), 'HEX:BALANCE')

const HOW_TO = `
A network of several nodes, by hand:
  $ constellation init --data-dir ./a          # prints a's node id (A) and peer id (PA); likewise ./b and ./c
  $ constellation genesis create --group demo --facilitators 3 \\
      --member A:1000000 --member B:1000000 --member C:1000000 --out ./genesis.json
  $ cp ./genesis.json ./a/genesis.json; cp ./genesis.json ./b/genesis.json; cp ./genesis.json ./c/genesis.json
  $ constellation start --data-dir ./a --listen /ip4/127.0.0.1/tcp/4001
  $ constellation start --data-dir ./b --bootstrap /ip4/127.0.0.1/tcp/4001/p2p/PA
Or grow a genesis one member at a time:
  $ constellation genesis add-member --genesis ./genesis.json --id D --balance 1000000`

export function registerGenesisCommand(program: Command, context: CliContext): void {
  const genesis = program
    .command('genesis')
    .summary('assemble the genesis of a network of several nodes')
    .description('Writes and edits a network genesis file: the group, the facilitators per round and the founding members with their balances.')
    .addHelpText('after', HOW_TO)

  genesis
    .command('create')
    .description('Writes a new genesis naming its founding members (to --out, or to stdout).')
    .requiredOption('--group <name>', 'the network group name ([a-z0-9-], up to 63 characters)', parseWith(genesisFields.group))
    .option('--facilitators <n>', 'facilitators per round (at most the number of members at start)', parseWith(genesisFields.facilitators, integerText), 1)
    .requiredOption('--member <hex:balance>', 'a founding member: node id and opening balance (repeatable)', collectWith(MemberArgument, memberText))
    .option('--timestamp <ms>', 'genesis time in milliseconds since the epoch (default: now)', parseWith(SafeNonNegativeInteger, integerText))
    .option('--out <file>', 'write the genesis here instead of stdout')
    .addHelpText('after', `\nExample:\n  $ constellation genesis create --group demo --facilitators 1 --member <node id>:1000000 --out genesis.json`)
    .action(async (flags: { group: string; facilitators: number; member: GenesisMember[]; timestamp?: number; out?: string }) => {
      const created = createGenesis({ group: flags.group, facilitators: flags.facilitators, members: flags.member, timestamp: flags.timestamp ?? Date.now() })
      if (flags.out === undefined) {
        context.io.stdout(genesisText(created))
        return
      }
      await writeGenesisFile(flags.out, created)
      context.io.stderr(
        `wrote ${flags.out}: group ${created.group}, ${created.members.length} members, ${created.facilitators} facilitators, fingerprint ${await fingerprintOf(created)}\n`,
      )
    })

  const addMember = genesis
    .command('add-member')
    .description('Adds a member to a genesis file, in place.')
    .requiredOption('--genesis <file>', 'the genesis file to change')
    .requiredOption('--id <hex>', "the member's node id (printed by its `init`)", parseWith(Hex32Codec))
    .requiredOption('--balance <amount>', "the member's opening balance", parseWith(SafeNonNegativeInteger, integerText))
  withJsonOption(addMember)
    .addHelpText('after', `\nExample:\n  $ constellation genesis add-member --genesis ./a/genesis.json --id <node id> --balance 1000000`)
    .action(async (flags: { genesis: string; id: string; balance: number; json?: boolean }) => {
      const updated = addGenesisMember(await readGenesisDraft(flags.genesis), { id: flags.id, balance: flags.balance })
      await writeGenesisFile(flags.genesis, updated)
      const fingerprint = flags.json === true ? '' : await fingerprintOf(updated)
      printResult(
        context.io,
        flags,
        updated,
        () => `${flags.genesis}: ${updated.members.length} members, ${updated.facilitators} facilitators, fingerprint ${fingerprint}\n`,
      )
    })
}

/**
 * The genesis fingerprint (what `GET /v1/genesis` serves and the explorer checks proofs against): operators publish
 * it so that anyone can tell they hold the network's genesis.
 */
async function fingerprintOf(genesis: NetworkGenesis): Promise<string> {
  return genesisFingerprint(await loadCrypto(), genesis)
}
