import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

// The README promises examples that run: run each, as a user would, against the package's exports.
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const examples = [...readme.matchAll(/<!-- readme-example[^>]*-->\s*```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string)

function run(source: string, name: string): string {
  const file = fileURLToPath(new URL(`../.readme-example-${name}.mts`, import.meta.url))
  writeFileSync(file, source)
  try {
    const result = spawnSync('pnpm', ['exec', 'tsx', '--conditions=source', file], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
    })
    expect(result.stderr).toBe('')
    return result.stdout.trim()
  } finally {
    rmSync(file, { force: true })
  }
}

it('the README has its two examples', () => {
  expect(examples).toHaveLength(2)
})

it('the ranking example prints what the README says', () => {
  expect(run(examples[0]!, 'ranking')).toBe(
    ['api-eu 0.697 latencyMs 0.115, availability 0.582', 'api-us 0.657 latencyMs 0.075, availability 0.582', 'api-ap 0.142 latencyMs 0.058, availability 0.084'].join('\n'),
  )
  expect(readme).toContain('api-eu 0.697 latencyMs 0.115, availability 0.582\napi-us 0.657')
})

it('the consensus example prints the committee the README shows', () => {
  const committee = 'node-41@3#0 node-31@3#1 node-63@2#0 node-96@newcomers#0'
  expect(run(examples[1]!, 'election')).toBe(committee)
  expect(readme).toContain(`prints \`${committee}\``)
})
