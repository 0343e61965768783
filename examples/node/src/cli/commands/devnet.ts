/**
 * `constellation devnet`: the command line of `runDevnet` (src/devnet/devnet.ts), which does the work — N node
 * processes, the load, the progress line and the summary. Ctrl-C ends the load early and the summary is still
 * printed; the second interrupt a terminal delivers (to the launcher and to this process) is ignored.
 */
import { Writable } from 'node:stream'
import type { Command } from 'commander'
import * as t from 'io-ts'
import { SafePositiveInteger } from '../../config/codecs.js'
import {
  DEFAULT_BATCH,
  DEFAULT_CONCURRENCY,
  DEFAULT_CROSS_SYSTEM_SHARE,
  DEFAULT_DURATION_S,
  DEFAULT_FACILITATORS,
  DEFAULT_NODES,
  DEFAULT_WINDOW,
  runDevnet,
} from '../../devnet/devnet.js'
import type { CliContext } from '../cli-context.js'
import { type CliIo, ExitCode } from '../cli-io.js'
import { integerText, numberText, parseWith, Seconds } from '../option-values.js'

const NodeCount = t.refinement(t.number, (n) => Number.isInteger(n) && n >= 2 && n <= 64, 'NodeCount (2 to 64)')
const Rate = t.refinement(t.number, (n) => Number.isFinite(n) && n > 0, 'TransfersPerSecond (more than 0)')
const Concurrency = t.refinement(SafePositiveInteger, (n) => n <= 1_024, 'Concurrency (1 to 1024)')
const BatchSize = t.refinement(SafePositiveInteger, (n) => n <= 1_000, 'BatchSize (1 to 1000)')
const ShareOfOne = t.refinement(t.number, (n) => Number.isFinite(n) && n >= 0 && n <= 1, 'Share (0 to 1)')
const Window = t.refinement(t.number, (n) => Number.isSafeInteger(n) && n >= 0 && n <= 1_000_000, 'Window (0 to 1,000,000)')

interface DevnetFlags {
  readonly nodes: number
  readonly duration: number
  readonly rate?: number
  readonly concurrency?: number
  readonly batch?: number
  readonly window?: number
  readonly facilitators?: number
  readonly solarSystems?: number
  readonly crossSystemShare?: number
  readonly seed?: number
  readonly baseDir?: string
  readonly keep?: boolean
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const

export function registerDevnetCommand(program: Command, context: CliContext): void {
  const command = program.command('devnet')
  command
    .summary('run a local network of real nodes under load and print a summary')
    .description(
      'Starts N node processes on 127.0.0.1, each with its own data dir, all founding one network; offers transfers ' +
        'between random pairs through their HTTP APIs, shows progress, and ends with a summary (finalised tx/s, ' +
        'finality p50/p99, rounds, faults, next to the raw ed25519 verify rate) and a last line of JSON with the same figures.',
    )
    .option('--nodes <n>', 'node processes', parseWith(NodeCount, integerText), DEFAULT_NODES)
    .option('--duration <seconds>', 'how long the load runs', parseWith(Seconds, numberText), DEFAULT_DURATION_S)
    .option(
      '--rate <tx-per-second>',
      `transfers offered per second (default: a closed loop of ${DEFAULT_CONCURRENCY} outstanding batches per node)`,
      parseWith(Rate, numberText),
    )
    .option('--concurrency <n>', `outstanding batches per node in the closed loop (default ${DEFAULT_CONCURRENCY})`, parseWith(Concurrency, integerText))
    .option('--batch <n>', `transfers per request to a node (default ${DEFAULT_BATCH})`, parseWith(BatchSize, integerText))
    .option(
      '--window <n>',
      `closed loop: at most this many of a node's transfers not final yet, 0 for no limit (default ${DEFAULT_WINDOW})`,
      parseWith(Window, integerText),
    )
    .option(
      '--facilitators <n>',
      `facilitators per round of each solar system (default: min(its members, ${DEFAULT_FACILITATORS}))`,
      parseWith(SafePositiveInteger, integerText),
    )
    .option(
      '--solar-systems <n>',
      'split the nodes among this many solar systems, with a star cluster of validators above them as the root (default 1)',
      parseWith(SafePositiveInteger, integerText),
    )
    .option(
      '--cross-system-share <p>',
      `with several solar systems, the share of transfers (0 to 1) sent to a member of another one (default ${DEFAULT_CROSS_SYSTEM_SHARE})`,
      parseWith(ShareOfOne, numberText),
    )
    .option('--seed <n>', "seeds the load's choice of pairs", parseWith(SafePositiveInteger, integerText))
    .option('--base-dir <dir>', 'where the data dirs go (default: a temp dir, removed at the end)')
    .option('--keep', 'keep the data dirs (and node logs) afterwards')
    .addHelpText(
      'after',
      `
Examples:
  $ constellation devnet                          # ${DEFAULT_NODES} nodes, ${DEFAULT_DURATION_S} s
  $ constellation devnet --nodes 4 --duration 10 --rate 500
  $ constellation devnet --nodes 12 --solar-systems 3   # three solar systems of 4 and a star cluster
  $ constellation devnet --base-dir ./devnet --keep   # then read ./devnet/node-*/node.log`,
    )
    .action(async (flags: DevnetFlags) => {
      const systems = flags.solarSystems ?? 1
      if (systems * 2 > flags.nodes) {
        command.error(`error: --solar-systems ${systems} needs at least ${systems * 2} nodes (two per system), --nodes is ${flags.nodes}`, {
          exitCode: ExitCode.USAGE,
        })
      }
      const smallest = Math.floor(flags.nodes / systems)
      if (flags.facilitators !== undefined && flags.facilitators > smallest) {
        command.error(
          `error: --facilitators ${flags.facilitators} is more than ${systems === 1 ? `--nodes ${flags.nodes}` : `the smallest solar system's ${smallest} members`}`,
          { exitCode: ExitCode.USAGE },
        )
      }
      context.setExitCode(await runDevnetCommand(flags, context.io))
    })
}

async function runDevnetCommand(flags: DevnetFlags, io: CliIo): Promise<ExitCode> {
  const controller = new AbortController()
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) return
    io.stderr(`${signal}: stopping the devnet (the summary follows)\n`)
    controller.abort()
  }
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal)
  try {
    const result = await runDevnet({
      nodes: flags.nodes,
      durationS: flags.duration,
      ...(flags.rate !== undefined && { rate: flags.rate }),
      ...(flags.concurrency !== undefined && { concurrency: flags.concurrency }),
      ...(flags.batch !== undefined && { batch: flags.batch }),
      ...(flags.window !== undefined && { window: flags.window }),
      ...(flags.facilitators !== undefined && { facilitators: flags.facilitators }),
      ...(flags.solarSystems !== undefined && { solarSystems: flags.solarSystems }),
      ...(flags.crossSystemShare !== undefined && { crossSystemShare: flags.crossSystemShare }),
      ...(flags.seed !== undefined && { seed: flags.seed }),
      ...(flags.baseDir !== undefined && { baseDir: flags.baseDir }),
      ...(flags.keep === true && { keep: true }),
      out: io.stdoutStream ?? lineWriter(io.stdout),
      signal: controller.signal,
    })
    return result.failedNodes.length === 0 ? ExitCode.OK : ExitCode.FAILURE
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal)
  }
}

function lineWriter(write: (text: string) => void): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      write(chunk.toString())
      done()
    },
  })
}
