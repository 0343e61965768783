/**
 * End to end: `constellation devnet`, as the README runs it — the launcher in bin/, started from a directory that is
 * not the package's — brings up real node processes, drives transfers through them, prints progress and a summary
 * whose last line is JSON with the same figures, stops its nodes and removes its data. Ctrl-C (SIGINT) during the
 * load ends the run early and the summary still comes.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

const LAUNCHER = fileURLToPath(new URL('../bin/constellation.mjs', import.meta.url))

let cwd: string
const children = new Set<ChildProcess>()

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'constellation-e2e-devnet-'))
})
// A devnet still running after a failed test is stopped the way a user would (SIGTERM: it stops its own nodes), and
// killed only if that does not end it; a SIGKILL first would leave its nodes running.
afterEach(async () => {
  await Promise.all(
    [...children].map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const closed = new Promise((resolve) => child.once('close', resolve))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 25_000)
      await closed
      clearTimeout(timer)
    }),
  )
  children.clear()
}, 30_000)
afterAll(async () => {
  await rm(cwd, { recursive: true, force: true })
})

interface Run {
  readonly lines: string[]
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Resolves with the first stdout line that matches. */
  lineMatching(pattern: RegExp): Promise<string>
  readonly child: ChildProcess
}

function devnet(args: readonly string[]): Run {
  const child = spawn(process.execPath, [LAUNCHER, 'devnet', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  const lines: string[] = []
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = []
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    lines.push(line)
    for (const waiter of waiters.filter((w) => w.pattern.test(line))) {
      waiters.splice(waiters.indexOf(waiter), 1)
      waiter.resolve(line)
    }
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  )
  return {
    lines,
    exit: exit.then((result) => {
      if (result.code !== 0) throw new Error(`devnet exited with ${result.code ?? result.signal}:\n${lines.join('\n')}\n${stderr}`)
      return result
    }),
    child,
    lineMatching(pattern) {
      const seen = lines.find((line) => pattern.test(line))
      if (seen !== undefined) return Promise.resolve(seen)
      return Promise.race([
        new Promise<string>((resolve) => waiters.push({ pattern, resolve })),
        exit.then(() => {
          throw new Error(`devnet exited before printing a line matching ${pattern}:\n${lines.join('\n')}\n${stderr}`)
        }),
      ])
    },
  }
}

function summaryOf(lines: readonly string[]): Record<string, unknown> & { faults: Record<string, number> } {
  const last = JSON.parse(lines.at(-1) ?? '') as Record<string, unknown> & { faults: Record<string, number> }
  expect(last.event).toBe('summary')
  return last
}

function baseDirOf(lines: readonly string[]): string {
  const line = lines.find((l) => l.startsWith('starting '))
  const dir = /\bin (\S+)$/.exec(line ?? '')?.[1]
  expect(dir).toBeDefined()
  return dir as string
}

describe('constellation devnet', () => {
  it('runs nodes under load from any directory and ends with a summary and a line of JSON', async () => {
    const run = devnet(['--nodes', '4', '--duration', '4', '--concurrency', '4', '--seed', '7'])
    expect(await run.exit).toEqual({ code: 0, signal: null })
    const { lines } = run
    // Progress (plain lines: stdout is not a terminal), then the summary, then the JSON.
    expect(lines.some((line) => /^\s*\d+ s {2}round \d+ \(\+\d+\) {2}sent \d+ {2}agreed \d+ {2}final \d+/.test(line))).toBe(true)
    expect(lines.some((line) => line.startsWith('devnet summary — 4 nodes, 4 facilitators'))).toBe(true)
    const summary = summaryOf(lines)
    expect(summary).toMatchObject({ nodes: 4, facilitators: 4 })
    expect(summary.agreed as number).toBeGreaterThan(0)
    expect(summary.sent as number).toBeGreaterThanOrEqual(summary.agreed as number)
    expect(summary.finalAtEnd as number).toBeGreaterThan(0)
    expect(summary.finalisedPerSecond as number).toBeGreaterThan(0)
    expect(summary.finalityP50Ms as number).toBeGreaterThan(0)
    expect(summary.finalityP99Ms as number).toBeGreaterThanOrEqual(summary.finalityP50Ms as number)
    expect(summary.rounds as number).toBeGreaterThan(2)
    expect(summary.verifyPerSecond as number).toBeGreaterThan(0)
    expect(summary.faults).toEqual({ certificatesRejected: 0, fraudProofs: 0, failedProposals: 0, nodeErrors: 0, requestErrors: 0, nodeExits: 0 })
    // Node 0's explorer is named when the nodes are up and in the JSON; the demo contract ran beside the load.
    const explorer = lines.find((line) => line.startsWith('explorer: '))?.split(' ')[1]
    expect(explorer).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/explorer\/$/)
    expect(summary.explorer).toBe(explorer)
    expect(lines.some((line) => /^demo contract [0-9a-f]{16}… \(a free counter\) deployed on node 0/.test(line))).toBe(true)
    expect(summary.contractInvocations as number).toBeGreaterThan(0)
    // What a finalised transfer cost the nodes, summed over them, in the window from the load's start to the drain's end.
    for (const figure of ['verifiesPerTx', 'cpuMsPerTx', 'bytesPerTx', 'gossipBytesPerTx']) {
      expect(summary[figure], figure).toEqual(expect.any(Number))
      expect(summary[figure] as number, figure).toBeGreaterThan(0)
    }
    expect(summary.gossipBytesPerTx as number).toBeLessThan(summary.bytesPerTx as number)
    expect(
      lines.some((line) =>
        /^ {2}cost per tx {4}[\d.]+ verifies, [\d.,]+ ms CPU, [\d,]+ bytes sent \([\d,]+ of them gossip\) \(all 4 node processes; window: /.test(line),
      ),
    ).toBe(true)
    expect(existsSync(baseDirOf(lines))).toBe(false)
  }, 80_000)

  it('stops gracefully on SIGINT during the load, with the summary', async () => {
    const run = devnet(['--nodes', '4', '--duration', '600', '--concurrency', '2'])
    await run.lineMatching(/^\s*\d+ s {2}round/)
    run.child.kill('SIGINT')
    expect(await run.exit).toEqual({ code: 0, signal: null })
    const summary = summaryOf(run.lines)
    expect(summary.loadSeconds as number).toBeLessThan(600)
    expect(summary.faults.nodeExits).toBe(0)
    expect(existsSync(baseDirOf(run.lines))).toBe(false)
  }, 80_000)
})
