import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { runScenario } from './fixtures/scenario.js'

describe('determinism', () => {
  const here = runScenario()

  it('gives the same committees and state on a second run in the same process', () => {
    expect(runScenario()).toEqual(here)
    expect(here.elections).toHaveLength(6)
    expect(here.elections.at(-1)!.elected).toHaveLength(16)
    // The scenario is not degenerate: committees change from round to round.
    expect(new Set(here.elections.map((e) => e.elected.join())).size).toBe(6)
  })

  it('gives byte-identical output in another process', () => {
    const run = spawnSync('pnpm', ['exec', 'tsx', '--conditions=source', 'test/fixtures/print-scenario.ts'], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    })
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    expect(run.stdout).toBe(JSON.stringify(here))
  })
})
