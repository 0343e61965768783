import { expect, it } from 'vitest'
import { readmeExamples, runExample } from '../../../scripts/readme-examples.mjs'

// The README promises an example that runs: run it, as a user would, against the package's exports.
it('the README example runs and prints what it says', () => {
  const here = new URL('..', import.meta.url)
  const [example] = readmeExamples(here).examples
  expect(example).toBeDefined()
  const run = runExample(here, example as string)
  expect(run.stderr).toBe('')
  expect(run.stdout.trim().split('\n')).toEqual([
    "[ 'stored', 'stored', 'stored' ]",
    "{ kind: 'transfer', amount: 30, balance: 70 } { kind: 'transfer', amount: 30, balance: 30 }",
    'rejected double-sign',
    "[ 'double-sign' ]",
  ])
})
