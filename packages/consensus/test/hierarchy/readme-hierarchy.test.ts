import { expect, it } from 'vitest'
import { readmeExamples, runExample } from '../../../../scripts/readme-examples.mjs'

// The README's hierarchy example: membership from certified requests, and a Merkle commitment to a child.
it('the README hierarchy example assigns 40 joiners to three solar systems and proves a child committed', () => {
  const here = new URL('../..', import.meta.url)
  const example = readmeExamples(here).examples[1]
  expect(example).toBeDefined()
  const run = runExample(here, example as string, 'hierarchy')
  expect(run.stderr).toBe('')
  expect(run.stdout.trim().split('\n')).toEqual([
    'root round 1: sol-0 8, sol-1 8, sol-2 8; 16 waiting',
    'root round 2: sol-0 14, sol-1 13, sol-2 13; 0 waiting',
    'a solar system is full at 16 members',
    'child certificate 3 committed: true',
  ])
}, 60_000)
