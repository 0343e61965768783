import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadCrypto } from '@constellation/crypto'
import { genesisFingerprint, readNetworkGenesis } from '../src/config/network-genesis.js'
import { readNodeConfigFile } from '../src/config/node-config.js'
import { ExitCode } from '../src/cli/cli-io.js'
import { cli, tempDir } from './cli-helpers.js'

const ID = /^[0-9a-f]{64}$/

async function initJson(args: readonly string[], env: Record<string, string> = {}) {
  const run = await cli(['init', '--json', ...args], env)
  expect(run.stderr).toBe('')
  expect(run.code).toBe(ExitCode.OK)
  return JSON.parse(run.stdout) as { id: string; peerId: string; dataDir: string; keyCreated: boolean; genesisFile?: string; member?: boolean }
}

describe('constellation init', () => {
  it('creates an owner-only key, the default config and a one-node genesis', async () => {
    const dataDir = join(await tempDir(), 'node')
    const result = await initJson(['--data-dir', dataDir, '--new-network', '--group', 'demo', '--balance', '500'])
    expect(result.id).toMatch(ID)
    expect(result.peerId).toMatch(/^12D3KooW[1-9A-HJ-NP-Za-km-z]+$/)
    expect((await stat(join(dataDir, 'node.key'))).mode & 0o777).toBe(0o600)
    const config = await readNodeConfigFile(join(dataDir, 'config.json'))
    expect(config.dataDir).toBe(dataDir)
    expect(config.api).toMatchObject({ host: '127.0.0.1', port: 0 })
    const genesis = await readNetworkGenesis(config.genesisFile)
    expect(genesis).toMatchObject({ group: 'demo', facilitators: 1, members: [{ id: result.id, balance: 500 }] })
  })

  it('prints the node id for people too', async () => {
    const dataDir = await tempDir()
    const run = await cli(['init', '--data-dir', dataDir])
    expect(run.code).toBe(ExitCode.OK)
    expect(run.stdout).toMatch(/^node id +[0-9a-f]{64}$/m)
    expect(run.stdout).toContain('next: put the network genesis in')
  })

  it('refuses an initialised dir without --force, and with --force keeps the key', async () => {
    const dataDir = await tempDir()
    const first = await initJson(['--data-dir', dataDir, '--new-network'])
    const key = await readFile(join(dataDir, 'node.key'), 'utf8')
    const refused = await cli(['init', '--data-dir', dataDir, '--new-network'])
    expect(refused.code).toBe(ExitCode.USAGE)
    expect(refused.stdout).toBe('')
    expect(refused.stderr).toMatch(/^error ALREADY_INITIALISED: .* is already initialised .*pass --force/)
    const forced = await initJson(['--data-dir', dataDir, '--new-network', '--group', 'again', '--force'])
    expect(forced).toMatchObject({ id: first.id, keyCreated: false })
    expect(await readFile(join(dataDir, 'node.key'), 'utf8')).toBe(key)
    expect(await readNetworkGenesis(join(dataDir, 'genesis.json'))).toMatchObject({ version: 1, group: 'again' })
  })

  it('seals the key with CONSTELLATION_PASSPHRASE and needs it to reopen the key', async () => {
    const dataDir = await tempDir()
    const env = { CONSTELLATION_PASSPHRASE: 'correct horse' }
    const first = await initJson(['--data-dir', dataDir], env)
    expect(await readFile(join(dataDir, 'node.key'), 'utf8')).not.toContain('"seed"')
    expect((await initJson(['--data-dir', dataDir, '--force'], env)).id).toBe(first.id)
    const wrong = await cli(['init', '--data-dir', dataDir, '--force'], { CONSTELLATION_PASSPHRASE: 'wrong' })
    expect(wrong.code).toBe(ExitCode.FAILURE)
    expect(wrong.stderr).toMatch(/^error /)
  })

  it('copies a genesis file and says when it does not name this node', async () => {
    const dir = await tempDir()
    const a = await initJson(['--data-dir', join(dir, 'a'), '--new-network', '--group', 'shared'])
    const b = await initJson(['--data-dir', join(dir, 'b'), '--genesis', join(dir, 'a', 'genesis.json')])
    expect(b.member).toBe(false)
    expect(await readFile(join(dir, 'b', 'genesis.json'), 'utf8')).toBe(await readFile(join(dir, 'a', 'genesis.json'), 'utf8'))
    expect(a.member).toBe(true)
  })

  it('leaves the dir untouched when the genesis file is bad', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'genesis.json'), '{"version":1,"group":"UPPER","timestamp":0,"facilitators":1,"members":[]}')
    const run = await cli(['init', '--data-dir', join(dir, 'node'), '--genesis', join(dir, 'genesis.json')])
    expect(run.code).toBe(ExitCode.USAGE)
    expect(run.stderr).toMatch(/^error INVALID_GENESIS: genesis file .*: group: expected GroupName, got "UPPER"/)
    await expect(stat(join(dir, 'node'))).rejects.toThrow()
  })
})

describe('constellation genesis', () => {
  it('assembles a network of several nodes by hand', async () => {
    const dir = await tempDir()
    const ids: string[] = []
    for (const name of ['a', 'b', 'c']) ids.push((await initJson(['--data-dir', join(dir, name)])).id)
    const out = join(dir, 'genesis.json')
    const created = await cli([
      'genesis',
      'create',
      '--group',
      'trio',
      '--facilitators',
      '2',
      '--member',
      `${ids[0]}:100`,
      '--member',
      `${ids[1]}:200`,
      '--timestamp',
      '1000',
      '--out',
      out,
    ])
    expect(created).toMatchObject({ code: ExitCode.OK, stdout: '' })
    const crypto = await loadCrypto()
    const first = await readNetworkGenesis(out)
    expect(created.stderr).toBe(`wrote ${out}: group trio, 2 members, 2 facilitators, fingerprint ${genesisFingerprint(crypto, first)}\n`)
    const added = await cli(['genesis', 'add-member', '--genesis', out, '--id', ids[2] as string, '--balance', '300', '--json'])
    expect(added.code).toBe(ExitCode.OK)
    const genesis = await readNetworkGenesis(out)
    expect(JSON.parse(added.stdout)).toEqual(genesis)
    expect(genesis).toEqual({ version: 1, group: 'trio', timestamp: 1000, facilitators: 2, members: ids.map((id, i) => ({ id, balance: 100 * (i + 1) })) })
    const again = await cli(['genesis', 'add-member', '--genesis', out, '--id', ids[2] as string, '--balance', '1'])
    expect(again.code).toBe(ExitCode.USAGE)
    const text = await cli(['genesis', 'add-member', '--genesis', out, '--id', 'cd'.repeat(32), '--balance', '1'])
    expect(text.stdout).toBe(`${out}: 4 members, 2 facilitators, fingerprint ${genesisFingerprint(crypto, await readNetworkGenesis(out))}\n`)
    expect(again.stderr).toBe(`error INVALID_GENESIS: ${ids[2]} is already a member\n`)
    // Each node takes the same file; init --force keeps its key.
    const joined = await initJson(['--data-dir', join(dir, 'b'), '--genesis', out, '--force'])
    expect(joined).toMatchObject({ id: ids[1], member: true })
  })

  it('writes the genesis to stdout without --out and checks each member', async () => {
    const id = 'ab'.repeat(32)
    const run = await cli(['genesis', 'create', '--group', 'solo', '--member', `${id}:5`, '--timestamp', '7'])
    expect(JSON.parse(run.stdout)).toEqual({ version: 1, group: 'solo', timestamp: 7, facilitators: 1, members: [{ id, balance: 5 }] })
    const bad = await cli(['genesis', 'create', '--group', 'solo', '--member', `${id}:lots`])
    expect(bad.code).toBe(ExitCode.USAGE)
    expect(bad.stderr).toContain(`option '--member <hex:balance>' argument '${id}:lots' is invalid. balance: expected SafeNonNegativeInteger, got "lots"`)
    const noColon = await cli(['genesis', 'create', '--group', 'solo', '--member', id])
    expect(noColon.stderr).toContain('expected HEX:BALANCE')
  })
})
