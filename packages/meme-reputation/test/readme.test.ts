import { expect, it } from 'vitest'
import { readmeExamples, runExample } from '../../../scripts/readme-examples.mjs'

// The README promises examples that run: run each, as a user would, against the package's exports.
const here = new URL('..', import.meta.url)
const { readme, examples } = readmeExamples(here)

function run(source: string, name: string): string {
  const result = runExample(here, source, name)
  expect(result.stderr).toBe('')
  return result.stdout.trim()
}

it('the README has its two examples', () => {
  expect(examples).toHaveLength(2)
})

it('the ranking example prints what the README says', () => {
  expect(run(examples[0]!, 'ranking')).toBe(
    [
      'api-eu 0.697 latencyMs 0.115, availability 0.582',
      'api-us 0.657 latencyMs 0.075, availability 0.582',
      'api-ap 0.142 latencyMs 0.058, availability 0.084',
    ].join('\n'),
  )
  expect(readme).toContain('api-eu 0.697 latencyMs 0.115, availability 0.582\napi-us 0.657')
})

it('the consensus example prints the committee the README shows', () => {
  const committee = 'node-41@3#0 node-31@3#1 node-63@2#0 node-96@newcomers#0'
  expect(run(examples[1]!, 'election')).toBe(committee)
  expect(readme).toContain(`prints \`${committee}\``)
})
