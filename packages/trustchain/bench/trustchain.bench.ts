/**
 * Validate-and-store throughput of @constellation/trustchain, beside raw signature verification measured in the
 * same run (the bound: every half-block costs one Ed25519 verify).
 *
 *   - raw verify: `crypto.verify` of each block's signature over its (precomputed) hash;
 *   - memory: `ledger.ingestWire` of wire-form blocks in batches of 100 into a memory store (decode, sizes, hash,
 *     signature, full validation against the store, atomic batch write);
 *   - LevelDB: the same into a fresh LevelDB store (one LevelDB batch per 100 blocks), one batch at a time and with
 *     two in flight (the ledger validates batch k+1 while LevelDB writes batch k);
 *   - both again with signatures verified on a 2-worker `VerifyPool` (crypto package) instead of this thread.
 * The blocks are proposal/agreement pairs of value transfers between 16 peers, in the order a node receives them.
 * Each figure is the median of interleaved rounds. Targets: memory >= 0.70 x raw, LevelDB >= 0.50 x raw; the
 * reference TrustChain (py-ipv8 2.4) does ~4,700 validated/s and ~2,400 validated+stored/s on this machine.
 *
 * Run: pnpm bench (in packages/trustchain). BENCH_ROUNDS and BENCH_BLOCKS change the work done.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createVerifyPool, loadCrypto } from '@constellation/crypto'
import {
  advanceHead,
  blockHash,
  type ChainHead,
  createAgreement,
  createGenesisBlock,
  createLedger,
  createMemoryBlockStore,
  createProposal,
  encodeBlock,
  type BatchVerifier,
  type BlockStore,
  type HalfBlock,
  type IngestOutcome,
  openLevelBlockStore,
  transferPayload,
} from '../src/index.js'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const PAIRS = Number(process.env.BENCH_BLOCKS ?? 12_000) / 2
const BATCH = 100
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2)
const PEERS = 16

const crypto = await loadCrypto()
const peers = Array.from({ length: PEERS }, (_, i) => ({ keyPair: crypto.keyPairFromSeed(new Uint8Array(32).fill(i + 1)), head: undefined as ChainHead | undefined }))

// A history: genesis blocks, then transfers between random pairs (a fixed sequence, so every run sees the same).
const blocks: HalfBlock[] = []
let timestamp = 1_000
for (const peer of peers) {
  const genesis = createGenesisBlock({ crypto, keyPair: peer.keyPair }, { balance: 1_000_000_000, timestamp })
  peer.head = advanceHead(crypto, { sequenceNumber: 0, hash: new Uint8Array(32), balance: 0, timestamp: 0 }, genesis)
  blocks.push(genesis)
}
let x = 12345
for (let i = 0; i < PAIRS; i++) {
  x = (x * 1103515245 + 12345) & 0x7fffffff
  const a = peers[x % PEERS]!
  const b = peers[(x % PEERS) + 1 + ((x >> 8) % (PEERS - 1)) >= PEERS ? ((x % PEERS) + 1 + ((x >> 8) % (PEERS - 1))) - PEERS : (x % PEERS) + 1 + ((x >> 8) % (PEERS - 1))]!
  timestamp++
  const proposal = createProposal({ crypto, keyPair: a.keyPair }, a.head!, {
    counterparty: b.keyPair.publicKey,
    payload: transferPayload(a.head!, 1 + (x % 100)),
    timestamp,
  })
  a.head = advanceHead(crypto, a.head!, proposal)
  const agreement = createAgreement({ crypto, keyPair: b.keyPair }, b.head!, proposal, { timestamp })
  b.head = advanceHead(crypto, b.head!, agreement)
  blocks.push(proposal, agreement)
}
const wire = blocks.map((block) => encodeBlock(block))
const signed = blocks.map((block) => ({ signature: block.signature, hash: blockHash(crypto, block), publicKey: block.publicKey }))
const batches: Uint8Array[][] = []
for (let i = 0; i < wire.length; i += BATCH) batches.push(wire.slice(i, i + BATCH))

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}
const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9

function rawVerify(): number {
  const start = process.hrtime.bigint()
  for (const item of signed) if (!crypto.verify(item.signature, item.hash, item.publicKey)) throw new Error('bad signature')
  return signed.length / seconds(start)
}

interface Setup {
  readonly verifier?: BatchVerifier
  /** Batches handed to the ledger before waiting for the oldest (a node ingesting from several peers). */
  readonly inFlight: number
}

async function ingestAll(store: BlockStore, setup: Setup): Promise<number> {
  const ledger = createLedger({ crypto, store, ...(setup.verifier === undefined ? {} : { verifier: setup.verifier }) })
  const start = process.hrtime.bigint()
  const pending: Promise<IngestOutcome[]>[] = []
  const check = (outcomes: IngestOutcome[]) => {
    for (const outcome of outcomes) {
      if (outcome.status !== 'stored') throw new Error(`block not stored: ${outcome.status === 'rejected' ? outcome.error.message : outcome.status}`)
    }
  }
  for (const batch of batches) {
    pending.push(ledger.ingestWire(batch))
    if (pending.length >= setup.inFlight) check(await pending.shift()!)
  }
  for (const outcomes of await Promise.all(pending)) check(outcomes)
  const rate = wire.length / seconds(start)
  await store.close()
  return rate
}

const memory = (setup: Setup) => ingestAll(createMemoryBlockStore({ crypto }), setup)
async function level(setup: Setup): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'trustchain-bench-'))
  try {
    return await ingestAll(await openLevelBlockStore({ crypto, location: dir }), setup)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const pool = await createVerifyPool({ crypto, workers: WORKERS })
const single: Setup = { inFlight: 1 }
const pooled: Setup = { verifier: pool, inFlight: 2 }
const pipelined: Setup = { inFlight: 2 }
async function rawPool(): Promise<number> {
  const items = signed.map((item) => ({ publicKey: item.publicKey, message: item.hash, signature: item.signature }))
  const start = process.hrtime.bigint()
  for (let i = 0; i < items.length; i += BATCH) await pool.verifyBatch(items.slice(i, i + BATCH))
  return items.length / seconds(start)
}

console.log(`@constellation/trustchain benchmark — ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}, backend ${crypto.backend}`)
console.log(`${wire.length} half-blocks (${PAIRS} transfer pairs between ${PEERS} peers), batches of ${BATCH}; median of ${ROUNDS} interleaved rounds\n`)
await memory(single) // warm-up: JIT and caches
await memory(pooled)
const cases: Record<string, () => Promise<number> | number> = {
  raw: rawVerify,
  rawPool,
  memory: () => memory(single),
  level: () => level(single),
  levelPipelined: () => level(pipelined),
  memoryPooled: () => memory(pooled),
  levelPooled: () => level(pooled),
}
const only = process.env.BENCH_ONLY // profile one case
const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((name) => [name, []]))
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, run] of Object.entries(cases)) if (only === undefined || only === name) samples[name]!.push(await run())
}
await pool.close()
const m = Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, values.length === 0 ? Number.NaN : median(values)])) as Record<keyof typeof cases, number>
const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(10)
const ratio = (n: number) => (n / m.raw!).toFixed(3)
console.log(`raw signature verify, this thread              ${fmt(m.raw!)} /s   (the baseline)`)
console.log(`raw verifyBatch, ${WORKERS} worker threads              ${fmt(m.rawPool!)} /s   ratio ${ratio(m.rawPool!)}`)
console.log('validate + store, signatures verified in this thread, one batch at a time:')
console.log(`  memory                                       ${fmt(m.memory!)} /s   ratio ${ratio(m.memory!)} (target >= 0.70)`)
console.log(`  LevelDB                                      ${fmt(m.level!)} /s   ratio ${ratio(m.level!)} (target >= 0.50)`)
console.log(`  LevelDB, 2 batches in flight                 ${fmt(m.levelPipelined!)} /s   ratio ${ratio(m.levelPipelined!)} (target >= 0.50)`)
console.log(`validate + store, signatures on the ${WORKERS}-worker verify pool, 2 batches in flight:`)
console.log(`  memory                                       ${fmt(m.memoryPooled!)} /s   ratio ${ratio(m.memoryPooled!)} (target >= 0.70)`)
console.log(`  LevelDB                                      ${fmt(m.levelPooled!)} /s   ratio ${ratio(m.levelPooled!)} (target >= 0.50)`)
console.log(
  `against py-ipv8 2.4 (4,700 validated/s, 2,400 validated+stored/s), best of each: memory x${(Math.max(m.memory!, m.memoryPooled!) / 4_700).toFixed(2)}, LevelDB x${(Math.max(m.level!, m.levelPipelined!, m.levelPooled!) / 2_400).toFixed(2)}`,
)
