/**
 * A transfer agreed before its proposer stopped, and finalised only after it started again, is recorded final in
 * the proposer's journal — so its proof and status outlive the rounds the consensus keeps in memory. Two in-process
 * nodes, both facilitators; in its first life the proposer never checkpoints (its proposal cannot be certified), so
 * the transfer is agreed but not final when it closes; started again with the usual pacing, it checkpoints and a
 * round finalises the transfer. Before, the restarted node's tracker did not know the transfer, the round's leaves
 * passed it over, and nothing was recorded: once the round left the consensus's window (256 rounds) the transfer
 * read "agreed" for good (found by the perturbation suite's long soak).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createKeyFile, fromHex, loadCrypto, toHex } from '@constellation/crypto'
import { pino } from 'pino'
import { afterAll, expect, it } from 'vitest'
import { defaultNodeConfig } from '../src/config/node-config.js'
import { createNode } from '../src/node/create-node.js'
import type { FullNode } from '../src/node/full-node.js'

const crypto = await loadCrypto()
const logger = pino({ level: 'silent' })
let base: string | undefined
const open: FullNode[] = []
afterAll(async () => {
  for (const node of open.reverse()) await node.close()
  if (base !== undefined) await rm(base, { recursive: true, force: true })
})

/** Resolves once `check` holds, re-checking after each certified round of `node`. */
function untilRound(node: FullNode, check: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off()
      reject(new Error(`timed out waiting for ${what}`))
    }, timeoutMs)
    const attempt = async () => {
      if (await check()) {
        clearTimeout(timer)
        off()
        resolve()
      }
    }
    const off = node.consensus.onCertificate(() => void attempt().catch(reject))
    void attempt().catch(reject)
  })
}

it('a transfer agreed before its proposer stopped and finalised after it started again is recorded final', async () => {
  base = await mkdtemp(join(tmpdir(), 'constellation-restart-finality-'))
  const dirs = [join(base, 'a'), join(base, 'b')]
  const keys = await Promise.all(dirs.map((dir) => createKeyFile(join(dir, 'node.key'), { crypto })))
  const genesisFile = join(base, 'genesis.json')
  const members = keys.map((key) => ({ id: toHex(key.publicKey), balance: 1_000_000 }))
  await writeFile(genesisFile, JSON.stringify({ version: 1, group: 'restart-finality', timestamp: Date.now(), facilitators: 2, members }))
  const configOf = (dir: string, checkpointDelayMs: number, bootstrap: string[]) => ({
    ...defaultNodeConfig(dir),
    genesisFile,
    p2p: { listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap },
    consensus: { checkpointDelayMs },
  })
  const [dirA, dirB] = dirs as [string, string]
  // A's first life: it never checkpoints, so its proposal is never certified.
  const first = await createNode(configOf(dirA, 3_600_000, []), { logger })
  const b = await createNode(configOf(dirB, 100, first.network.listenAddresses()), { logger })
  open.push(b)
  const [result] = await first.transfer([{ to: b.publicKey, amount: 7 }])
  if (result?.kind !== 'transaction') throw new Error(`the transfer was not made: ${JSON.stringify(result)}`)
  const id = result.tracked.id
  await untilRound(b, () => b.transactions.get(id)?.status === 'agreed' || result.tracked.status === 'agreed', 'the agreement')
  // Rounds go on (B's checkpoints), the transfer is not final: A's half is in no certified checkpoint.
  const roundBefore = b.consensus.state.round
  await untilRound(b, () => b.consensus.state.round >= roundBefore + 2, 'two more rounds')
  expect(result.tracked.status).toBe('agreed')
  await first.close()

  // A again, with the usual pacing: it checkpoints, and a round finalises the transfer.
  const again = await createNode(configOf(dirA, 100, b.network.listenAddresses()), { logger })
  open.push(again)
  const halves = { proposal: result.tracked.proposal, agreement: result.tracked.agreement as NonNullable<typeof result.tracked.agreement> }
  await untilRound(again, async () => (await again.finalRound(halves)) !== undefined, 'the transfer to be final on the restarted node')
  const round = await again.finalRound(halves)
  // Recorded in the journal, not only held among the consensus's recent rounds.
  await untilRound(again, async () => (await again.journal.finalRound(fromHex(id, 32))) === round, 'the final record in the journal', 10_000)
  expect(await again.journal.finalRound(fromHex(id, 32))).toBe(round)
}, 120_000)
