/**
 * A `BlockStore` on LevelDB (`classic-level`): the durable store of a node.
 *
 * Layout, all keys binary, big-endian sequence numbers so that LevelDB's byte order is chain order:
 *   'b' pk seq                  -> the block's wire bytes
 *   'h' hash                    -> pk seq (the position of the block with that hash)
 *   'l' linkPk linkSeq          -> pk seq, pk seq, ... (the link index: positions of the agreements to a proposal,
 *                                  one key per proposal so that a batch of lookups is one `getMany`)
 *   'f' pk proofId              -> the fraud proof's bytes
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
import { type Crypto, concatBytes, equalBytes, toHex } from '@constellation/crypto'
import { ClassicLevel } from 'classic-level'
import { type BlockLimits, blockHash, decodeBlock, DEFAULT_BLOCK_LIMITS, encodeBlock } from '../block/block-encoding.js'
import type { BlockKey, HalfBlock } from '../block/half-block.js'
import { TrustChainError, TrustChainErrorCode } from '../errors.js'
import { decodeFraudProof, encodeFraudProof, type FraudProof, fraudProofId, verifyFraudProof } from '../validation/fraud-proof.js'
import type { BlockBatch, BlockStore } from './block-store.js'
import { PositionCache } from './position-cache.js'
import { chainKey, PositionMap } from './position-key.js'

const BLOCK = 0x62 // 'b'
const HASH = 0x68 // 'h'
const LINK = 0x6c // 'l'
const FRAUD = 0x66 // 'f'
const POSITION_LENGTH = 40

/** Writes a position (public key, big-endian 64-bit sequence number) into `out` at `offset`. */
function writePosition(out: Uint8Array, offset: number, publicKey: Uint8Array, sequenceNumber: number): void {
  out.set(publicKey, offset)
  const high = Math.floor(sequenceNumber / 0x100000000)
  const low = sequenceNumber >>> 0
  out[offset + 32] = high >>> 24
  out[offset + 33] = (high >>> 16) & 0xff
  out[offset + 34] = (high >>> 8) & 0xff
  out[offset + 35] = high & 0xff
  out[offset + 36] = low >>> 24
  out[offset + 37] = (low >>> 16) & 0xff
  out[offset + 38] = (low >>> 8) & 0xff
  out[offset + 39] = low & 0xff
}

function position(publicKey: Uint8Array, sequenceNumber: number): Uint8Array {
  const out = new Uint8Array(POSITION_LENGTH)
  writePosition(out, 0, publicKey, sequenceNumber)
  return out
}

/** A key of one of the position-keyed kinds: the prefix byte, then the position. */
function positionedKey(prefix: number, publicKey: Uint8Array, sequenceNumber: number): Uint8Array {
  const out = new Uint8Array(1 + POSITION_LENGTH)
  out[0] = prefix
  writePosition(out, 1, publicKey, sequenceNumber)
  return out
}

function hashKey(hash: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + hash.length)
  out[0] = HASH
  out.set(hash, 1)
  return out
}

/** The sequence number of a position starting at `offset` of `at`. */
function sequenceAt(at: Uint8Array, offset = 0): number {
  const high =
    (at[offset + 32] as number) * 0x1000000 + (((at[offset + 33] as number) << 16) | ((at[offset + 34] as number) << 8) | (at[offset + 35] as number))
  const low = (at[offset + 36] as number) * 0x1000000 + (((at[offset + 37] as number) << 16) | ((at[offset + 38] as number) << 8) | (at[offset + 39] as number))
  return high * 0x100000000 + low
}

const prefixed = (prefix: number, ...parts: Uint8Array[]): Uint8Array => concatBytes(Uint8Array.of(prefix), ...parts)

/** The positions of a stored link list, as block keys. */
function positionsIn(list: Uint8Array | undefined): BlockKey[] {
  if (list === undefined) return []
  const out: BlockKey[] = []
  for (let offset = 0; offset + POSITION_LENGTH <= list.length; offset += POSITION_LENGTH) {
    out.push({ publicKey: list.subarray(offset, offset + 32), sequenceNumber: sequenceAt(list, offset) })
  }
  return out
}

function encodeLinkList(list: readonly BlockKey[]): Uint8Array {
  const out = new Uint8Array(list.length * POSITION_LENGTH)
  list.forEach((key, i) => writePosition(out, i * POSITION_LENGTH, key.publicKey, key.sequenceNumber))
  return out
}

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
  const { crypto, location } = options
  const limits = options.limits ?? DEFAULT_BLOCK_LIMITS
  const sync = options.sync ?? false
  const cacheSize = options.cacheSize ?? 20_000
  const db = new ClassicLevel<Uint8Array, Uint8Array>(location, { keyEncoding: 'view', valueEncoding: 'view' })
  await db.open()
  let closed = false
  let writing: Promise<unknown> = Promise.resolve()
  const cache = new PositionCache<HalfBlock>(cacheSize)
  const linkLists = new PositionCache<readonly BlockKey[]>(cacheSize)
  /** Each chain's highest stored sequence number (0: none). */
  const heads = new Map<string, number>()
  /** Each chain's highest sequence number that has a stored link list (0: none). */
  const linkHeads = new Map<string, number>()
  let writesDone = 0
  const bounded = <V>(map: Map<string, V>, key: string, value: V): void => {
    if (cacheSize === 0) return
    map.delete(key)
    map.set(key, value)
    if (map.size > cacheSize) map.delete(map.keys().next().value as string)
  }

  const open = (): void => {
    if (closed) throw new TrustChainError(TrustChainErrorCode.STORE_CLOSED, 'the block store is closed')
  }
  const decode = (bytes: Uint8Array): HalfBlock => {
    let block: HalfBlock
    try {
      block = decodeBlock(crypto, bytes, limits)
    } catch (cause) {
      throw new TrustChainError(TrustChainErrorCode.STORE_CORRUPT, 'a stored block cannot be decoded', {}, { cause })
    }
    cache.set(block.publicKey, block.sequenceNumber, block)
    return block
  }
  /**
   * A stored entry's block, from the cache when it holds that position: validation and crawls read the recent ends
   * of chains over and over, and decoding costs as much as storing.
   */
  const cachedOrDecoded = ([key, value]: [Uint8Array, Uint8Array]): HalfBlock => cache.get(key.subarray(1, 33), sequenceAt(key, 1)) ?? decode(value)
  /** Only proofs that prove fraud are stored: one bad proof on disk would make every later read fail. */
  const checkProof = (proof: FraudProof): void => {
    if (!verifyFraudProof(crypto, proof)) throw new TrustChainError(TrustChainErrorCode.INVALID_FRAUD_PROOF, 'the fraud proof does not prove fraud')
  }
  const chainBounds = (prefix: number, publicKey: Uint8Array, from: number, to: number) => ({
    gte: positionedKey(prefix, publicKey, Math.max(from, 0)),
    lte: positionedKey(prefix, publicKey, Math.min(to, Number.MAX_SAFE_INTEGER)),
  })
  /**
   * The highest sequence number under `prefix` of each chain (0: none), from `marks` or one reverse key read per
   * chain it does not know.
   */
  const marksOf = async (prefix: number, marks: Map<string, number>, publicKeys: readonly Uint8Array[]): Promise<Map<string, number>> => {
    const out = new Map<string, number>()
    const unknown = new Map<string, Uint8Array>()
    for (const publicKey of publicKeys) {
      const chain = chainKey(publicKey)
      const mark = marks.get(chain)
      if (mark === undefined) unknown.set(chain, publicKey)
      else out.set(chain, mark)
    }
    if (unknown.size === 0) return out
    const before = writesDone
    const found = await Promise.all(
      [...unknown.values()].map(async (publicKey) => {
        const [key] = await db.keys({ ...chainBounds(prefix, publicKey, 1, Number.MAX_SAFE_INTEGER), reverse: true, limit: 1 }).all()
        return key === undefined ? 0 : sequenceAt(key, 1)
      }),
    )
    const fresh = before === writesDone
    ;[...unknown.keys()].forEach((chain, i) => {
      const mark = found[i] as number
      if (fresh) bounded(marks, chain, mark)
      out.set(chain, mark)
    })
    return out
  }
  /** Blocks at the given positions, from the cache where possible, the rest in one `getMany`. */
  const atKeys = async (keys: readonly BlockKey[]): Promise<(HalfBlock | undefined)[]> => {
    const found: (HalfBlock | undefined)[] = keys.map((key) => cache.get(key.publicKey, key.sequenceNumber))
    let missing: number[] = []
    for (let i = 0; i < found.length; i++) if (found[i] === undefined) missing.push(i)
    if (missing.length > 0 && cacheSize > 0) {
      // Past a chain's end there is nothing to read (a head learnt before a write is raised by that write).
      const chainHeads = await marksOf(
        BLOCK,
        heads,
        missing.map((i) => (keys[i] as BlockKey).publicKey),
      )
      missing = missing.filter((i) => {
        const key = keys[i] as BlockKey
        return key.sequenceNumber <= (chainHeads.get(chainKey(key.publicKey)) ?? Number.POSITIVE_INFINITY)
      })
    }
    if (missing.length > 0) {
      const values = await db.getMany(missing.map((i) => positionedKey(BLOCK, (keys[i] as BlockKey).publicKey, (keys[i] as BlockKey).sequenceNumber)))
      missing.forEach((i, j) => {
        const value = values[j]
        if (value !== undefined) found[i] = decode(value)
      })
    }
    return found
  }
  const getMany = async (keys: readonly BlockKey[]) => {
    open()
    return keys.length === 0 ? [] : atKeys(keys)
  }
  const getLinkedMany = async (targets: readonly BlockKey[]) => {
    open()
    if (targets.length === 0) return []
    const perTarget: (readonly BlockKey[] | undefined)[] = targets.map((target) => linkLists.get(target.publicKey, target.sequenceNumber))
    let unknown: number[] = []
    for (let i = 0; i < perTarget.length; i++) if (perTarget[i] === undefined) unknown.push(i)
    if (unknown.length > 0 && cacheSize > 0) {
      // Above the highest position that anything links to, there is no list to read: a new proposal's agreements.
      const marks = await marksOf(
        LINK,
        linkHeads,
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
      const before = writesDone
      const lists = await db.getMany(unknown.map((i) => positionedKey(LINK, (targets[i] as BlockKey).publicKey, (targets[i] as BlockKey).sequenceNumber)))
      const fresh = before === writesDone
      unknown.forEach((i, j) => {
        const list = positionsIn(lists[j])
        perTarget[i] = list
        const target = targets[i] as BlockKey
        if (fresh) linkLists.set(target.publicKey, target.sequenceNumber, list)
      })
    }
    const blocks = await atKeys((perTarget as (readonly BlockKey[])[]).flat())
    let next = 0
    return (perTarget as (readonly BlockKey[])[]).map((positions) =>
      positions.flatMap(() => {
        const block = blocks[next++]
        return block === undefined ? [] : [block]
      }),
    )
  }

  const writeNow = async (batch: BlockBatch): Promise<void> => {
    // Everything that can fail is checked before the one LevelDB batch: a malformed block, a conflict, a bad proof.
    const candidates: { block: HalfBlock; hash: Uint8Array }[] = []
    const inBatch = new PositionMap<Uint8Array>()
    for (const block of batch.blocks) {
      const hash = blockHash(crypto, block)
      const held = inBatch.get(block.publicKey, block.sequenceNumber)
      if (held === undefined) {
        inBatch.set(block.publicKey, block.sequenceNumber, hash)
        candidates.push({ block, hash })
      } else if (!equalBytes(held, hash)) {
        throw new TrustChainError(TrustChainErrorCode.INVALID_INPUT, `two different blocks at ${toHex(block.publicKey)}:${block.sequenceNumber} in one batch`)
      }
    }
    const proofs = (batch.fraudProofs ?? []).map((proof) => {
      checkProof(proof)
      return { key: prefixed(FRAUD, proof.publicKey, fraudProofId(crypto, proof)), value: encodeFraudProof(proof, limits) }
    })
    // What memory cannot answer is read, in one getMany: positions at or below their chain's known head (are they
    // taken, and by this very block?), and link lists neither cached nor known to be empty.
    const reads: Uint8Array[] = []
    const occupiedAt: number[] = [] // per candidate: index of its block read, or -1 (the position is free)
    for (const { block } of candidates) {
      const head = heads.get(chainKey(block.publicKey))
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
      let list = linkLists.get(key.publicKey, key.sequenceNumber)
      const linkHead = linkHeads.get(chainKey(key.publicKey))
      if (list === undefined && linkHead !== undefined && key.sequenceNumber > linkHead) list = []
      if (list !== undefined) targets.push({ key, list, readAt: -1 })
      else {
        targets.push({ key, list: undefined, readAt: reads.length })
        reads.push(positionedKey(LINK, key.publicKey, key.sequenceNumber))
      }
    }
    const current = reads.length === 0 ? [] : await db.getMany(reads)
    // A taken position holds this block only if the hash index says the block with this hash is there.
    const hashReads: { candidate: number; at: Uint8Array }[] = []
    candidates.forEach(({ block }, i) => {
      const at = occupiedAt[i] as number
      if (at >= 0 && current[at] !== undefined) hashReads.push({ candidate: i, at: position(block.publicKey, block.sequenceNumber) })
    })
    const storedAt =
      hashReads.length === 0 ? [] : await db.getMany(hashReads.map(({ candidate }) => hashKey((candidates[candidate] as { hash: Uint8Array }).hash)))
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
      ops.push({ key: positionedKey(BLOCK, block.publicKey, block.sequenceNumber), value: encodeBlock(block, limits) })
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
      const chained = db.batch()
      try {
        for (const op of ops) chained.put(op.key, op.value)
      } catch (error) {
        await chained.close()
        throw error
      }
      await chained.write({ sync })
    }
    writesDone++
    // Only once LevelDB has the batch: a failed write must not leave blocks visible through the cache.
    for (const block of written) {
      cache.set(block.publicKey, block.sequenceNumber, block)
      const chain = chainKey(block.publicKey)
      const head = heads.get(chain)
      if (head !== undefined && block.sequenceNumber > head) bounded(heads, chain, block.sequenceNumber)
    }
    for (const i of changedLists) {
      const { key } = targets[i] as { key: BlockKey }
      // The writer read (or knew) this list itself, and writes are serialised: it is current.
      linkLists.set(key.publicKey, key.sequenceNumber, lists[i] as BlockKey[])
      const chain = chainKey(key.publicKey)
      const linkHead = linkHeads.get(chain)
      if (linkHead !== undefined && key.sequenceNumber > linkHead) bounded(linkHeads, chain, key.sequenceNumber)
    }
  }

  return {
    // Async, so that a write after close() rejects like every other call instead of throwing.
    async write(batch: BlockBatch): Promise<void> {
      open()
      const run = writing.then(() => writeNow(batch))
      writing = run.catch(() => undefined)
      return run
    },
    async get(publicKey, sequenceNumber) {
      const [block] = await getMany([{ publicKey, sequenceNumber }])
      return block
    },
    getMany,
    async getByHash(hash) {
      open()
      const at = await db.get(hashKey(hash))
      if (at === undefined) return undefined
      const [block] = await atKeys([{ publicKey: at.subarray(0, 32), sequenceNumber: sequenceAt(at) }])
      return block
    },
    async getLinked(publicKey, sequenceNumber) {
      const [linked] = await getLinkedMany([{ publicKey, sequenceNumber }])
      return linked ?? []
    },
    getLinkedMany,
    async latest(publicKey) {
      open()
      const [entry] = await db.iterator({ ...chainBounds(BLOCK, publicKey, 1, Number.MAX_SAFE_INTEGER), reverse: true, limit: 1 }).all()
      return entry === undefined ? undefined : cachedOrDecoded(entry)
    },
    async range(publicKey, from, to) {
      open()
      if (to < from) return []
      const entries = await db.iterator(chainBounds(BLOCK, publicKey, from, to)).all()
      return entries.map(cachedOrDecoded)
    },
    async fraudProofs(publicKey) {
      open()
      const bounds =
        publicKey === undefined
          ? { gte: Uint8Array.of(FRAUD), lt: Uint8Array.of(FRAUD + 1) }
          : { gt: prefixed(FRAUD, publicKey), lt: prefixed(FRAUD, publicKey, new Uint8Array(32).fill(0xff), Uint8Array.of(0xff)) }
      const values = await db.values(bounds).all()
      return values.map((value) => {
        try {
          return decodeFraudProof(crypto, value, limits)
        } catch (cause) {
          throw new TrustChainError(TrustChainErrorCode.STORE_CORRUPT, 'a stored fraud proof cannot be decoded', {}, { cause })
        }
      })
    },
    async close() {
      if (closed) return
      closed = true
      await writing
      cache.clear()
      linkLists.clear()
      heads.clear()
      linkHeads.clear()
      await db.close()
    },
  }
}
