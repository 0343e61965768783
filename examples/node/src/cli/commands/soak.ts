/**
 * `constellation soak`: the command line of `runSoak` (src/soak/soak.ts) — a local network under load and under
 * perturbations (kill -9, restarts, pauses, every facilitator restarted at once), then the invariants. The manifest
 * comes from a file (`--manifest F`) or is generated from a seed (`--seed N --minutes M`). Progress goes to stderr;
 * the report goes to stdout, its last line one line of JSON. Exit 0 when every invariant holds and every
 * perturbation was survived, 1 when not, 2 for a bad command line or manifest.
 */
import { writeFile } from 'node:fs/promises'
import type { Command } from 'commander'
import * as t from 'io-ts'
import { SafeNonNegativeInteger } from '../../config/codecs.js'
import { generateManifest, PERTURBATION_KINDS } from '../../soak/manifest-generator.js'
import { isManifestError } from '../../soak/soak-error.js'
import { MAX_NODES, readManifest, type PerturbationKind, type SoakManifest } from '../../soak/soak-manifest.js'
import { formatReport, reportJson } from '../../soak/soak-report.js'
import { runSoak } from '../../soak/soak.js'
import type { CliContext } from '../cli-context.js'
import { type CliIo, ExitCode } from '../cli-io.js'
import { integerText, numberText, parseWith } from '../option-values.js'

const Minutes = t.refinement(t.number, (n) => Number.isFinite(n) && n > 0 && n <= 1_440, 'Minutes (more than 0, at most 1440)')
const NodeCount = t.refinement(t.number, (n) => Number.isInteger(n) && n >= 2 && n <= MAX_NODES, `NodeCount (2 to ${MAX_NODES})`)
const Facilitators = t.refinement(t.number, (n) => Number.isInteger(n) && n >= 1 && n <= MAX_NODES, `Facilitators (1 to ${MAX_NODES})`)
const Rate = t.refinement(t.number, (n) => Number.isFinite(n) && n >= 0.1 && n <= 1_000, 'TransfersPerSecond (0.1 to 1000)')
const PerMinute = t.refinement(t.number, (n) => Number.isFinite(n) && n > 0 && n <= 60, 'PerturbationsPerMinute (more than 0, at most 60)')
const KindList = t.refinement(
  t.array(t.keyof(Object.fromEntries(PERTURBATION_KINDS.map((kind) => [kind, null])) as Record<PerturbationKind, null>)),
  (kinds) => kinds.length > 0,
  `Kinds (a comma-separated list of ${PERTURBATION_KINDS.join(', ')})`,
)

interface SoakFlags {
  readonly manifest?: string
  readonly seed?: number
  readonly minutes?: number
  readonly nodes?: number
  readonly facilitators?: number
  readonly rate?: number
  readonly perMinute?: number
  readonly kinds?: PerturbationKind[]
  readonly saveManifest?: string
  readonly baseDir?: string
  readonly keep?: boolean
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const

export function registerSoakCommand(program: Command, context: CliContext): void {
  const command = program.command('soak')
  command
    .summary('run a local network under load and perturbations, then check its invariants')
    .description(
      'Starts a local network of real node processes, offers transfers, applies perturbations on schedule (kill -9 and ' +
        'restart, SIGTERM and restart, SIGSTOP/SIGCONT, a node disconnected and reconnected through the loopback proxy ' +
        'in front of each node, every facilitator restarted at once), lets the network settle ' +
        'and checks every node: identical certificates for each round, balances that sum to the genesis supply, every ' +
        'transfer answered 201 final on both sides, no error that moved value, no fraud proof, every node caught up. ' +
        'The manifest comes from --manifest, or is generated from --seed and --minutes.',
    )
    .option('--manifest <file>', 'a soak manifest (JSON; see the node README)')
    .option('--seed <n>', 'generate the manifest from this seed (same seed, same manifest)', parseWith(SafeNonNegativeInteger, integerText))
    .option('--minutes <m>', 'with --seed: how long the load runs', parseWith(Minutes, numberText))
    .option('--nodes <n>', 'with --seed: node processes (default 4)', parseWith(NodeCount, integerText))
    .option('--facilitators <n>', 'with --seed: facilitators (default min(nodes, 4))', parseWith(Facilitators, integerText))
    .option('--rate <tx-per-second>', 'with --seed: transfers offered per second (default 4)', parseWith(Rate, numberText))
    .option('--per-minute <n>', 'with --seed: perturbations per minute (default 3)', parseWith(PerMinute, numberText))
    .option(
      '--kinds <list>',
      `with --seed: the kinds drawn from (default ${PERTURBATION_KINDS.join(',')})`,
      parseWith(KindList, (text) => text.split(',').map((kind) => kind.trim())),
    )
    .option('--save-manifest <file>', 'write the manifest run (generated or read) to this file first')
    .option('--base-dir <dir>', 'where the data dirs go (default: a temp dir, removed at the end)')
    .option('--keep', 'keep the data dirs (and node logs) afterwards')
    .addHelpText(
      'after',
      `
Examples:
  $ constellation soak --seed 1 --minutes 2
  $ constellation soak --seed 1 --minutes 20 --kinds kill,restart,pause --save-manifest soak-1.json
  $ constellation soak --manifest soak-1.json`,
    )
    .action(async (flags: SoakFlags) => {
      const fromSeed = flags.seed !== undefined || flags.minutes !== undefined
      if ((flags.manifest === undefined) === !fromSeed)
        command.error('error: give either --manifest <file>, or --seed <n> and --minutes <m>', { exitCode: ExitCode.USAGE })
      if (fromSeed && (flags.seed === undefined || flags.minutes === undefined))
        command.error('error: --seed and --minutes go together', { exitCode: ExitCode.USAGE })
      context.setExitCode(await runSoakCommand(flags, context.io))
    })
}

async function manifestOf(flags: SoakFlags): Promise<SoakManifest> {
  if (flags.manifest !== undefined) return readManifest(flags.manifest)
  return generateManifest({
    seed: flags.seed as number,
    durationMs: Math.round((flags.minutes as number) * 60_000),
    ...(flags.nodes !== undefined && { nodes: flags.nodes }),
    ...(flags.facilitators !== undefined && { facilitators: flags.facilitators }),
    ...(flags.rate !== undefined && { load: { kind: 'rate' as const, transfersPerSecond: flags.rate } }),
    ...(flags.perMinute !== undefined && { perturbationsPerMinute: flags.perMinute }),
    ...(flags.kinds !== undefined && { kinds: flags.kinds }),
  })
}

async function runSoakCommand(flags: SoakFlags, io: CliIo): Promise<ExitCode> {
  let manifest: SoakManifest
  try {
    manifest = await manifestOf(flags)
  } catch (error) {
    if (!isManifestError(error)) throw error
    io.stderr(`error ${error.code}: ${error.message}\n`)
    return ExitCode.USAGE
  }
  if (flags.saveManifest !== undefined) await writeFile(flags.saveManifest, `${JSON.stringify(manifest, null, 2)}\n`)
  const controller = new AbortController()
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) return
    io.stderr(`${signal}: stopping the soak early (the report follows)\n`)
    controller.abort()
  }
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal)
  try {
    const report = await runSoak({
      manifest,
      note: (line) => io.stderr(`${line}\n`),
      ...(flags.baseDir !== undefined && { baseDir: flags.baseDir }),
      ...(flags.keep === true && { keep: true }),
      signal: controller.signal,
    })
    io.stdout(`${formatReport(report)}\n${reportJson(report)}\n`)
    return report.ok ? ExitCode.OK : ExitCode.FAILURE
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal)
  }
}
