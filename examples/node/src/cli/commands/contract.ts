/**
 * `constellation contract deploy | call | list`: contracts through a running node's API. A deploy is a transaction
 * between the node's caller chain and a host's contract chain (this node's host unless `--host`); a call invokes the
 * contract on its host and returns the output once both halves are signed.
 */
import { readFileSync, statSync } from 'node:fs'
import { type Command, InvalidArgumentError } from 'commander'
import * as t from 'io-ts'
import { Hex32Codec } from '../../config/codecs.js'
import { type ApiFlags, apiClientFor, withApiOptions } from '../api-options.js'
import type { CliContext } from '../cli-context.js'
import { parseJsonArgument, parseWith } from '../option-values.js'
import { printResult, table } from '../output.js'

/** Contract code and signatures are small; the node's API limit (1 MiB by default) decides in the end. */
const MAX_FILE_BYTES = 16 << 20

const HalfBlockRefCodec = t.type({ hash: t.string, publicKey: t.string, sequenceNumber: t.number })
const DeployedCodec = t.type({ id: t.string, proposal: HalfBlockRefCodec, agreement: HalfBlockRefCodec })
const InvokedCodec = t.type({ output: t.unknown, gas: t.number, proposal: HalfBlockRefCodec, agreement: HalfBlockRefCodec })
const ContractListCodec = t.type({
  host: t.union([t.string, t.null]),
  caller: t.string,
  price: t.number,
  contracts: t.array(t.type({ id: t.string, invocations: t.number, stateHash: t.string })),
})
/** The deploy payload's signature: a type description for each of input, output and state (the node checks each). */
const TypeDescriptionArgument = t.refinement(t.unknown, (u) => u !== undefined, 'TypeDescription')
const SignatureArgument = t.type(
  { input: TypeDescriptionArgument, output: TypeDescriptionArgument, state: TypeDescriptionArgument },
  'Signature {input, output, state}',
)

function readSmallFile(path: string): string {
  let size: number
  try {
    size = statSync(path).size
  } catch (error) {
    throw new InvalidArgumentError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  if (size > MAX_FILE_BYTES) throw new InvalidArgumentError(`${path} is ${size} bytes, more than ${MAX_FILE_BYTES}`)
  return readFileSync(path, 'utf8')
}

/** `--signature` is JSON when it looks like an object, else a file holding that JSON. */
function signatureArgument(text: string): unknown {
  return parseJsonArgument(text.trimStart().startsWith('{') ? text : readSmallFile(text))
}

interface DeployFlags extends ApiFlags {
  readonly code: string
  readonly signature: unknown
  readonly initialState: unknown
  readonly host?: string
}

interface CallFlags extends ApiFlags {
  readonly input: unknown
  readonly host?: string
}

const hostOption = (command: Command) => command.option('--host <hex>', "the hosting node's id (default: this node)", parseWith(Hex32Codec))

export function registerContractCommand(program: Command, context: CliContext): void {
  const contract = program
    .command('contract')
    .summary('deploy a contract, call it, list the hosted ones')
    .description('Contracts are typed microservices: the code runs sandboxed on its host, and every deploy and call is a TrustChain transaction.')
    .addHelpText(
      'after',
      '\nExamples:\n  $ constellation contract deploy --data-dir ./node-a --code counter.js --signature counter.sig.json --initial-state 0\n  $ constellation contract call <contract id> --data-dir ./node-a --input 5',
    )

  const deploy = contract
    .command('deploy')
    .description('Deploys contract code with its type signature and initial state; prints the contract id.')
    .requiredOption('--code <file>', 'the contract source file', readSmallFile)
    .requiredOption(
      '--signature <file|json>',
      'its type signature {"input":…,"output":…,"state":…}, as a file or inline JSON',
      parseWith(SignatureArgument, signatureArgument),
    )
    .requiredOption('--initial-state <json>', 'the initial state, as JSON', parseJsonArgument)
  hostOption(deploy)
  withApiOptions(deploy)
    .addHelpText(
      'after',
      `
Examples:
  $ constellation contract deploy --data-dir ./node-a --code counter.js \\
      --signature '{"input":{"kind":"integer"},"output":{"kind":"integer"},"state":{"kind":"integer"}}' --initial-state 0
  $ constellation contract deploy --api http://127.0.0.1:8080 --code counter.js --signature counter.sig.json --initial-state 0 --host <node id>`,
    )
    .action(async (flags: DeployFlags) => {
      const client = await apiClientFor(flags, context.io.env)
      const body = { code: flags.code, signature: flags.signature, initialState: flags.initialState, ...(flags.host !== undefined && { host: flags.host }) }
      const deployed = await client.post('/v1/contracts', body, DeployedCodec)
      printResult(context.io, flags, deployed, () =>
        table([
          ['contract', deployed.id],
          ['host', deployed.agreement.publicKey],
          ['deploy', `${deployed.proposal.hash} (agreed by ${deployed.agreement.hash})`],
        ]),
      )
    })

  const call = contract
    .command('call')
    .description("Invokes a contract with an input; prints the contract's output and the gas it used.")
    .argument('<id>', 'the contract id (printed by `contract deploy`)', parseWith(Hex32Codec))
    .requiredOption('--input <json>', 'the input, as JSON', parseJsonArgument)
  hostOption(call)
  withApiOptions(call)
    .addHelpText(
      'after',
      `\nExamples:\n  $ constellation contract call <contract id> --data-dir ./node-a --input 5\n  $ constellation contract call <contract id> --api http://127.0.0.1:8080 --input '{"to":"bob"}' --host <node id> --json`,
    )
    .action(async (id: string, flags: CallFlags) => {
      const client = await apiClientFor(flags, context.io.env)
      const body = { input: flags.input, ...(flags.host !== undefined && { host: flags.host }) }
      const invoked = await client.post(`/v1/contracts/${id}/invoke`, body, InvokedCodec)
      printResult(context.io, flags, invoked, () =>
        table([
          ['output', JSON.stringify(invoked.output)],
          ['gas', String(invoked.gas)],
          ['invoke', `${invoked.proposal.hash} (agreed by ${invoked.agreement.hash})`],
        ]),
      )
    })

  const list = contract.command('list').description('Lists the contracts this node hosts.')
  withApiOptions(list)
    .addHelpText('after', '\nExample:\n  $ constellation contract list --data-dir ./node-a')
    .action(async (flags: ApiFlags) => {
      const client = await apiClientFor(flags, context.io.env)
      const listed = await client.get('/v1/contracts', ContractListCodec)
      printResult(context.io, flags, listed, () =>
        table([
          ['host key', listed.host ?? 'hosting is off'],
          ['caller key', listed.caller],
          ['price', String(listed.price)],
          ...(listed.contracts.length === 0
            ? [['contracts', 'none'] as const]
            : listed.contracts.map((c, i) => [i === 0 ? 'contracts' : '', `${c.id}  ${c.invocations} invocations`] as const)),
        ]),
      )
    })
}
