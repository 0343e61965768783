import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

// The README promises an example that runs: run it, as a user would, against the package's exports.
it('the README example runs and prints what it says', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  const example = /<!-- readme-example[^>]*-->\s*```ts\n([\s\S]*?)```/.exec(readme)?.[1]
  expect(example).toBeDefined()
  const file = fileURLToPath(new URL('../.readme-example.mts', import.meta.url))
  writeFileSync(file, example as string)
  try {
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=source', file], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
    })
    expect(run.stderr).toBe('')
    expect(run.stdout.trim().split('\n')).toEqual([
      "[ 'stored', 'stored', 'stored' ]",
      "{ kind: 'transfer', amount: 30, balance: 70 } { kind: 'transfer', amount: 30, balance: 30 }",
      'rejected double-sign',
      "[ 'double-sign' ]",
    ])
  } finally {
    rmSync(file, { force: true })
  }
})
