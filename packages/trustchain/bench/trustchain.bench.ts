/**
 * Ledger throughput of @constellation/trustchain, beside raw signature verification measured in the same run (the
 * bound: every half-block costs one Ed25519 verify), and beside the reference TrustChain (py-ipv8 2.4) on the same
 * workload in the same run when py-ipv8 is at hand.
 *
 *   - raw verify: `crypto.verify` of each block's signature over its (precomputed) hash;
 *   - create + sign: building, signing and encoding for the wire every half-block of the history (heads in memory);
 *   - validate only: `ledger.ingestWire` into a memory store with the store's writes left out of the time (decode,
 *     hash, signature, full validation against the store);
 *   - memory: `ledger.ingestWire` of wire-form blocks in batches of 100 into a memory store, one batch at a time
 *     (validate only, plus the atomic batch write);
 *   - LevelDB: the same into a fresh LevelDB store (one LevelDB batch per 100 blocks), one batch at a time and with
 *     two in flight (the ledger validates batch k+1 while LevelDB writes batch k);
 *   - memory and LevelDB again with signatures verified on a 2-worker `VerifyPool` (crypto package).
 * The history is transfer pairs (a proposal, then its agreement) between 16 peers, in the order a node receives
 * them: proposers take turns in a seeded shuffled order, each proposal goes to a seeded random other peer, so every
 * peer proposes and agrees about as often as any other. Each figure is the median of interleaved rounds. Targets:
 * in this thread, memory >= 0.70 x raw verify and LevelDB >= 0.50 x raw verify; >= 2x py-ipv8 in every
 * configuration.
 *
 * The peer: bench/py-ipv8/trustchain_bench.py runs py-ipv8's TrustChain on the same pairs, as a child process that
 * takes its turn after each round of this side (so the two never run at once). It needs Python 3 with py-ipv8 2.4
 * importable: `pip install pyipv8==2.4`, or a checkout of py-ipv8's 2.4 tag named by PYIPV8_PATH (see that script).
 * BENCH_PYTHON names the interpreter (default python3); BENCH_PEER=0 leaves the peer out.
 *
 * Run: pnpm bench (in packages/trustchain). BENCH_ROUNDS and BENCH_BLOCKS change the work done.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createVerifyPool, loadCrypto } from '@constellation/crypto'
import {
  advanceHead,
  type BatchVerifier,
  blockHash,
  type BlockStore,
  type ChainHead,
  createAgreement,
  createGenesisBlock,
  createLedger,
  createMemoryBlockStore,
  createProposal,
  EMPTY_CHAIN_HEAD,
  encodeBlock,
  type HalfBlock,
  type IngestOutcome,
  openLevelBlockStore,
  transferPayload,
} from '../src/index.js'
import { seededRandom } from '../test/helpers.js'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const BLOCKS = Number(process.env.BENCH_BLOCKS ?? 10_000)
const BATCH = 100
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2)
const PEERS = 16
const PAIRS = Math.max(1, Math.floor((BLOCKS - PEERS) / 2))
const SEED = Number(process.env.BENCH_SEED ?? 20261124)
const GENESIS_BALANCE = 1_000_000_000

/** The transfer pairs: [proposer, counterparty, amount]. Proposers take turns (a fresh shuffle per turn). */
function schedulePairs(): [number, number, number][] {
  const random = seededRandom(SEED)
  const pairs: [number, number, number][] = []
  let turn: number[] = []
  for (let i = 0; i < PAIRS; i++) {
    if (turn.length === 0) {
      turn = Array.from({ length: PEERS }, (_, peer) => peer)
      for (let j = turn.length - 1; j > 0; j--) {
        const k = Math.floor(random() * (j + 1))
        ;[turn[j], turn[k]] = [turn[k] as number, turn[j] as number]
      }
    }
    const proposer = turn.pop() as number
    const other = Math.floor(random() * (PEERS - 1))
    pairs.push([proposer, other >= proposer ? other + 1 : other, 1 + Math.floor(random() * 100)])
  }
  return pairs
}

const crypto = await loadCrypto()
const keyPairs = Array.from({ length: PEERS }, (_, i) => crypto.keyPairFromSeed(new Uint8Array(32).fill(i + 1)))
const pairs = schedulePairs()

/** The history: genesis blocks, then each pair's proposal and agreement, signed and encoded for the wire. */
function createHistory(): HalfBlock[] {
  const heads: ChainHead[] = []
  const blocks: HalfBlock[] = []
  keyPairs.forEach((keyPair, i) => {
    const genesis = createGenesisBlock({ crypto, keyPair }, { balance: GENESIS_BALANCE, timestamp: 1_000 })
    heads[i] = advanceHead(crypto, EMPTY_CHAIN_HEAD, genesis)
    blocks.push(genesis)
  })
  let timestamp = 1_000
  for (const [a, b, amount] of pairs) {
    timestamp++
    const proposerHead = heads[a] as ChainHead
    const proposal = createProposal({ crypto, keyPair: keyPairs[a]! }, proposerHead, {
      counterparty: keyPairs[b]!.publicKey,
      payload: transferPayload(proposerHead, amount),
      timestamp,
    })
    heads[a] = advanceHead(crypto, proposerHead, proposal)
    const agreement = createAgreement({ crypto, keyPair: keyPairs[b]! }, heads[b] as ChainHead, proposal, { timestamp })
    heads[b] = advanceHead(crypto, heads[b] as ChainHead, agreement)
    blocks.push(proposal, agreement)
  }
  for (const block of blocks) encodeBlock(block)
  return blocks
}

const blocks = createHistory()
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

function createAndSign(): number {
  const start = process.hrtime.bigint()
  const created = createHistory()
  return created.length / seconds(start)
}

interface Setup {
  readonly verifier?: BatchVerifier
  /** Batches handed to the ledger before waiting for the oldest (a node ingesting from several peers). */
  readonly inFlight: number
  /** Leave the store's writes out of the time. */
  readonly validateOnly?: boolean
}

/** A store whose writes are timed, so that "validate only" can leave them out. */
function timingWrites(store: BlockStore): { store: BlockStore; writeSeconds: () => number } {
  let spent = 0
  return {
    store: {
      get: (publicKey, sequenceNumber) => store.get(publicKey, sequenceNumber),
      getMany: (keys) => store.getMany(keys),
      getByHash: (hash) => store.getByHash(hash),
      getLinked: (publicKey, sequenceNumber) => store.getLinked(publicKey, sequenceNumber),
      getLinkedMany: (targets) => store.getLinkedMany(targets),
      latest: (publicKey) => store.latest(publicKey),
      range: (publicKey, from, to) => store.range(publicKey, from, to),
      fraudProofs: (publicKey) => store.fraudProofs(publicKey),
      close: () => store.close(),
      async write(batch) {
        const start = process.hrtime.bigint()
        try {
          await store.write(batch)
        } finally {
          spent += seconds(start)
        }
      },
    },
    writeSeconds: () => spent,
  }
}

async function ingestAll(target: BlockStore, setup: Setup): Promise<number> {
  const { store, writeSeconds } = timingWrites(target)
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
  const elapsed = seconds(start) - (setup.validateOnly === true ? writeSeconds() : 0)
  await target.close()
  return wire.length / elapsed
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

/** py-ipv8's side: a child process that runs one round of its cases per request. */
interface PeerRates {
  readonly blocks: number
  readonly raw: number
  readonly create: number
  readonly validate: number
  readonly memory: number
  readonly disk: number
}
interface Peer {
  readonly about: Record<string, unknown>
  round(): Promise<PeerRates>
  close(): void
}

const PEER_HELP =
  'To compare, give it a Python 3 with libnacl, netifaces, pyasn1 and cryptography (BENCH_PYTHON) and py-ipv8 2.4 ' +
  '(pip install pyipv8==2.4, or a checkout of its 2.4 tag named by PYIPV8_PATH); see bench/py-ipv8/trustchain_bench.py'

/** The peer, or why it was skipped. */
async function startPeer(): Promise<Peer | string> {
  if (process.env.BENCH_PEER === '0') return 'SKIPPED (BENCH_PEER=0)'
  const dir = mkdtempSync(join(tmpdir(), 'trustchain-bench-peer-'))
  const workload = join(dir, 'workload.json')
  writeFileSync(workload, JSON.stringify({ peers: PEERS, pairs }))
  const script = join(dirname(fileURLToPath(import.meta.url)), 'py-ipv8', 'trustchain_bench.py')
  const python = process.env.BENCH_PYTHON ?? 'python3'
  const child = spawn(python, [script, workload], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const next = async (): Promise<Record<string, unknown>> => {
    const line = await lines.next()
    if (line.done === true) throw new Error(`py-ipv8 peer ended: ${stderr.trim().split('\n').slice(-3).join(' | ')}`)
    return JSON.parse(line.value) as Record<string, unknown>
  }
  const cleanup = () => rmSync(dir, { recursive: true, force: true })
  try {
    const about = await Promise.race([next(), new Promise<never>((_, reject) => child.once('error', reject))])
    if (about.ready !== true) throw new Error(String(about.reason ?? 'the script did not start'))
    return {
      about,
      async round() {
        child.stdin.write('round\n')
        return (await next()) as unknown as PeerRates
      },
      close() {
        child.stdin.end()
        cleanup()
      },
    }
  } catch (error) {
    child.kill()
    cleanup()
    const reason = error instanceof Error ? error.message : String(error)
    return `SKIPPED, ${python} could not run it: ${reason}. ${PEER_HELP}`
  }
}

const ours = {
  raw: rawVerify,
  create: createAndSign,
  validate: () => memory({ inFlight: 1, validateOnly: true }),
  memory: () => memory(single),
  level: () => level(single),
  levelPipelined: () => level(pipelined),
  rawPool,
  memoryPooled: () => memory(pooled),
  levelPooled: () => level(pooled),
}
type Case = keyof typeof ours

const spread = (counts: number[]) => `${Math.min(...counts)}–${Math.max(...counts)}`
const proposals = Array.from({ length: PEERS }, (_, peer) => pairs.filter(([a]) => a === peer).length)
const agreements = Array.from({ length: PEERS }, (_, peer) => pairs.filter(([, b]) => b === peer).length)
const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ')

console.log(
  `@constellation/trustchain benchmark — ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}, backend ${crypto.backend}`,
)
console.log(
  `${wire.length} half-blocks: ${PEERS} genesis blocks and ${pairs.length} transfer pairs between ${PEERS} peers ` +
    `(proposals per peer ${spread(proposals)}, agreements per peer ${spread(agreements)}, seed ${SEED}), batches of ${BATCH}; ` +
    `median of ${ROUNDS} interleaved rounds`,
)
console.log(`load average before: ${load()}`)
const peer = await startPeer()
console.log(
  typeof peer === 'string'
    ? `py-ipv8 peer: ${peer}`
    : `py-ipv8 ${String(peer.about.ipv8)} (Python ${String(peer.about.python)}, libsodium ${String(peer.about.libsodium)}, sqlite ${String(peer.about.sqlite)}), same pairs, in turn after each round`,
)
if (typeof peer !== 'string' && !String(peer.about.ipv8).startsWith('2.4'))
  console.log(`note: py-ipv8 is ${String(peer.about.ipv8)}, not the 2.4 the comparison is about`)
console.log()

await memory(single) // warm-up: JIT and caches
await memory(pooled)
const only = process.env.BENCH_ONLY // profile one case
const samples = Object.fromEntries(Object.keys(ours).map((name) => [name, [] as number[]])) as Record<Case, number[]>
const peerSamples: PeerRates[] = []
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, run] of Object.entries(ours) as [Case, () => number | Promise<number>][]) {
    if (only === undefined || only === name) samples[name].push(await run())
  }
  if (typeof peer !== 'string' && only === undefined) peerSamples.push(await peer.round())
}
await pool.close()
if (typeof peer !== 'string') peer.close()
console.log(`load average after: ${load()}\n`)

const m = Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, values.length === 0 ? Number.NaN : median(values)])) as Record<Case, number>
const p =
  peerSamples.length === 0
    ? undefined
    : (Object.fromEntries(
        (['raw', 'create', 'validate', 'memory', 'disk'] as const).map((name) => [name, median(peerSamples.map((sample) => sample[name]))]),
      ) as Record<'raw' | 'create' | 'validate' | 'memory' | 'disk', number>)

const fmt = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '' : Math.round(n).toLocaleString('en-US'))
const ratio = (a: number, b: number | undefined) => (b === undefined || Number.isNaN(a) || Number.isNaN(b) ? '' : (a / b).toFixed(2))
const rows: [string, number, number | undefined, string][] = [
  ['raw Ed25519 verify, one thread (baseline)', m.raw, p?.raw, ''],
  ['create + sign', m.create, p?.create, ''],
  ['validate only, memory, one thread', m.validate, p?.validate, ''],
  ['validate + store, memory, one thread', m.memory, p?.memory, '>= 0.70 x raw'],
  ['validate + store, memory, 2-worker pool', m.memoryPooled, p?.memory, ''],
  ['validate + store, LevelDB (py: sqlite), one thread', m.level, p?.disk, '>= 0.50 x raw'],
  ['same, LevelDB with 2 batches in flight', m.levelPipelined, p?.disk, '>= 0.50 x raw'],
  ['same, LevelDB with the 2-worker pool', m.levelPooled, p?.disk, ''],
]
const header = ['half-blocks/s', 'trustchain', 'py-ipv8 2.4', 'ratio', 'ours / own raw', 'py / own raw', 'target']
const table = [
  header,
  ...rows.map(([label, mine, theirs, target]) => [
    label,
    fmt(mine),
    fmt(theirs),
    ratio(mine, theirs),
    ratio(mine, m.raw),
    ratio(theirs ?? Number.NaN, p?.raw),
    target,
  ]),
]
const widths = header.map((_, column) => Math.max(...table.map((row) => (row[column] ?? '').length)))
for (const row of table) console.log(row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  '))
console.log(`\nraw verifyBatch on the ${WORKERS}-worker pool: ${fmt(m.rawPool)}/s (${ratio(m.rawPool, m.raw)} x one thread)`)
if (p === undefined)
  console.log(
    `py-ipv8 peer ${typeof peer === 'string' ? 'skipped (why: above)' : 'not run (BENCH_ONLY)'}: its columns are empty and the 2x target is not checked`,
  )
const verdict = (value: number, target: number) => (Number.isNaN(value) ? 'not measured' : value >= target ? 'met' : 'NOT met')
console.log(
  `targets: memory ${ratio(m.memory, m.raw)} x raw (${verdict(m.memory / m.raw, 0.7)}), LevelDB ${ratio(m.level, m.raw)} x raw one batch at a time (${verdict(m.level / m.raw, 0.5)})`,
)
if (p !== undefined) {
  // Every row but the raw-verify baseline is a configuration compared with py-ipv8.
  const against = rows.slice(1).map(([label, mine, theirs]) => [label, mine / (theirs as number)] as const)
  const below = against.filter(([, value]) => !(value >= 2))
  const lowest = Math.min(...against.map(([, value]) => value))
  console.log(
    `against py-ipv8: lowest ratio ${lowest.toFixed(2)}, >= 2x in ${against.length - below.length} of ${against.length} configurations` +
      (below.length === 0 ? ' (met)' : ` (NOT met: ${below.map(([label, value]) => `${label} ${value.toFixed(2)}`).join('; ')})`),
  )
}
