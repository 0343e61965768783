import { join } from 'node:path'
import { expect, it } from 'vitest'
import { ExitCode } from '../src/cli/cli-io.js'
import { cli, launch, type Ready, tempDir } from './cli-helpers.js'

// The README's "network by hand" steps: init two nodes, one genesis naming both, start them bootstrapped to each
// other, and a transfer followed to finality from the command line; sent again under its idempotency key it is the
// same transfer; a key reused for another transfer and an overdraft are refused; the proof and the totals as printed.
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
  expect(
    (await cli(['genesis', 'create', '--group', 'pair', '--facilitators', '2', '--member', `${a}:1000`, '--member', `${b}:1000`, '--out', genesis])).code,
  ).toBe(ExitCode.OK)
  for (const name of ['a', 'b']) expect((await cli(['init', '--data-dir', join(dir, name), '--genesis', genesis, '--force'])).code).toBe(ExitCode.OK)

  const first = launch(['start', '--data-dir', join(dir, 'a')])
  const readyA = JSON.parse(await first.firstLine) as Ready
  // init told the peer id a's addresses end with, so bootstrap addresses can be written before a node runs.
  expect(readyA.listen[0]).toMatch(new RegExp(`/p2p/${peerIds[0]}$`))
  const second = launch(['start', '--data-dir', join(dir, 'b'), '--bootstrap', readyA.listen[0] as string])
  const readyB = JSON.parse(await second.firstLine) as Ready
  expect(readyB.id).toBe(b)

  const sendArgs = ['tx', 'send', '--data-dir', join(dir, 'a'), '--to', b, '--amount', '25', '--idempotency-key', 'invoice-1']
  const sent = await cli([...sendArgs, '--wait-final', '--timeout', '30', '--json'])
  expect(sent.stderr).toBe('')
  const transaction = JSON.parse(sent.stdout) as { id: string; status: string; from: string; to: string; amount: number }
  expect(transaction).toMatchObject({ status: 'final', from: a, to: b, amount: 25 })
  // Sent again under the same key (a retry after a lost answer): the same transfer, not a second payment.
  const again = await cli([...sendArgs, '--json'])
  expect(again.stderr).toBe('')
  expect(JSON.parse(again.stdout)).toMatchObject({ id: transaction.id, status: 'final' })
  // The key names that transfer: another amount under it is refused, and so is more than a can spend.
  const conflict = await cli(['tx', 'send', '--data-dir', join(dir, 'a'), '--to', b, '--amount', '26', '--idempotency-key', 'invoice-1'])
  expect(conflict).toMatchObject({ code: ExitCode.FAILURE, stdout: '' })
  expect(conflict.stderr).toMatch(/^error KEY_CONFLICT: /)
  const overdraft = await cli(['tx', 'send', '--data-dir', join(dir, 'a'), '--to', b, '--amount', '5000'])
  expect(overdraft).toMatchObject({ code: ExitCode.FAILURE, stdout: '' })
  expect(overdraft.stderr).toMatch(/^error INSUFFICIENT_FUNDS: /)

  const proved = await cli(['tx', 'status', transaction.id, '--api', readyA.api, '--proof'])
  expect(proved.code).toBe(ExitCode.OK)
  expect(proved.stdout).toMatch(/^status +final$/m)
  expect(proved.stdout).toMatch(/^proof +\d+ bytes/m)
  // The proof is the certificate of the round that finalised the transfer, and its place among that round's.
  const round = /^final +\d+ ms after submission \(round (\d+)\)$/m.exec(proved.stdout)?.[1]
  expect(round).toBeDefined()
  expect(proved.stdout).toMatch(new RegExp(`^certificate +round ${round} of pair, which finalised it: \\d+ signatures?$`, 'm'))
  expect(proved.stdout).toMatch(new RegExp(`^merkle path +transfer \\d+ of the \\d+ that round ${round} finalised$`, 'm'))
  const status = JSON.parse((await cli(['status', '--api', readyB.api, '--json'])).stdout) as { balance: number; peers: number }
  expect(status.balance).toBe(1025)
  // a's totals: one proposal, agreed and final (the retry made none); the overdraft refused before signing (the key
  // conflict too, if the node counts it there).
  const totals = await cli(['status', '--api', readyA.api])
  expect(totals.stdout).toMatch(
    /^transactions +1 submitted: 1 agreed \(1 final, 0 awaiting finality\), 0 pending, 0 refused; [12] rejected before signing; 0 received \(0 final\)$/m,
  )

  process.kill(readyA.pid, 'SIGINT')
  process.kill(readyB.pid, 'SIGINT')
  expect(await first.exited).toEqual({ code: 0, signal: null })
  expect(await second.exited).toEqual({ code: 0, signal: null })
})
