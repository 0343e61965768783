/**
 * Throughput of @constellation/crypto on this machine: sign, verify, verifyBatch and SHA-256 on every backend,
 * canonical CBOR, and two ratios measured in the same run:
 *   - the package's `auto` verify against the raw libsodium call (target: within 10%);
 *   - `verifyBatch` on a 2-worker pool against single-thread verification (target: at least 1.6x).
 * Each figure is the median of several interleaved rounds, so slow drift of the machine hits both sides alike.
 *
 * Run: pnpm bench (in packages/crypto). BENCH_ROUND_MS and BENCH_ROUNDS shorten or lengthen it.
 */
import { createRequire } from 'node:module'
import { cpus } from 'node:os'
import { type BackendName, type Crypto, createVerifyPool, decodeCanonical, encodeCanonical, loadCrypto, type SignedMessage } from '../src/index.js'

const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 600)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)

const sodium = createRequire(import.meta.url)('sodium-native') as {
  crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean
}

/** Operations per second of `op` (which performs `perCall` operations), over one round. */
function rate(op: () => void, perCall = 1): number {
  // Warm up so that the JIT has compiled the path before timing.
  for (let i = 0; i < 20; i++) op()
  let calls = 0
  const start = process.hrtime.bigint()
  const deadline = start + BigInt(ROUND_MS) * 1_000_000n
  let now = start
  while (now < deadline) {
    for (let i = 0; i < 10; i++) op()
    calls += 10
    now = process.hrtime.bigint()
  }
  return (calls * perCall) / (Number(now - start) / 1e9)
}

async function rateAsync(op: () => Promise<unknown>, perCall: number): Promise<number> {
  for (let i = 0; i < 3; i++) await op()
  let calls = 0
  const start = process.hrtime.bigint()
  const deadline = start + BigInt(ROUND_MS) * 1_000_000n
  let now = start
  while (now < deadline) {
    await op()
    calls++
    now = process.hrtime.bigint()
  }
  return (calls * perCall) / (Number(now - start) / 1e9)
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** Runs the named measurements in interleaved rounds and returns each one's median. */
function compare(cases: Record<string, () => number>): Record<string, number> {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
  for (let r = 0; r < ROUNDS; r++) for (const [name, measure] of Object.entries(cases)) samples[name]!.push(measure())
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]))
}

async function compareAsync(cases: Record<string, () => Promise<number>>): Promise<Record<string, number>> {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, measure] of Object.entries(cases)) samples[name]!.push(await measure())
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]))
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(12)

const backends: BackendName[] = ['sodium', 'node', 'noble']
const cryptos = Object.fromEntries(await Promise.all(backends.map(async (b) => [b, await loadCrypto({ backend: b })] as const))) as Record<BackendName, Crypto>
const auto = await loadCrypto()

const message = cryptos.sodium.sha256(new TextEncoder().encode('a 32-byte hash is what gets signed'))
const keyPair = auto.keyPairFromSeed(new Uint8Array(32).fill(42))
const signature = auto.sign(message, keyPair)
const kib = new Uint8Array(1024).fill(7)

console.log(`@constellation/crypto benchmark — ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}`)
console.log(`median of ${ROUNDS} interleaved rounds of ${ROUND_MS} ms; ops/s\n`)
console.log(`${'backend'.padEnd(8)} ${'sign'.padStart(12)} ${'verify'.padStart(12)} ${'sha256 32B'.padStart(12)} ${'sha256 1KiB'.padStart(12)}`)
const perBackend: Record<string, Record<string, number>> = {}
for (const name of backends) {
  const c = cryptos[name]
  const figures = compare({
    sign: () => rate(() => c.sign(message, keyPair)),
    verify: () => rate(() => c.verify(signature, message, keyPair.publicKey)),
    sha256: () => rate(() => c.sha256(message)),
    sha256KiB: () => rate(() => c.sha256(kib)),
  })
  perBackend[name] = Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, Math.round(v)]))
  console.log(`${name.padEnd(8)} ${fmt(figures.sign!)} ${fmt(figures.verify!)} ${fmt(figures.sha256!)} ${fmt(figures.sha256KiB!)}`)
}

console.log('\nverify: package `auto` path against the raw libsodium call')
const overhead = compare({
  raw: () => rate(() => sodium.crypto_sign_verify_detached(signature, message, keyPair.publicKey)),
  auto: () => rate(() => auto.verify(signature, message, keyPair.publicKey)),
})
const verifyRatio = overhead.auto! / overhead.raw!
console.log(`  raw sodium-native   ${fmt(overhead.raw!)}`)
console.log(`  auto (${auto.backend})       ${fmt(overhead.auto!)}`)
console.log(`  ratio auto/raw      ${verifyRatio.toFixed(3)}   (target >= 0.90)`)

console.log('\nverifyBatch: 4096 signatures by 64 signers, 2 worker threads against one thread')
const signers = Array.from({ length: 64 }, (_, i) => auto.keyPairFromSeed(new Uint8Array(32).fill(i)))
const batch: SignedMessage[] = Array.from({ length: 4096 }, (_, i) => {
  const signer = signers[i % signers.length]!
  const m = auto.sha256(new Uint8Array([i & 255, i >> 8]))
  return { publicKey: signer.publicKey, message: m, signature: auto.sign(m, signer) }
})
const pools = {
  sodium: await createVerifyPool({ crypto: auto, workers: 2, backend: 'sodium' }),
  node: await createVerifyPool({ crypto: auto, workers: 2, backend: 'node' }),
}
const batchFigures = await compareAsync({
  single: async () => rate(() => auto.verifyMany(batch), batch.length),
  pool2: () => rateAsync(() => pools.sodium.verifyBatch(batch), batch.length),
  pool2node: () => rateAsync(() => pools.node.verifyBatch(batch), batch.length),
})
await Promise.all([pools.sodium.close(), pools.node.close()])
const batchRatio = batchFigures.pool2! / batchFigures.single!
console.log(`  one thread (${auto.backend})    ${fmt(batchFigures.single!)}`)
console.log(`  2 workers (sodium)     ${fmt(batchFigures.pool2!)}`)
console.log(`  2 workers (node)       ${fmt(batchFigures.pool2node!)}`)
console.log(`  ratio pool/single      ${batchRatio.toFixed(3)}   (target >= 1.6)`)

console.log('\ncanonical CBOR of a half-block-sized record')
const record = {
  publicKey: keyPair.publicKey,
  sequenceNumber: 1234,
  linkPublicKey: signers[1]!.publicKey,
  linkSequenceNumber: 0,
  previousHash: message,
  timestamp: 1_764_000_000_000,
  type: 'tx',
  payload: { kind: 'transfer', amount: 25, balance: 975 },
}
const encoded = encodeCanonical(record)
const cbor = compare({
  encode: () => rate(() => encodeCanonical(record)),
  decode: () => rate(() => decodeCanonical(encoded)),
})
console.log(`  encode ${fmt(cbor.encode!)}   strict decode ${fmt(cbor.decode!)}   (${encoded.length} bytes)`)

console.log(
  `\n${JSON.stringify({
    backends: perBackend,
    verifyRawSodium: Math.round(overhead.raw!),
    verifyAuto: Math.round(overhead.auto!),
    verifyRatio: Number(verifyRatio.toFixed(3)),
    verifySingleThread: Math.round(batchFigures.single!),
    verifyBatch2Workers: Math.round(batchFigures.pool2!),
    verifyBatchRatio: Number(batchRatio.toFixed(3)),
    cborEncode: Math.round(cbor.encode!),
    cborDecode: Math.round(cbor.decode!),
  })}`,
)
