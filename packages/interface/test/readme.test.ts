import { expect, it } from 'vitest'
import { readmeExamples, runExample } from '../../../scripts/readme-examples.mjs'

// The README promises an example that runs: run it, as a user would, against the package's exports.
const here = new URL('..', import.meta.url)
const { readme, examples } = readmeExamples(here)

it('the README example prints what the README says', () => {
  expect(examples).toHaveLength(1)
  const result = runExample(here, examples[0]!, 'coded-error')
  expect(result.stderr).toBe('')
  const printed = result.stdout.trim()
  expect(printed).toBe('QuotaError QUOTA_EXCEEDED {"used":12,"limit":10,"at":1700000000000}')
  expect(readme).toContain(`prints \`${printed}\``)
})

it('a script whose only pending work is a sleep on systemClock exits before the timer fires, as the README says', () => {
  const source = "import { sleep, systemClock } from '@constellation/interface'\nawait sleep(systemClock, 60_000)\nconsole.log('woke')\n"
  const result = runExample(here, source, 'unref-timer')
  expect(result.stdout).toBe('')
})
