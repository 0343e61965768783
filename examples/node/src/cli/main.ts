/**
 * Entry point of the `constellation` command (run through bin/constellation.mjs, or
 * `node --conditions=source --import tsx src/cli/main.ts …`). Exits explicitly once the command is done, so a
 * lingering socket or timer of a library never keeps a finished command alive.
 */
import { processIo } from './cli-io.js'
import { runCli } from './program.js'

const code = await runCli(process.argv.slice(2), processIo)
process.exit(code)
