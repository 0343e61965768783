#!/usr/bin/env node
// The `constellation` command. The node runs from its TypeScript sources (the workspace packages resolve through
// their "source" export condition), so this launcher starts Node with tsx as a loader and that condition, passes
// the arguments through, forwards SIGINT/SIGTERM so the node shuts down gracefully, and exits with its code.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url))
// Resolved from this file, not from the working directory, so the command runs from anywhere.
const tsx = import.meta.resolve('tsx')
const child = spawn(process.execPath, ['--conditions=source', '--import', tsx, main, ...process.argv.slice(2)], { stdio: 'inherit' })
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
child.on('exit', (code, signal) => {
  if (signal === null) process.exit(code ?? 1)
  // Die of the same signal, as a shell expects; our own forwarding handler must not catch it.
  process.removeAllListeners(signal)
  process.kill(process.pid, signal)
})
