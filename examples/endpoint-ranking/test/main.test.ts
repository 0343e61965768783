import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

// Runs the example as `pnpm start` would and checks that it ranks all five endpoints, elects two, and exits by
// itself. Only orderings that do not depend on timing are asserted: the overloaded endpoint answers after its
// probe's timeout, so it never reports a latency and ranks last.
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
  expect(new Set(ranked.map((line) => line.trim().split(/\s+/)[1]))).toEqual(
    new Set(['eu-fast', 'eu-steady', 'us-slow', 'ap-flaky', 'ap-overloaded']),
  )
  expect(ranked.at(-1)).toMatch(/ap-overloaded\s+0\.\d{3}\s+300\.0/)
  expect(run.stdout).toMatch(/next window: \S+ \(bracket \d, rank \d\), \S+ \(bracket \d, rank \d\)/)
})
