import { expect, it } from 'vitest'
import { readmeExamples, runExample } from '../../../scripts/readme-examples.mjs'

// The README promises examples that run: run each, as a user would, against the package's exports.
const here = new URL('..', import.meta.url)
const { readme, examples } = readmeExamples(here)

it('the README has its custom-node example', () => {
  expect(examples).toHaveLength(1)
})

it('the custom node (memory store and journals, SimNetwork, own scorer) makes a transfer final', () => {
  const result = runExample(here, examples[0]!, 'custom-node')
  expect(result.stderr).toBe('')
  const printed = result.stdout.trim()
  expect(printed).toBe('final 975 1025')
  expect(readme).toContain(`prints \`${printed}\``)
}, 120_000)
