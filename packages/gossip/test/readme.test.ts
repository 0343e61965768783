import { expect, it } from 'vitest'
import { readmeExamples, runExample } from '../../../scripts/readme-examples.mjs'

// The README promises an example that runs: run it, as a user would, against the package's exports.
it('the README example runs, deterministically', () => {
  const here = new URL('..', import.meta.url)
  const [example] = readmeExamples(here).examples
  expect(example).toBeDefined()
  const runs = [0, 1].map(() => runExample(here, example as string))
  for (const run of runs) expect(run.stderr).toBe('')
  expect(runs[0]!.stdout).toMatch(/^99 Uint8Array\(1\) \[ 7 \] [0-9a-f]{16}\n$/)
  expect(runs[1]!.stdout).toBe(runs[0]!.stdout)
})
