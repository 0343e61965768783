// Runs the examples a package README promises, as a user would: each `<!-- readme-example -->` code block is
// written next to the package (so that the package's own name resolves) and run with Node and tsx, resolving
// workspace packages from their TypeScript sources.
import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const EXAMPLE = /<!-- readme-example[^>]*-->\s*```ts\n([\s\S]*?)```/g

/** The README's text and its marked examples, in order. */
export function readmeExamples(packageDir) {
  const readme = readFileSync(new URL('README.md', packageDir), 'utf8')
  return { readme, examples: [...readme.matchAll(EXAMPLE)].map((match) => match[1]) }
}

/** Runs one example to completion; the file is per process, so parallel runs cannot collide. */
export function runExample(packageDir, source, name = 'example') {
  const file = fileURLToPath(new URL(`.readme-example-${name}-${process.pid}.mts`, packageDir))
  writeFileSync(file, source)
  try {
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=source', file], {
      cwd: fileURLToPath(packageDir),
      encoding: 'utf8',
    })
    return { stdout: run.stdout, stderr: run.stderr, status: run.status }
  } finally {
    rmSync(file, { force: true })
  }
}
