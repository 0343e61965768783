/**
 * A `BlockStore` on LevelDB (`classic-level`): the durable store of a node. Its key layout is in `level-keys.ts`.
 *
 * Each `write` is one LevelDB batch, which LevelDB applies atomically through its write-ahead log; once the batch's
 * promise resolves the data is in the log, so a process killed afterwards keeps it (pass `sync: true` to also
 * survive a power cut, at the price of an fsync per batch). Everything read back is decoded and checked again.
 *
 * What validation asks for over and over is kept in memory, bounded by `cacheSize`: recently written and read
 * blocks, decoded (decoding them again would cost as much as storing them); each chain's highest stored sequence
 * number, and the highest position of each chain that other blocks link to (validation always asks for a block's
 * successor and for the agreements to a new proposal: past those marks the answer is "none" without a read); and
 * the link lists of recent proposals. So appending to a chain reads nothing from LevelDB: a write checks "is the
 * position free" and extends a link list from memory. What memory does not know is read, all of a batch in one
 * `getMany`. The marks are filled from reads only when no write finished during the read, so a read racing a write
 * never caches a stale answer; writes keep them current. Writes are serialised, since link lists are read,
 * extended and written back.
 */
import { type Crypto, equalBytes, toHex } from '@constellation/crypto'
import { ClassicLevel } from 'classic-level'
import { type BlockLimits, blockHash, decodeBlock, DEFAULT_BLOCK_LIMITS, encodeBlock } from '../block/block-encoding.js'
import type { BlockKey, HalfBlock } from '../block/half-block.js'
import { TrustChainError, TrustChainErrorCode } from '../errors.js'
import { decodeFraudProof, encodeFraudProof, type FraudProof, fraudProofId, verifyFraudProof } from '../validation/fraud-proof.js'
import type { BlockBatch, BlockStore } from './block-store.js'
import { ChainMarks } from './chain-marks.js'
import { BLOCK, chainBounds, encodeLinkList, FRAUD, hashKey, LINK, position, positionedKey, positionsIn, prefixed, sequenceAt } from './level-keys.js'
import { PositionCache } from './position-cache.js'
import { chainKey, PositionMap } from './position-key.js'

export interface LevelBlockStoreOptions {
  readonly crypto: Crypto
  /** Directory of the database; created if missing. */
  readonly location: string
  readonly limits?: BlockLimits
  /** fsync each batch (survives power loss, not only process crashes). Default false. */
  readonly sync?: boolean
  /** How many decoded blocks (and link lists, and chains' marks) to keep in memory (default 20,000; 0 disables). */
  readonly cacheSize?: number
}

export async function openLevelBlockStore(options: LevelBlockStoreOptions): Promise<BlockStore> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(options.location, { keyEncoding: 'view', valueEncoding: 'view' })
  await db.open()
  return new LevelBlockStore(options, db)
}

class LevelBlockStore implements BlockStore {
  readonly #crypto: Crypto
  readonly #db: ClassicLevel<Uint8Array, Uint8Array>
  readonly #limits: BlockLimits
  readonly #sync: boolean
  readonly #cacheSize: number
  #closed = false
  /** The tail of the writes, which run one at a time: link lists are read, extended and written back. */
  #writing: Promise<unknown> = Promise.resolve()
  readonly #cache: PositionCache<HalfBlock>
  readonly #linkLists: PositionCache<readonly BlockKey[]>
  /** Each chain's highest stored sequence number. */
  readonly #heads: ChainMarks
  /** Each chain's highest sequence number that has a stored link list. */
  readonly #linkHeads: ChainMarks
  #writesDone = 0

  constructor(options: LevelBlockStoreOptions, db: ClassicLevel<Uint8Array, Uint8Array>) {
    this.#crypto = options.crypto
    this.#db = db
    this.#limits = options.limits ?? DEFAULT_BLOCK_LIMITS
    this.#sync = options.sync ?? false
    this.#cacheSize = options.cacheSize ?? 20_000
    this.#cache = new PositionCache<HalfBlock>(this.#cacheSize)
    this.#linkLists = new PositionCache<readonly BlockKey[]>(this.#cacheSize)
    this.#heads = new ChainMarks(this.#cacheSize)
    this.#linkHeads = new ChainMarks(this.#cacheSize)
  }

  // Async, so that a write after close() rejects like every other call instead of throwing.
  async write(batch: BlockBatch): Promise<void> {
    this.#open()
    const run = this.#writing.then(() => this.#writeNow(batch))
    this.#writing = run.catch(() => undefined)
    return run
  }

  async get(publicKey: Uint8Array, sequenceNumber: number): Promise<HalfBlock | undefined> {
    const [block] = await this.getMany([{ publicKey, sequenceNumber }])
    return block
  }

  async getMany(keys: readonly BlockKey[]): Promise<(HalfBlock | undefined)[]> {
    this.#open()
    return keys.length === 0 ? [] : this.#atKeys(keys)
  }

  async getByHash(hash: Uint8Array): Promise<HalfBlock | undefined> {
    this.#open()
    const at = await this.#db.get(hashKey(hash))
    if (at === undefined) return undefined
    const [block] = await this.#atKeys([{ publicKey: at.subarray(0, 32), sequenceNumber: sequenceAt(at) }])
    return block
  }

  async getLinked(publicKey: Uint8Array, sequenceNumber: number): Promise<HalfBlock[]> {
    const [linked] = await this.getLinkedMany([{ publicKey, sequenceNumber }])
    return linked ?? []
  }

  async getLinkedMany(targets: readonly BlockKey[]): Promise<HalfBlock[][]> {
    this.#open()
    if (targets.length === 0) return []
    const perTarget: (readonly BlockKey[] | undefined)[] = targets.map((target) => this.#linkLists.get(target.publicKey, target.sequenceNumber))
    let unknown: number[] = []
    for (let i = 0; i < perTarget.length; i++) if (perTarget[i] === undefined) unknown.push(i)
    if (unknown.length > 0 && this.#cacheSize > 0) {
      // Above the highest position that anything links to, there is no list to read: a new proposal's agreements.
      const marks = await this.#marksOf(
        LINK,
        this.#linkHeads,
        unknown.map((i) => (targets[i] as BlockKey).publicKey),
      )
      unknown = unknown.filter((i) => {
        const target = targets[i] as BlockKey
        if (target.sequenceNumber <= (marks.get(chainKey(target.publicKey)) ?? Number.POSITIVE_INFINITY)) return true
        perTarget[i] = []
        return false
      })
    }
    if (unknown.length > 0) {
      const before = this.#writesDone
      const lists = await this.#db.getMany(unknown.map((i) => positionedKey(LINK, (targets[i] as BlockKey).publicKey, (targets[i] as BlockKey).sequenceNumber)))
      const fresh = before === this.#writesDone
      unknown.forEach((i, j) => {
        const list = positionsIn(lists[j])
        perTarget[i] = list
        const target = targets[i] as BlockKey
        if (fresh) this.#linkLists.set(target.publicKey, target.sequenceNumber, list)
      })
    }
    const blocks = await this.#atKeys((perTarget as (readonly BlockKey[])[]).flat())
    let next = 0
    return (perTarget as (readonly BlockKey[])[]).map((positions) =>
      positions.flatMap(() => {
        const block = blocks[next++]
        return block === undefined ? [] : [block]
      }),
    )
  }

  async latest(publicKey: Uint8Array): Promise<HalfBlock | undefined> {
    this.#open()
    const [entry] = await this.#db.iterator({ ...chainBounds(BLOCK, publicKey, 1, Number.MAX_SAFE_INTEGER), reverse: true, limit: 1 }).all()
    return entry === undefined ? undefined : this.#cachedOrDecoded(entry)
  }

  async range(publicKey: Uint8Array, from: number, to: number): Promise<HalfBlock[]> {
    this.#open()
    if (to < from) return []
    const entries = await this.#db.iterator(chainBounds(BLOCK, publicKey, from, to)).all()
    return entries.map((entry) => this.#cachedOrDecoded(entry))
  }

  async fraudProofs(publicKey?: Uint8Array): Promise<FraudProof[]> {
    this.#open()
    const bounds =
      publicKey === undefined
        ? { gte: Uint8Array.of(FRAUD), lt: Uint8Array.of(FRAUD + 1) }
        : { gt: prefixed(FRAUD, publicKey), lt: prefixed(FRAUD, publicKey, new Uint8Array(32).fill(0xff), Uint8Array.of(0xff)) }
    const values = await this.#db.values(bounds).all()
    return values.map((value) => {
      try {
        return decodeFraudProof(this.#crypto, value, this.#limits)
      } catch (cause) {
        throw new TrustChainError(TrustChainErrorCode.STORE_CORRUPT, 'a stored fraud proof cannot be decoded', {}, { cause })
      }
    })
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#writing
    this.#cache.clear()
    this.#linkLists.clear()
    this.#heads.clear()
    this.#linkHeads.clear()
    await this.#db.close()
  }

  // ---- reads -------------------------------------------------------------------------------------------

  #open(): void {
    if (this.#closed) throw new TrustChainError(TrustChainErrorCode.STORE_CLOSED, 'the block store is closed')
  }

  #decode(bytes: Uint8Array): HalfBlock {
    let block: HalfBlock
    try {
      block = decodeBlock(this.#crypto, bytes, this.#limits)
    } catch (cause) {
      throw new TrustChainError(TrustChainErrorCode.STORE_CORRUPT, 'a stored block cannot be decoded', {}, { cause })
    }
    this.#cache.set(block.publicKey, block.sequenceNumber, block)
    return block
  }

  /**
   * A stored entry's block, from the cache when it holds that position: validation and crawls read the recent ends
   * of chains over and over, and decoding costs as much as storing.
   */
  #cachedOrDecoded([key, value]: [Uint8Array, Uint8Array]): HalfBlock {
    return this.#cache.get(key.subarray(1, 33), sequenceAt(key, 1)) ?? this.#decode(value)
  }

  /** The highest sequence number under `prefix` of each chain (0: none), from `marks` or one reverse key read per chain. */
  #marksOf(prefix: number, marks: ChainMarks, publicKeys: readonly Uint8Array[]): Promise<Map<string, number>> {
    return marks.of(
      publicKeys,
      async (publicKey) => {
        const [key] = await this.#db.keys({ ...chainBounds(prefix, publicKey, 1, Number.MAX_SAFE_INTEGER), reverse: true, limit: 1 }).all()
        return key === undefined ? 0 : sequenceAt(key, 1)
      },
      () => this.#writesDone,
    )
  }

  /** Blocks at the given positions, from the cache where possible, the rest in one `getMany`. */
  async #atKeys(keys: readonly BlockKey[]): Promise<(HalfBlock | undefined)[]> {
    const found: (HalfBlock | undefined)[] = keys.map((key) => this.#cache.get(key.publicKey, key.sequenceNumber))
    let missing: number[] = []
    for (let i = 0; i < found.length; i++) if (found[i] === undefined) missing.push(i)
    if (missing.length > 0 && this.#cacheSize > 0) {
      // Past a chain's end there is nothing to read (a head learnt before a write is raised by that write).
      const chainHeads = await this.#marksOf(
        BLOCK,
        this.#heads,
        missing.map((i) => (keys[i] as BlockKey).publicKey),
      )
      missing = missing.filter((i) => {
        const key = keys[i] as BlockKey
        return key.sequenceNumber <= (chainHeads.get(chainKey(key.publicKey)) ?? Number.POSITIVE_INFINITY)
      })
    }
    if (missing.length > 0) {
      const values = await this.#db.getMany(missing.map((i) => positionedKey(BLOCK, (keys[i] as BlockKey).publicKey, (keys[i] as BlockKey).sequenceNumber)))
      missing.forEach((i, j) => {
        const value = values[j]
        if (value !== undefined) found[i] = this.#decode(value)
      })
    }
    return found
  }

  // ---- writes ------------------------------------------------------------------------------------------

  /** Only proofs that prove fraud are stored: one bad proof on disk would make every later read fail. */
  #checkProof(proof: FraudProof): void {
    if (!verifyFraudProof(this.#crypto, proof)) throw new TrustChainError(TrustChainErrorCode.INVALID_FRAUD_PROOF, 'the fraud proof does not prove fraud')
  }

  async #writeNow(batch: BlockBatch): Promise<void> {
    // Everything that can fail is checked before the one LevelDB batch: a malformed block, a conflict, a bad proof.
    const candidates: { block: HalfBlock; hash: Uint8Array }[] = []
    const inBatch = new PositionMap<Uint8Array>()
    for (const block of batch.blocks) {
      const hash = blockHash(this.#crypto, block)
      const held = inBatch.get(block.publicKey, block.sequenceNumber)
      if (held === undefined) {
        inBatch.set(block.publicKey, block.sequenceNumber, hash)
        candidates.push({ block, hash })
      } else if (!equalBytes(held, hash)) {
        throw new TrustChainError(TrustChainErrorCode.INVALID_INPUT, `two different blocks at ${toHex(block.publicKey)}:${block.sequenceNumber} in one batch`)
      }
    }
    const proofs = (batch.fraudProofs ?? []).map((proof) => {
      this.#checkProof(proof)
      return { key: prefixed(FRAUD, proof.publicKey, fraudProofId(this.#crypto, proof)), value: encodeFraudProof(proof, this.#limits) }
    })
    // What memory cannot answer is read, in one getMany: positions at or below their chain's known head (are they
    // taken, and by this very block?), and link lists neither cached nor known to be empty.
    const reads: Uint8Array[] = []
    const occupiedAt: number[] = [] // per candidate: index of its block read, or -1 (the position is free)
    for (const { block } of candidates) {
      const head = this.#heads.get(block.publicKey)
      if (head !== undefined && block.sequenceNumber > head) occupiedAt.push(-1)
      else {
        occupiedAt.push(reads.length)
        reads.push(positionedKey(BLOCK, block.publicKey, block.sequenceNumber))
      }
    }
    const targets: { key: BlockKey; list: readonly BlockKey[] | undefined; readAt: number }[] = []
    const targetIndex = new PositionMap<number>()
    for (const { block } of candidates) {
      if (block.linkSequenceNumber <= 0 || targetIndex.has(block.linkPublicKey, block.linkSequenceNumber)) continue
      targetIndex.set(block.linkPublicKey, block.linkSequenceNumber, targets.length)
      const key = { publicKey: block.linkPublicKey, sequenceNumber: block.linkSequenceNumber }
      let list = this.#linkLists.get(key.publicKey, key.sequenceNumber)
      const linkHead = this.#linkHeads.get(key.publicKey)
      if (list === undefined && linkHead !== undefined && key.sequenceNumber > linkHead) list = []
      if (list !== undefined) targets.push({ key, list, readAt: -1 })
      else {
        targets.push({ key, list: undefined, readAt: reads.length })
        reads.push(positionedKey(LINK, key.publicKey, key.sequenceNumber))
      }
    }
    const current = reads.length === 0 ? [] : await this.#db.getMany(reads)
    // A taken position holds this block only if the hash index says the block with this hash is there.
    const hashReads: { candidate: number; at: Uint8Array }[] = []
    candidates.forEach(({ block }, i) => {
      const at = occupiedAt[i] as number
      if (at >= 0 && current[at] !== undefined) hashReads.push({ candidate: i, at: position(block.publicKey, block.sequenceNumber) })
    })
    const storedAt =
      hashReads.length === 0 ? [] : await this.#db.getMany(hashReads.map(({ candidate }) => hashKey((candidates[candidate] as { hash: Uint8Array }).hash)))
    const alreadyStored = new Set<number>()
    hashReads.forEach(({ candidate, at }, j) => {
      const stored = storedAt[j]
      if (stored !== undefined && equalBytes(stored, at)) alreadyStored.add(candidate)
      else {
        const { block } = candidates[candidate] as { block: HalfBlock }
        throw new TrustChainError(TrustChainErrorCode.INVALID_INPUT, `a different block is already at ${toHex(block.publicKey)}:${block.sequenceNumber}`)
      }
    })
    const before = targets.map((target) => target.list ?? positionsIn(current[target.readAt]))
    const lists = before.map((list) => [...list])
    const ops: { key: Uint8Array; value: Uint8Array }[] = []
    const written: HalfBlock[] = []
    candidates.forEach(({ block, hash }, i) => {
      if (alreadyStored.has(i)) return
      ops.push({ key: positionedKey(BLOCK, block.publicKey, block.sequenceNumber), value: encodeBlock(block, this.#limits) })
      ops.push({ key: hashKey(hash), value: position(block.publicKey, block.sequenceNumber) })
      if (block.linkSequenceNumber > 0) {
        lists[targetIndex.get(block.linkPublicKey, block.linkSequenceNumber) as number]?.push({
          publicKey: block.publicKey,
          sequenceNumber: block.sequenceNumber,
        })
      }
      written.push(block)
    })
    const changedLists: number[] = []
    targets.forEach((target, i) => {
      const list = lists[i] as BlockKey[]
      if (list.length === (before[i] as readonly BlockKey[]).length) return
      changedLists.push(i)
      ops.push({ key: positionedKey(LINK, target.key.publicKey, target.key.sequenceNumber), value: encodeLinkList(list) })
    })
    for (const proof of proofs) ops.push(proof)
    if (ops.length > 0) {
      // A chained batch: abstract-level's array form spends several times as long per operation before LevelDB
      // sees it (measured: about 9 µs against 2 µs per put with this store's keys).
      const chained = this.#db.batch()
      try {
        for (const op of ops) chained.put(op.key, op.value)
      } catch (error) {
        await chained.close()
        throw error
      }
      await chained.write({ sync: this.#sync })
    }
    this.#writesDone++
    // Only once LevelDB has the batch: a failed write must not leave blocks visible through the cache.
    for (const block of written) {
      this.#cache.set(block.publicKey, block.sequenceNumber, block)
      this.#heads.raise(block.publicKey, block.sequenceNumber)
    }
    for (const i of changedLists) {
      const { key } = targets[i] as { key: BlockKey }
      // The writer read (or knew) this list itself, and writes are serialised: it is current.
      this.#linkLists.set(key.publicKey, key.sequenceNumber, lists[i] as BlockKey[])
      this.#linkHeads.raise(key.publicKey, key.sequenceNumber)
    }
  }
}
