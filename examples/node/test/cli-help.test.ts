import { readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ExitCode } from '../src/cli/cli-io.js'
import { cli, launch, tempDir } from './cli-helpers.js'

const COMMANDS: readonly (readonly string[])[] = [
  [],
  ['init'],
  ['genesis'],
  ['genesis', 'create'],
  ['genesis', 'add-member'],
  ['start'],
  ['status'],
  ['tx'],
  ['tx', 'send'],
  ['tx', 'status'],
  ['contract'],
  ['contract', 'deploy'],
  ['contract', 'call'],
  ['devnet'],
]

describe('--version', () => {
  it('prints the version and the Node.js it runs on, and exits 0 (in-process and through the launcher)', async () => {
    const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
    for (const flag of ['--version', '-V']) {
      expect(await cli([flag])).toEqual({ code: ExitCode.OK, stdout: `constellation ${version} (Node.js ${process.version})\n`, stderr: '' })
    }
    const launched = launch(['--version'])
    expect(await launched.firstLine).toBe(`constellation ${version} (Node.js ${process.version})`)
    expect(await launched.exited).toEqual({ code: 0, signal: null })
  })
})

describe('--help', () => {
  for (const path of COMMANDS) {
    it(`constellation ${path.join(' ')} --help describes the command with examples`, async () => {
      const run = await cli([...path, '--help'])
      expect(run.code).toBe(ExitCode.OK)
      expect(run.stderr).toBe('')
      expect(run.stdout).toContain(`Usage: constellation ${path.join(' ')}`.trimEnd())
      expect(run.stdout).toMatch(/Examples?:|Quick start:|A network of several nodes/)
    })
  }

  it('lists every command at the top level', async () => {
    const run = await cli(['--help'])
    for (const name of ['init', 'genesis', 'start', 'status', 'tx', 'contract', 'devnet']) expect(run.stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'))
  })

  it('documents the environment variables of start', async () => {
    const run = await cli(['start', '--help'])
    for (const name of [
      'CONSTELLATION_DATA_DIR',
      'CONSTELLATION_API_PORT',
      'CONSTELLATION_API_HOST',
      'CONSTELLATION_LOG_LEVEL',
      'CONSTELLATION_BOOTSTRAP',
      'CONSTELLATION_LISTEN',
      'CONSTELLATION_PASSPHRASE',
    ]) {
      expect(run.stdout).toContain(name)
    }
  })
})

describe('bad command lines exit with 2 and say what is wrong', () => {
  const cases: readonly (readonly [readonly string[], string])[] = [
    [['init', '--data-dir', 'x', '--bogus'], "error: unknown option '--bogus'"],
    [['init'], "error: required option '--data-dir <dir>' not specified"],
    [['init', '--data-dir', 'x', '--group', 'demo'], "error: option '--group' needs --new-network"],
    [['init', '--data-dir', 'x', '--new-network', '--genesis', 'g.json'], "error: option '--genesis <file>' cannot be used with option '--new-network'"],
    [['init', '--data-dir', 'x', '--new-network', '--group', 'Not_A_Group'], 'argument \'Not_A_Group\' is invalid. expected GroupName, got "Not_A_Group"'],
    [['start', '--api-port', '70000'], "error: option '--api-port <port>' argument '70000' is invalid. expected Port, got 70000"],
    [['start', '--api-port', 'eighty'], 'expected Port, got "eighty"'],
    [['start', '--log-level', 'loud'], "option '--log-level <level>' argument 'loud' is invalid"],
    [['start', '--bootstrap', 'localhost:4001'], 'expected Multiaddr, got "localhost:4001"'],
    [['start'], 'error INVALID_CONFIG: no data dir: pass --data-dir or set CONSTELLATION_DATA_DIR'],
    [['tx', 'send', '--api', 'http://127.0.0.1:1', '--to', 'ab', '--amount', '1'], "option '--to <hex>' argument 'ab' is invalid. expected Hex32"],
    [['tx', 'send', '--api', 'http://127.0.0.1:1', '--to', 'ab'.repeat(32), '--amount', '0'], 'expected SafePositiveInteger, got 0'],
    [
      ['tx', 'send', '--api', 'http://127.0.0.1:1', '--to', 'ab'.repeat(32), '--amount', '1', '--idempotency-key', 'two words'],
      'expected IdempotencyKey (1 to 128 printable ASCII characters, no spaces), got "two words"',
    ],
    [
      ['tx', 'send', '--api', 'http://127.0.0.1:1', '--to', 'ab'.repeat(32), '--amount', '1', '--idempotency-key', 'k'.repeat(129)],
      'expected IdempotencyKey (1 to 128 printable ASCII characters, no spaces)',
    ],
    [['tx', 'status', 'nope', '--api', 'http://127.0.0.1:1'], "error: command-argument value 'nope' is invalid for argument 'id'. expected Hex32"],
    [['status', '--api', 'ftp://example.org'], 'expected HttpUrl, got "ftp://example.org"'],
    [['status', '--api', 'http://127.0.0.1:1', '--data-dir', 'x'], "error: option '--api <url>' cannot be used with option '--data-dir <dir>'"],
    [['status'], 'error INVALID_CONFIG: which node? pass --api URL or --data-dir D'],
    [['devnet', '--nodes', '1'], 'expected NodeCount (2 to 64), got 1'],
    [['devnet', '--nodes', '3', '--facilitators', '4'], 'error: --facilitators 4 is more than --nodes 3'],
    [['devnet', '--duration', '0'], 'expected Seconds (more than 0, at most a day), got 0'],
    [['nonsense'], "error: unknown command 'nonsense'"],
  ]
  for (const [argv, message] of cases) {
    it(`constellation ${argv.join(' ')}`, async () => {
      const run = await cli(argv)
      expect(run.stderr).toContain(message)
      expect(run.code).toBe(ExitCode.USAGE)
      expect(run.stdout).toBe('')
    })
  }

  it('points to --help after a commander error', async () => {
    const run = await cli(['start', '--bogus'])
    expect(run.stderr).toContain('(add --help for usage and examples)')
  })

  it('refuses a bad environment variable naming it, and a data dir never initialised', async () => {
    const dataDir = await tempDir()
    const notInitialised = await cli(['start', '--data-dir', dataDir])
    expect(notInitialised.code).toBe(ExitCode.USAGE)
    expect(notInitialised.stderr).toMatch(/^error NOT_INITIALISED: .* has no config.json: run `constellation init --data-dir /)
    expect((await cli(['init', '--data-dir', dataDir, '--new-network'])).code).toBe(ExitCode.OK)
    const badEnv = await cli(['start', '--data-dir', dataDir], { CONSTELLATION_API_PORT: 'http' })
    expect(badEnv.code).toBe(ExitCode.USAGE)
    expect(badEnv.stderr).toBe('error INVALID_CONFIG: environment variable CONSTELLATION_API_PORT: expected Port, got "http"\n')
  })

  it('refuses to start without a genesis, or with one that does not name the node', async () => {
    const dir = await tempDir()
    const dataDir = join(dir, 'node')
    expect((await cli(['init', '--data-dir', dataDir])).code).toBe(ExitCode.OK)
    const noGenesis = await cli(['start', '--data-dir', dataDir])
    expect(noGenesis.code).toBe(ExitCode.USAGE)
    expect(noGenesis.stderr).toBe(
      `error INVALID_GENESIS: no network genesis at ${join(dataDir, 'genesis.json')}: copy the network's genesis.json there, or see \`constellation genesis --help\`\n`,
    )
    const other = join(dir, 'other.json')
    expect((await cli(['genesis', 'create', '--group', 'elsewhere', '--member', `${'ab'.repeat(32)}:1`, '--out', other])).code).toBe(ExitCode.OK)
    expect((await cli(['init', '--data-dir', dataDir, '--genesis', other, '--force'])).code).toBe(ExitCode.OK)
    const notMember = await cli(['start', '--data-dir', dataDir, '--log-level', 'silent'])
    expect(notMember.code).toBe(ExitCode.USAGE)
    expect(notMember.stderr).toMatch(/^error NOT_A_MEMBER: node [0-9a-f]{16}… is not a member of the network in /)
  })

  it('reports a node that cannot be reached with exit code 1', async () => {
    const port = await closedPort()
    const run = await cli(['status', '--api', `http://127.0.0.1:${port}`])
    expect(run.code).toBe(ExitCode.FAILURE)
    expect(run.stderr).toBe(`error UNAVAILABLE: cannot reach the node at http://127.0.0.1:${port} (ECONNREFUSED): is it running?\n`)
  })
})

/** A loopback port nothing listens on: one the OS just handed out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}
