import { expect, it } from 'vitest'
import { readmeExamples, runExample } from '../../../scripts/readme-examples.mjs'

// The README promises an example that runs: run it, as a user would, against the package's exports.
it('the README example runs and prints what it says', () => {
  const here = new URL('..', import.meta.url)
  const [example] = readmeExamples(here).examples
  expect(example).toBeDefined()
  const run = runExample(here, example as string)
  expect(run.stderr).toBe('')
  const lines = run.stdout.trim().split('\n')
  expect(lines[0]).toMatch(/^sodium [0-9a-f]{64}$/)
  expect(lines[1]).toBe('true')
  expect(lines[2]).toBe("{ type: 'tx', payload: { amount: 25 }, sequenceNumber: 1 }")
})
