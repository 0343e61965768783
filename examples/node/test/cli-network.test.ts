import { join } from 'node:path'
import { expect, it } from 'vitest'
import { ExitCode } from '../src/cli/cli-io.js'
import { cli, launch, tempDir } from './cli-helpers.js'

interface Ready {
  readonly id: string
  readonly api: string
  readonly listen: readonly string[]
  readonly pid: number
}

// The README's "network by hand" steps: init two nodes, one genesis naming both, start them bootstrapped to each
// other, and a transfer followed to finality from the command line.
it('two nodes assembled by hand transact, and tx send --wait-final follows the transfer to finality', async () => {
  const dir = await tempDir()
  const ids: string[] = []
  const peerIds: string[] = []
  for (const name of ['a', 'b']) {
    const init = JSON.parse((await cli(['init', '--data-dir', join(dir, name), '--json'])).stdout) as { id: string; peerId: string }
    ids.push(init.id)
    peerIds.push(init.peerId)
  }
  const [a, b] = ids as [string, string]
  const genesis = join(dir, 'genesis.json')
  expect((await cli(['genesis', 'create', '--group', 'pair', '--facilitators', '2', '--member', `${a}:1000`, '--member', `${b}:1000`, '--out', genesis])).code).toBe(ExitCode.OK)
  for (const name of ['a', 'b']) expect((await cli(['init', '--data-dir', join(dir, name), '--genesis', genesis, '--force'])).code).toBe(ExitCode.OK)

  const first = launch(['start', '--data-dir', join(dir, 'a')])
  const readyA = JSON.parse(await first.firstLine) as Ready
  // init told the peer id a's addresses end with, so bootstrap addresses can be written before a node runs.
  expect(readyA.listen[0]).toMatch(new RegExp(`/p2p/${peerIds[0]}$`))
  const second = launch(['start', '--data-dir', join(dir, 'b'), '--bootstrap', readyA.listen[0] as string])
  const readyB = JSON.parse(await second.firstLine) as Ready
  expect(readyB.id).toBe(b)

  const sent = await cli(['tx', 'send', '--data-dir', join(dir, 'a'), '--to', b, '--amount', '25', '--wait-final', '--timeout', '30', '--json'])
  expect(sent.stderr).toBe('')
  const transaction = JSON.parse(sent.stdout) as { id: string; status: string; from: string; to: string; amount: number }
  expect(transaction).toMatchObject({ status: 'final', from: a, to: b, amount: 25 })

  const proved = await cli(['tx', 'status', transaction.id, '--api', readyA.api, '--proof'])
  expect(proved.code).toBe(ExitCode.OK)
  expect(proved.stdout).toMatch(/^status +final$/m)
  expect(proved.stdout).toMatch(/^proof +\d+ bytes/m)
  const status = JSON.parse((await cli(['status', '--api', readyB.api, '--json'])).stdout) as { balance: number; peers: number }
  expect(status.balance).toBe(1025)

  process.kill(readyA.pid, 'SIGINT')
  process.kill(readyB.pid, 'SIGINT')
  expect(await first.exited).toEqual({ code: 0, signal: null })
  expect(await second.exited).toEqual({ code: 0, signal: null })
})
