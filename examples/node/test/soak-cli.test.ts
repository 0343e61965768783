/**
 * `constellation soak` on the command line: a manifest generated from a seed is saved and run (three real nodes, one
 * pause), the report printed to stdout ends with its JSON line and the exit code says whether every invariant held;
 * a bad command line or manifest exits 2 with the reason, before any node starts.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ExitCode } from '../src/cli/cli-io.js'
import { generateManifest } from '../src/soak/manifest-generator.js'
import { cli, tempDir } from './cli-helpers.js'

describe('constellation soak: the command line', () => {
  it.each([
    [[], 'give either --manifest <file>, or --seed <n> and --minutes <m>'],
    [['--seed', '1'], '--seed and --minutes go together'],
    [['--manifest', 'm.json', '--seed', '1', '--minutes', '1'], 'give either --manifest <file>, or --seed <n> and --minutes <m>'],
    [['--seed', '1', '--minutes', '0'], 'expected Minutes (more than 0, at most 1440), got 0'],
    [
      ['--seed', '1', '--minutes', '1', '--kinds', 'kill,partition'],
      'expected "kill" | "restart" | "pause" | "disconnect" | "restart-facilitators", got "partition"',
    ],
    [['--seed', '1', '--minutes', '1', '--nodes', '17'], 'expected NodeCount (2 to 16), got 17'],
  ])('soak %j exits 2: %s', async (args, message) => {
    const run = await cli(['soak', ...args])
    expect(run.code).toBe(ExitCode.USAGE)
    expect(run.stderr).toContain(message)
    expect(run.stdout).toBe('')
  })

  it('exits 2 for a manifest it cannot read or that is not a manifest, naming the problem', async () => {
    const dir = await tempDir()
    const missing = await cli(['soak', '--manifest', join(dir, 'none.json')])
    expect(missing).toMatchObject({ code: ExitCode.USAGE, stdout: '' })
    expect(missing.stderr).toMatch(/^error MANIFEST_UNREADABLE: manifest .*none\.json cannot be read: ENOENT/)
    const misspelt = join(dir, 'misspelt.json')
    await writeFile(misspelt, JSON.stringify({ ...generateManifest({ seed: 1, durationMs: 60_000 }), perturbation: [] }))
    const invalid = await cli(['soak', '--manifest', misspelt])
    expect(invalid).toMatchObject({ code: ExitCode.USAGE, stdout: '' })
    expect(invalid.stderr).toContain('error MANIFEST_INVALID: manifest')
    expect(invalid.stderr).toContain('unknown field perturbation')
  })

  it('--help describes the invariants and gives examples', async () => {
    const run = await cli(['soak', '--help'])
    expect(run.code).toBe(ExitCode.OK)
    expect(run.stdout).toContain('Usage: constellation soak')
    expect(run.stdout).toContain('identical certificates')
    expect(run.stdout).toContain('$ constellation soak --seed 1 --minutes 20')
  })

  it('--seed --minutes generates a manifest, saves it, runs it and prints the report with a JSON line', async () => {
    const dir = await tempDir()
    const saved = join(dir, 'soak.json')
    // 18 s of load: one perturbation, a pause (the only kind asked for), between 5 and 6.5 s.
    const run = await cli(['soak', '--seed', '5', '--minutes', '0.3', '--nodes', '3', '--facilitators', '3', '--kinds', 'pause', '--save-manifest', saved])
    const expected = generateManifest({ seed: 5, durationMs: 18_000, nodes: 3, facilitators: 3, kinds: ['pause'] })
    expect(JSON.parse(await readFile(saved, 'utf8'))).toEqual(expected)
    expect(expected.perturbations).toHaveLength(1)
    const lines = run.stdout.trimEnd().split('\n')
    const report = (
      JSON.parse(lines.at(-1) as string) as { soak: { ok: boolean; seed: number; perturbations: { survived: number }; invariants: { violations: string[] } } }
    ).soak
    expect(report.invariants.violations, run.stdout + run.stderr).toEqual([])
    expect(report).toMatchObject({ ok: true, seed: 5, perturbations: { survived: 1 } })
    expect(run.code).toBe(ExitCode.OK)
    expect(lines[0]).toMatch(/^soak seed 5: 3 nodes \(3 facilitators\), 1\d\.\d s of load \(4 transfers\/s offered\), 1 perturbation$/)
    expect(run.stderr).toContain('pause node-')
  }, 180_000)
})
