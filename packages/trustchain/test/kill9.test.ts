import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { toHex } from '@constellation/crypto'
import { expect, it } from 'vitest'
import { blockHash, createLedger, openLevelBlockStore, ValidationLevel } from '../src/index.js'
import { tempDir, testCrypto } from './helpers.js'

// Kill the writer once this many batches were acknowledged (enough for several compactions of the log).
const ACKS_BEFORE_KILL = 60

it('after kill -9 in the middle of writing, every acknowledged block is in the reopened store and the chain is whole', async () => {
  const crypto = await testCrypto()
  const dir = tempDir('kill9')
  try {
    const location = `${dir.path}/db`
    const script = fileURLToPath(new URL('./fixtures/kill9-writer.ts', import.meta.url))
    // node itself (not a wrapper such as pnpm or the tsx CLI), so that SIGKILL hits the process that writes.
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', script, location], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    let acknowledged = 0
    let acks = 0
    let buffered = ''
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)))
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString()
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines) {
        const match = /^ack (\d+)$/.exec(line)
        if (match === null) continue
        acknowledged = Number(match[1])
        if (++acks === ACKS_BEFORE_KILL) child.kill('SIGKILL')
      }
    })
    const signal = await exited
    expect(stderr).toBe('')
    expect(signal).toBe('SIGKILL')
    expect(acks).toBeGreaterThanOrEqual(ACKS_BEFORE_KILL)

    const publicKey = crypto.keyPairFromSeed(new Uint8Array(32).fill(9)).publicKey
    const store = await openLevelBlockStore({ crypto, location })
    try {
      const latest = await store.latest(publicKey)
      expect(latest?.sequenceNumber).toBeGreaterThanOrEqual(acknowledged)
      const chain = await store.range(publicKey, 1, latest?.sequenceNumber ?? 0)
      // No holes, every link intact, every hash indexed: a batch is all there or not at all.
      expect(chain.map((block) => block.sequenceNumber)).toEqual(Array.from({ length: chain.length }, (_, i) => i + 1))
      for (let i = 1; i < chain.length; i++) expect(toHex(chain[i]!.previousHash)).toBe(toHex(blockHash(crypto, chain[i - 1]!)))
      for (const block of chain) expect((await store.getByHash(blockHash(crypto, block)))?.sequenceNumber).toBe(block.sequenceNumber)
      const ledger = createLedger({ crypto, store })
      expect((await ledger.validate(chain[0]!)).level).toBe(ValidationLevel.VALID)
      expect((await ledger.validate(chain.at(-1)!)).level).toBe(ValidationLevel.PARTIAL_NEXT)
    } finally {
      await store.close()
    }
  } finally {
    dir.remove()
  }
})
