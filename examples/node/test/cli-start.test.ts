import { existsSync } from 'node:fs'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ExitCode } from '../src/cli/cli-io.js'
import { cli, launch, tempDir } from './cli-helpers.js'

describe('constellation start, as a process', () => {
  it('prints the ready line, answers status through the CLI, and exits 0 on SIGTERM (sent twice, as a terminal does)', async () => {
    const dataDir = join(await tempDir(), 'node')
    const init = await cli(['init', '--data-dir', dataDir, '--new-network', '--group', 'cli-test', '--json'])
    expect(init.code).toBe(ExitCode.OK)
    const { id } = JSON.parse(init.stdout) as { id: string }

    const node = launch(['start', '--data-dir', dataDir, '--log-level', 'debug'])
    const ready = JSON.parse(await node.firstLine) as { event: string; id: string; api: string; listen: string[]; pid: number }
    expect(ready).toMatchObject({ event: 'ready', id })
    expect(ready.api).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(ready.listen[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//)
    expect(existsSync(join(dataDir, 'node.json'))).toBe(true)

    const status = await cli(['status', '--data-dir', dataDir, '--json'])
    expect(status.code).toBe(ExitCode.OK)
    expect(JSON.parse(status.stdout)).toMatchObject({ id, group: 'cli-test', balance: 1_000_000, facilitators: [id] })
    const human = await cli(['status', '--api', ready.api])
    expect(human.stdout).toMatch(new RegExp(`^node +${id}$`, 'm'))

    // The running node's API token, in a file only its owner can read; commands that change state need it with --api.
    const cookie = join(dataDir, 'api.cookie')
    expect((await stat(cookie)).mode & 0o777).toBe(0o600)
    const token = ['--api-token', (await readFile(cookie, 'utf8')).trim()]

    // The API's refusal comes back as `error CODE: message` with exit code 1.
    const refused = await cli(['tx', 'send', '--api', ready.api, ...token, '--to', 'ab'.repeat(32), '--amount', '1'])
    expect(refused).toMatchObject({ code: ExitCode.FAILURE, stdout: '' })
    expect(refused.stderr).toBe(`error REJECTED: ${'ab'.repeat(32)} is not a member of this network\n`)
    const unknown = await cli(['tx', 'status', 'cd'.repeat(32), '--api', ready.api])
    expect(unknown.stderr).toMatch(/^error NOT_FOUND: /)

    // A contract: deployed from files, called with JSON input, listed.
    await writeFile(join(dataDir, 'counter.js'), 'function invoke(state, input, context) { return { state: state + input, output: state + input } }\n')
    await writeFile(join(dataDir, 'counter.sig.json'), JSON.stringify({ input: { kind: 'integer' }, output: { kind: 'integer' }, state: { kind: 'integer' } }))
    const deployed = await cli([
      'contract',
      'deploy',
      '--api',
      ready.api,
      ...token,
      '--code',
      join(dataDir, 'counter.js'),
      '--signature',
      join(dataDir, 'counter.sig.json'),
      '--initial-state',
      '0',
      '--json',
    ])
    expect(deployed.stderr).toBe('')
    const contract = (JSON.parse(deployed.stdout) as { id: string }).id
    expect(contract).toMatch(/^[0-9a-f]{64}$/)
    const called = await cli(['contract', 'call', contract, '--api', ready.api, ...token, '--input', '5'])
    expect(called.stdout).toMatch(/^output +5$/m)
    expect(JSON.parse((await cli(['contract', 'call', contract, '--api', ready.api, ...token, '--input', '7', '--json'])).stdout)).toMatchObject({ output: 12 })
    const badInput = await cli(['contract', 'call', contract, '--api', ready.api, ...token, '--input', '"seven"'])
    expect(badInput.code).toBe(ExitCode.FAILURE)
    expect(badInput.stderr).toMatch(/^error INVALID_REQUEST: CONTRACT_INPUT_INVALID: /)
    expect(JSON.parse((await cli(['contract', 'list', '--api', ready.api, '--json'])).stdout)).toMatchObject({ contracts: [{ id: contract, invocations: 2 }] })

    // Two interrupts, as a terminal delivers them: the node closes once and exits 0.
    process.kill(ready.pid, 'SIGTERM')
    process.kill(ready.pid, 'SIGTERM')
    expect(await node.exited).toEqual({ code: 0, signal: null })
    expect(node.stderr()).toContain('SIGTERM: closing the node')
    expect(existsSync(join(dataDir, 'node.json'))).toBe(false)
    expect(existsSync(cookie)).toBe(false)
    const gone = await cli(['status', '--data-dir', dataDir])
    expect(gone.stderr).toMatch(/^error UNAVAILABLE: no node is running in /)
  })

  it('exits with 2 and a clear message for a bad flag', async () => {
    const node = launch(['start', '--api-port', 'nope'])
    expect(await node.exited).toEqual({ code: 2, signal: null })
    expect(node.stderr()).toContain(`error: option '--api-port <port>' argument 'nope' is invalid. expected Port, got "nope"`)
  })

  it('exits with 2 when the data dir is not initialised', async () => {
    const node = launch(['start', '--data-dir', await tempDir()])
    expect(await node.exited).toEqual({ code: 2, signal: null })
    expect(node.stderr()).toMatch(/error NOT_INITIALISED: /)
  })
})
