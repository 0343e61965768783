import { expect, it } from 'vitest'
import { readmeExamples, runExample } from '../../../scripts/readme-examples.mjs'

// The README promises an example that runs: run it, as a user would, against the package's exports.
it('the README example deploys a token and a pipeline, runs them, and prints what it says', () => {
  const here = new URL('..', import.meta.url)
  const [example] = readmeExamples(here).examples
  expect(example).toBeDefined()
  const run = runExample(here, example as string)
  expect(run.stderr).toBe('')
  expect(run.stdout.trim().split('\n')).toEqual(['70 1 true 30', '9 1', 'agrees', 'alice has 50 left', 'CONTRACT_THREW'])
})
