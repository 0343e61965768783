import { join } from 'node:path'
import { expect, it } from 'vitest'
import { ExitCode } from '../src/cli/cli-io.js'
import { cli, launch, type Ready, tempDir } from './cli-helpers.js'

// `constellation genesis --help`'s three-node example: b and c are given only a's address. They find each other
// through a (peer exchange), the three facilitators certify rounds, and a transfer from b to c becomes final. Before
// peer discovery b and c never connected, no round was certified and the transfer failed after 30 s.
it('three nodes bootstrapped only to the first find each other: rounds are certified and a transfer between the other two is final', async () => {
  const dir = await tempDir()
  const ids: string[] = []
  for (const name of ['a', 'b', 'c']) {
    ids.push((JSON.parse((await cli(['init', '--data-dir', join(dir, name), '--json'])).stdout) as { id: string }).id)
  }
  const [a, b, c] = ids as [string, string, string]
  const genesis = join(dir, 'genesis.json')
  const created = await cli([
    'genesis',
    'create',
    '--group',
    'demo',
    '--facilitators',
    '3',
    '--member',
    `${a}:1000000`,
    '--member',
    `${b}:1000000`,
    '--member',
    `${c}:1000000`,
    '--out',
    genesis,
  ])
  expect(created.code).toBe(ExitCode.OK)
  for (const name of ['a', 'b', 'c']) expect((await cli(['init', '--data-dir', join(dir, name), '--genesis', genesis, '--force'])).code).toBe(ExitCode.OK)

  const first = launch(['start', '--data-dir', join(dir, 'a')])
  const readyA = JSON.parse(await first.firstLine) as Ready
  const bootstrap = readyA.listen[0] as string
  const second = launch(['start', '--data-dir', join(dir, 'b'), '--bootstrap', bootstrap])
  const third = launch(['start', '--data-dir', join(dir, 'c'), '--bootstrap', bootstrap])
  const readyB = JSON.parse(await second.firstLine) as Ready
  const readyC = JSON.parse(await third.firstLine) as Ready
  expect([readyB.id, readyC.id]).toEqual([b, c])

  const sent = await cli(['tx', 'send', '--data-dir', join(dir, 'b'), '--to', c, '--amount', '40', '--wait-final', '--timeout', '60', '--json'])
  expect(sent.stderr).toBe('')
  expect(JSON.parse(sent.stdout)).toMatchObject({ status: 'final', from: b, to: c, amount: 40 })
  // b and c are neighbours now, though neither was told the other's address.
  const statusB = JSON.parse((await cli(['status', '--api', readyB.api, '--json'])).stdout) as { peers: number }
  expect(statusB.peers).toBe(2)

  for (const ready of [readyA, readyB, readyC]) process.kill(ready.pid, 'SIGINT')
  for (const launched of [first, second, third]) expect(await launched.exited).toEqual({ code: 0, signal: null })
}, 120_000)
