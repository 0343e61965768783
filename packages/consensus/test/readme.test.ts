import { expect, it } from 'vitest'
import { readmeExamples, runExample } from '../../../scripts/readme-examples.mjs'

// The README promises a 16-member solar system that certifies rounds and finalises transfers: run it as a user would.
it('the README example runs a solar system and prints its certified rounds and final transfers', () => {
  const here = new URL('..', import.meta.url)
  const [example] = readmeExamples(here).examples
  expect(example).toBeDefined()
  const run = runExample(here, example as string)
  expect(run.stderr).toBe('')
  expect(run.stdout.trim().split('\n')).toEqual([
    'round 1: 16 checkpoints, 3 signatures',
    'round 2: 2 checkpoints, 3 signatures',
    'final: 3 of 3 transfers, proven by round 2',
  ])
}, 60_000)
