import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

// Runs the example as `pnpm start` would and checks that it ranks all five endpoints, elects two, and exits by
// itself. Only orderings that do not depend on timing are asserted: the overloaded endpoint answers after its
// probe's timeout, so every probe of it reports the 250 ms timeout as its latency (not nothing, which left it at
// the schema's 300 ms default, better than a slow live endpoint's real answer) and it ranks last. Its printed
// latency is then exact: each round decays it towards 300 by 2^(-1/30) and averages in 250 with smoothing 0.5,
// which after 12 rounds from 300 gives 251.1.
it('probes the local servers, prints a ranking and a committee, and exits', () => {
  const run = spawnSync('pnpm', ['exec', 'tsx', '--conditions=source', 'src/main.ts'], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    encoding: 'utf8',
    timeout: 25_000,
  })
  expect(run.stderr).toBe('')
  expect(run.status).toBe(0)
  const ranked = run.stdout.split('\n').filter((line) => /^\s+\d\s{2}\S+\s+0\.\d{3}\s/.test(line))
  expect(ranked).toHaveLength(5)
  expect(new Set(ranked.map((line) => line.trim().split(/\s+/)[1]))).toEqual(new Set(['eu-fast', 'eu-steady', 'us-slow', 'ap-flaky', 'ap-overloaded']))
  expect(ranked.at(-1)).toMatch(/ap-overloaded\s+0\.\d{3}\s+251\.1\s/)
  expect(run.stdout).toMatch(/next window: \S+ \(bracket \d, rank \d\), \S+ \(bracket \d, rank \d\)/)
})
