import { expect, it } from 'vitest'
import { readmeExamples, runExample } from '../../../scripts/readme-examples.mjs'

const here = new URL('..', import.meta.url)

// The README promises examples that run: run them, as a user would, against the package's exports.
it('the README example runs and prints what it says', () => {
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

it('the anchored transfers example runs and prints what it says', () => {
  const anchored = readmeExamples(here).examples[1]
  expect(anchored).toBeDefined()
  const run = runExample(here, anchored as string, 'anchored')
  expect(run.stderr).toBe('')
  expect(run.stdout.trim().split('\n')).toEqual(["[ 'agreed', 'agreed', 'refused' ]", '60 5', '130 100', 'TRUSTCHAIN_INSUFFICIENT_FUNDS'])
})
