#!/usr/bin/env node
// Runs the whole vitest suite (extra arguments pass through) and ends with one plain line,
// "N passed, N failed[, N skipped]", which CI reads; the exit code is vitest's.
// The explorer's browser tests drive Debian's Chromium: when it is missing, it is installed with apt if this runs
// as root (CI, a fresh machine), and otherwise the command to install it is printed (those tests then fail saying so).
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const CHROMIUM = '/usr/bin/chromium'
if (!existsSync(CHROMIUM)) {
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    console.log("installing chromium with apt for the explorer's browser tests")
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    const quiet = { stdio: ['ignore', 'ignore', 'inherit'], env }
    const updated = spawnSync('apt-get', ['update', '-qq'], quiet).status === 0
    if (!updated || spawnSync('apt-get', ['install', '-y', '-qq', 'chromium'], quiet).status !== 0) {
      console.log('apt-get could not install chromium; the browser tests will fail until it is installed')
    }
  } else {
    console.log(`the explorer's browser tests need Chromium at ${CHROMIUM}: install it with \`sudo apt-get install chromium\` (Debian, Ubuntu)`)
  }
}

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
  // A suite that fails to load, or whose beforeAll fails (its tests then count as skipped), has no failed tests but
  // is a failure all the same.
  failed += results.testResults.filter((file) => file.status === 'failed' && !file.assertionResults.some((test) => test.status === 'failed')).length
} catch {
  failed = Math.max(failed, 1) // no report: vitest itself failed
}
rmSync(dir, { recursive: true, force: true })
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`)
process.exit(code !== 0 ? code : failed > 0 ? 1 : 0)
