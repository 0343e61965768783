#!/usr/bin/env node
// Runs the whole vitest suite (extra arguments pass through) and ends with one plain line,
// "N passed, N failed[, N skipped]", which CI reads; the exit code is vitest's.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const dir = mkdtempSync(join(tmpdir(), 'constellation-tests-'))
const report = join(dir, 'vitest.json')
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)]
const child = spawn('pnpm', ['exec', ...args], { stdio: 'inherit' })
const code = await new Promise((resolve) => child.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0))))

let passed = 0
let failed = 0
let skipped = 0
try {
  const results = JSON.parse(readFileSync(report, 'utf8'))
  passed = results.numPassedTests
  failed = results.numFailedTests
  skipped = results.numPendingTests + results.numTodoTests
  // A suite that fails to load has no failed tests but is a failure all the same.
  failed += results.testResults.filter((file) => file.status === 'failed' && file.assertionResults.length === 0).length
} catch {
  failed = Math.max(failed, 1) // no report: vitest itself failed
}
rmSync(dir, { recursive: true, force: true })
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`)
process.exit(code !== 0 ? code : failed > 0 ? 1 : 0)
