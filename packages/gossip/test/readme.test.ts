import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

// The README promises an example that runs: run it, as a user would, against the package's exports.
it('the README example runs, deterministically', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  const example = /<!-- readme-example[^>]*-->\s*```ts\n([\s\S]*?)```/.exec(readme)?.[1]
  expect(example).toBeDefined()
  const file = fileURLToPath(new URL(`../.readme-example-${process.pid}.mts`, import.meta.url))
  writeFileSync(file, example as string)
  try {
    const runs = [0, 1].map(() =>
      spawnSync('pnpm', ['exec', 'tsx', '--conditions=source', file], {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        encoding: 'utf8',
      }),
    )
    for (const run of runs) expect(run.stderr).toBe('')
    expect(runs[0]!.stdout).toMatch(/^99 Uint8Array\(1\) \[ 7 \] [0-9a-f]{16}\n$/)
    expect(runs[1]!.stdout).toBe(runs[0]!.stdout)
  } finally {
    rmSync(file, { force: true })
  }
})
