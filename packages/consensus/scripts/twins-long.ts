/**
 * The long Twins run: thousands of adversarial seeds per configuration (t = 1, 2, 5; n = 3t + 1), printing a
 * summary and every failing seed with its configuration, so it can be replayed with runAcsAdversarially(n, t, seed).
 *
 *   pnpm --filter @constellation/consensus exec tsx --conditions=source scripts/twins-long.ts [seeds] [firstSeed]
 */
import { runAcsAdversarially } from '../test/support/adversarial-acs.js'

const seeds = Number(process.argv[2] ?? 5000)
const firstSeed = Number(process.argv[3] ?? 1)
let failures = 0
for (const t of [1, 2, 5]) {
  const n = 3 * t + 1
  const started = performance.now()
  let deliveries = 0
  let configFailures = 0
  for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
    const run = runAcsAdversarially(n, t, seed)
    deliveries += run.result.deliveries
    if (run.violations.length > 0) {
      configFailures++
      console.log(`FAIL ${run.result.description}: ${run.violations.join('; ')}`)
    }
  }
  failures += configFailures
  const seconds = (performance.now() - started) / 1000
  console.log(
    `t = ${t}, n = ${n}: ${seeds} seeds, ${configFailures} failing; ${(deliveries / seeds).toFixed(0)} messages delivered per run; ` +
      `${seconds.toFixed(1)} s (${((seconds * 1000) / seeds).toFixed(1)} ms per run)`,
  )
}
process.exitCode = failures > 0 ? 1 : 0
