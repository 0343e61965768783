import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Crypto, decodeCanonical, type KeyPair, loadCrypto } from '@constellation/crypto'
import {
  advanceHead,
  type BlockAuthor,
  type ChainHead,
  createAgreement,
  createGenesisBlock,
  createProposal,
  EMPTY_CHAIN_HEAD,
  type HalfBlock,
  transferPayload,
} from '../src/index.js'

/**
 * Property runs are seeded so the suite is deterministic; set FC_SEED to explore other seeds. fast-check prints
 * the seed and path of any failure, which replays it exactly.
 */
export function propertyOptions(numRuns: number): { seed: number; numRuns: number } {
  return { seed: Number(process.env.FC_SEED ?? 20261124), numRuns }
}

/** A promise's outcome as a value, so a test can await it after running the network and check failures. */
export const settle = <T>(promise: Promise<T>) =>
  promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  )

/** mulberry32: a seeded stream of numbers in [0, 1), for test data and benchmark histories. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let z = state
    z = Math.imul(z ^ (z >>> 15), z | 1)
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61)
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296
  }
}

let cryptoPromise: Promise<Crypto> | undefined
export const testCrypto = (): Promise<Crypto> => (cryptoPromise ??= loadCrypto())

/** `crypto` counting its signature verifications: what validation really spends. */
export function countingCrypto(crypto: Crypto): Crypto & { verifies: number } {
  const counting = {
    verifies: 0,
    backend: crypto.backend,
    generateKeyPair: () => crypto.generateKeyPair(),
    keyPairFromSeed: (seed: Uint8Array) => crypto.keyPairFromSeed(seed),
    sign: (message: Uint8Array, keyPair: KeyPair) => crypto.sign(message, keyPair),
    verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) {
      counting.verifies++
      return crypto.verify(signature, message, publicKey)
    },
    verifyMany(items: Parameters<Crypto['verifyMany']>[0]) {
      counting.verifies += items.length
      return crypto.verifyMany(items)
    },
    sha256: (data: Uint8Array) => crypto.sha256(data),
  }
  return counting
}

export function keyPairOf(crypto: Crypto, n: number): KeyPair {
  return crypto.keyPairFromSeed(new Uint8Array(32).fill(n + 1))
}

/** A temporary directory and its removal. */
export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `trustchain-${prefix}-`))
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) }
}

/** One participant's chain under construction, for building valid histories in tests. */
export class TestChain {
  head: ChainHead = EMPTY_CHAIN_HEAD
  readonly blocks: HalfBlock[] = []
  readonly author: BlockAuthor

  constructor(
    readonly crypto: Crypto,
    readonly keyPair: KeyPair,
  ) {
    this.author = { crypto, keyPair }
  }

  get publicKey(): Uint8Array {
    return this.keyPair.publicKey
  }

  append(block: HalfBlock): HalfBlock {
    this.head = advanceHead(this.crypto, this.head, block)
    this.blocks.push(block)
    return block
  }

  genesis(balance: number, timestamp = 1_000): HalfBlock {
    return this.append(createGenesisBlock(this.author, { balance, timestamp }))
  }

  pay(counterparty: TestChain, amount: number, timestamp = 2_000): { proposal: HalfBlock; agreement: HalfBlock } {
    const proposal = this.append(
      createProposal(this.author, this.head, { counterparty: counterparty.publicKey, payload: transferPayload(this.head, amount), timestamp }),
    )
    const agreement = counterparty.append(createAgreement(counterparty.author, counterparty.head, proposal, { timestamp }))
    return { proposal, agreement }
  }
}

/** The usual two-party history: alice (genesis 100) pays bob (genesis 50) 10, then bob pays alice 20. */
export function twoPartyHistory(crypto: Crypto) {
  const alice = new TestChain(crypto, keyPairOf(crypto, 1))
  const bob = new TestChain(crypto, keyPairOf(crypto, 2))
  alice.genesis(100)
  bob.genesis(50)
  const first = alice.pay(bob, 10)
  const second = bob.pay(alice, 20)
  return { alice, bob, first, second }
}

/** A block's wire form read the generic strict way (what the fast reader must agree with): undefined when it does not decode. */
export function strictlyDecoded(bytes: Uint8Array): { unsignedBytes: Uint8Array; fields: Record<string, unknown> } | undefined {
  try {
    const envelope = decodeCanonical(bytes, { maxBytes: 16_384, maxDepth: 1 })
    if (!Array.isArray(envelope) || envelope.length !== 2) return undefined
    const [unsignedBytes, signature] = envelope as [Uint8Array, Uint8Array]
    const fields = decodeCanonical(unsignedBytes, { maxBytes: 16_384, maxDepth: 16 }) as Record<string, unknown>
    return { unsignedBytes, fields: { ...fields, signature } }
  } catch {
    return undefined
  }
}
