import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

// The README promises an example that runs: run it, as a user would, against the package's exports.
it('the README example runs and prints what it says', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  const example = /<!-- readme-example[^>]*-->\s*```ts\n([\s\S]*?)```/.exec(readme)?.[1]
  expect(example).toBeDefined()
  const file = fileURLToPath(new URL(`../.readme-example-${process.pid}.mts`, import.meta.url))
  writeFileSync(file, example as string)
  try {
    const run = spawnSync('pnpm', ['exec', 'tsx', '--conditions=source', file], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
    })
    expect(run.stderr).toBe('')
    const lines = run.stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^sodium [0-9a-f]{64}$/)
    expect(lines[1]).toBe('true')
    expect(lines[2]).toBe("{ type: 'tx', payload: { amount: 25 }, sequenceNumber: 1 }")
  } finally {
    rmSync(file, { force: true })
  }
})
