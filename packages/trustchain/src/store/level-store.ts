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
 * Recently written and read blocks are kept decoded in a bounded cache: validation reads the neighbours of the
 * blocks it just stored, and decoding them again would cost as much as storing them. Writes are serialised, since
 * the link index is read, extended and written back.
 */
import { type Crypto, concatBytes, equalBytes, toHex } from '@constellation/crypto'
import { ClassicLevel } from 'classic-level'
import { type BlockLimits, blockHash, decodeBlock, DEFAULT_BLOCK_LIMITS, encodeBlock } from '../block/block-encoding.js'
import type { HalfBlock } from '../block/half-block.js'
import { TrustChainError, TrustChainErrorCode } from '../errors.js'
import { decodeFraudProof, encodeFraudProof, type FraudProof, fraudProofId, verifyFraudProof } from '../validation/fraud-proof.js'
import type { BlockBatch, BlockStore } from './block-store.js'
import { chainKey, positionKey } from './position-key.js'

type BlockKeyLike = { readonly publicKey: Uint8Array; readonly sequenceNumber: number }

const BLOCK = 0x62 // 'b'
const HASH = 0x68 // 'h'
const LINK = 0x6c // 'l'
const FRAUD = 0x66 // 'f'
const POSITION_LENGTH = 40

function position(publicKey: Uint8Array, sequenceNumber: number): Uint8Array {
  const out = new Uint8Array(POSITION_LENGTH)
  out.set(publicKey, 0)
  const view = new DataView(out.buffer)
  view.setUint32(32, Math.floor(sequenceNumber / 0x100000000))
  view.setUint32(36, sequenceNumber >>> 0)
  return out
}

function sequenceAt(at: Uint8Array): number {
  const view = new DataView(at.buffer, at.byteOffset, POSITION_LENGTH)
  return view.getUint32(32) * 0x100000000 + view.getUint32(36)
}

const prefixed = (prefix: number, ...parts: Uint8Array[]): Uint8Array => concatBytes(Uint8Array.of(prefix), ...parts)

export interface LevelBlockStoreOptions {
  readonly crypto: Crypto
  /** Directory of the database; created if missing. */
  readonly location: string
  readonly limits?: BlockLimits
  /** fsync each batch (survives power loss, not only process crashes). Default false. */
  readonly sync?: boolean
  /** How many decoded blocks to keep in memory (default 20,000; 0 disables the cache). */
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
  const cache = new Map<string, HalfBlock>()
  /**
   * What else validation asks for over and over, kept beside the block cache: each chain's highest stored sequence
   * number (so a lookup past a chain's end — validation always asks for a block's successor — needs no LevelDB
   * read) and the link lists of recent proposals. Both are filled from reads only when no write finished during the
   * read (`writesDone` unchanged), so a read racing a write never caches a stale answer; writes update them.
   */
  const heads = new Map<string, number>()
  const linkLists = new Map<string, Uint8Array[]>()
  let writesDone = 0
  const bounded = <V>(map: Map<string, V>, key: string, value: V): void => {
    if (cacheSize === 0) return
    map.delete(key)
    map.set(key, value)
    if (map.size > cacheSize) map.delete(map.keys().next().value as string)
  }

  const remember = (block: HalfBlock): void => {
    if (cacheSize === 0) return
    const key = positionKey(block.publicKey, block.sequenceNumber)
    cache.delete(key)
    cache.set(key, block)
    // Maps iterate in insertion order: the first key is the least recently remembered.
    if (cache.size > cacheSize) cache.delete(cache.keys().next().value as string)
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
    remember(block)
    return block
  }
  /**
   * A stored entry's block, from the cache when it holds that position: validation and crawls read the recent ends
   * of chains over and over, and decoding costs as much as storing.
   */
  const cachedOrDecoded = ([key, value]: [Uint8Array, Uint8Array]): HalfBlock => {
    const at = key.subarray(1)
    return cache.get(positionKey(at.subarray(0, 32), sequenceAt(at))) ?? decode(value)
  }
  /** Only proofs that prove fraud are stored: one bad proof on disk would make every later read fail. */
  const checkProof = (proof: FraudProof): void => {
    if (!verifyFraudProof(crypto, proof)) throw new TrustChainError(TrustChainErrorCode.INVALID_FRAUD_PROOF, 'the fraud proof does not prove fraud')
  }
  const blockKey = (publicKey: Uint8Array, sequenceNumber: number) => prefixed(BLOCK, position(publicKey, sequenceNumber))
  const chainBounds = (publicKey: Uint8Array, from: number, to: number) => ({
    gte: blockKey(publicKey, Math.max(from, 0)),
    lte: blockKey(publicKey, Math.min(to, Number.MAX_SAFE_INTEGER)),
  })
  /** The highest stored sequence number of each chain (0: none), from `heads` or one reverse key read per chain. */
  const headsOf = async (publicKeys: readonly Uint8Array[]): Promise<Map<string, number>> => {
    const out = new Map<string, number>()
    const unknown = new Map<string, Uint8Array>()
    for (const publicKey of publicKeys) {
      const chain = chainKey(publicKey)
      const head = heads.get(chain)
      if (head === undefined) unknown.set(chain, publicKey)
      else out.set(chain, head)
    }
    if (unknown.size === 0) return out
    const before = writesDone
    const found = await Promise.all(
      [...unknown.values()].map(async (publicKey) => {
        const [key] = await db.keys({ ...chainBounds(publicKey, 1, Number.MAX_SAFE_INTEGER), reverse: true, limit: 1 }).all()
        return key === undefined ? 0 : sequenceAt(key.subarray(1))
      }),
    )
    const fresh = before === writesDone
    ;[...unknown.keys()].forEach((chain, i) => {
      const head = found[i] as number
      if (fresh) bounded(heads, chain, head)
      out.set(chain, head)
    })
    return out
  }
  /** Blocks at the given 40-byte positions, from the cache where possible, the rest in one `getMany`. */
  const atPositions = async (positions: readonly Uint8Array[]): Promise<(HalfBlock | undefined)[]> => {
    const found: (HalfBlock | undefined)[] = positions.map((at) => cache.get(positionKey(at.subarray(0, 32), sequenceAt(at))))
    let missing = found.flatMap((block, i) => (block === undefined ? [i] : []))
    if (missing.length > 0 && cacheSize > 0) {
      // Past a chain's end there is nothing to read (a head learnt before a write is raised by that write).
      const chainHeads = await headsOf(missing.map((i) => (positions[i] as Uint8Array).subarray(0, 32)))
      missing = missing.filter((i) => {
        const at = positions[i] as Uint8Array
        return sequenceAt(at) <= (chainHeads.get(chainKey(at.subarray(0, 32))) ?? Number.POSITIVE_INFINITY)
      })
    }
    if (missing.length > 0) {
      const values = await db.getMany(missing.map((i) => prefixed(BLOCK, positions[i] as Uint8Array)))
      missing.forEach((i, j) => {
        const value = values[j]
        if (value !== undefined) found[i] = decode(value)
      })
    }
    return found
  }
  const getMany = async (keys: readonly { readonly publicKey: Uint8Array; readonly sequenceNumber: number }[]) => {
    open()
    return keys.length === 0 ? [] : atPositions(keys.map((key) => position(key.publicKey, key.sequenceNumber)))
  }
  const positionsIn = (list: Uint8Array | undefined): Uint8Array[] => {
    if (list === undefined) return []
    const out: Uint8Array[] = []
    for (let offset = 0; offset + POSITION_LENGTH <= list.length; offset += POSITION_LENGTH) out.push(list.subarray(offset, offset + POSITION_LENGTH))
    return out
  }
  const getLinkedMany = async (targets: readonly { readonly publicKey: Uint8Array; readonly sequenceNumber: number }[]) => {
    open()
    if (targets.length === 0) return []
    const names = targets.map((target) => positionKey(target.publicKey, target.sequenceNumber))
    const perTarget: (Uint8Array[] | undefined)[] = names.map((name) => linkLists.get(name))
    const unknown = perTarget.flatMap((list, i) => (list === undefined ? [i] : []))
    if (unknown.length > 0) {
      const before = writesDone
      const lists = await db.getMany(unknown.map((i) => prefixed(LINK, position((targets[i] as BlockKeyLike).publicKey, (targets[i] as BlockKeyLike).sequenceNumber))))
      const fresh = before === writesDone
      unknown.forEach((i, j) => {
        const list = positionsIn(lists[j])
        perTarget[i] = list
        if (fresh) bounded(linkLists, names[i] as string, list)
      })
    }
    const blocks = await atPositions((perTarget as Uint8Array[][]).flat())
    let next = 0
    return (perTarget as Uint8Array[][]).map((positions) => positions.flatMap(() => {
      const block = blocks[next++]
      return block === undefined ? [] : [block]
    }))
  }

  const writeNow = async (batch: BlockBatch): Promise<void> => {
    // Everything that can fail is checked before the one LevelDB batch: a malformed block, a conflict, a bad proof.
    const fresh = new Map<string, { block: HalfBlock; hash: Uint8Array }>()
    for (const block of batch.blocks) {
      const key = positionKey(block.publicKey, block.sequenceNumber)
      const hash = blockHash(crypto, block)
      const held = fresh.get(key)
      if (held === undefined) fresh.set(key, { block, hash })
      else if (!equalBytes(held.hash, hash)) {
        throw new TrustChainError(TrustChainErrorCode.INVALID_INPUT, `two different blocks at ${toHex(block.publicKey)}:${block.sequenceNumber} in one batch`)
      }
    }
    const proofs = (batch.fraudProofs ?? []).map((proof) => {
      checkProof(proof)
      return { key: prefixed(FRAUD, proof.publicKey, fraudProofId(crypto, proof)), value: encodeFraudProof(proof, limits) }
    })
    const candidates = [...fresh.values()]
    const linkTargets = new Map<string, Uint8Array>()
    for (const { block } of candidates) {
      if (block.linkSequenceNumber > 0) linkTargets.set(positionKey(block.linkPublicKey, block.linkSequenceNumber), position(block.linkPublicKey, block.linkSequenceNumber))
    }
    const targets = [...linkTargets.entries()]
    const current = await db.getMany([
      ...candidates.map(({ block }) => blockKey(block.publicKey, block.sequenceNumber)),
      ...candidates.map(({ hash }) => prefixed(HASH, hash)),
      ...targets.map(([, at]) => prefixed(LINK, at)),
    ])
    const links = new Map<string, Uint8Array[]>(targets.map(([name], i) => [name, positionsIn(current[2 * candidates.length + i])]))
    const ops: { type: 'put'; key: Uint8Array; value: Uint8Array }[] = []
    const written: HalfBlock[] = []
    candidates.forEach(({ block, hash }, i) => {
      const at = position(block.publicKey, block.sequenceNumber)
      if (current[i] !== undefined) {
        // Already stored is decided by hash, as in the memory store: the block with this hash is at this position.
        const storedAt = current[candidates.length + i]
        if (storedAt !== undefined && equalBytes(storedAt, at)) return
        throw new TrustChainError(TrustChainErrorCode.INVALID_INPUT, `a different block is already at ${toHex(block.publicKey)}:${block.sequenceNumber}`)
      }
      ops.push({ type: 'put', key: prefixed(BLOCK, at), value: encodeBlock(block, limits) })
      ops.push({ type: 'put', key: prefixed(HASH, hash), value: at })
      if (block.linkSequenceNumber > 0) links.get(positionKey(block.linkPublicKey, block.linkSequenceNumber))?.push(at)
      written.push(block)
    })
    for (const [name, at] of targets) {
      const list = links.get(name) ?? []
      if (list.length > 0) ops.push({ type: 'put', key: prefixed(LINK, at), value: concatBytes(...list) })
    }
    for (const proof of proofs) ops.push({ type: 'put', ...proof })
    if (ops.length > 0) await db.batch(ops, { sync })
    writesDone++
    // Only once LevelDB has the batch: a failed write must not leave blocks visible through the cache.
    for (const block of written) {
      remember(block)
      const chain = chainKey(block.publicKey)
      const head = heads.get(chain)
      if (head !== undefined && block.sequenceNumber > head) bounded(heads, chain, block.sequenceNumber)
    }
    for (const [name] of targets) {
      const list = links.get(name)
      // The writer read this list itself, and writes are serialised: it is current.
      if (list !== undefined) bounded(linkLists, name, list)
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
      const at = await db.get(prefixed(HASH, hash))
      if (at === undefined) return undefined
      const [block] = await atPositions([at])
      return block
    },
    async getLinked(publicKey, sequenceNumber) {
      const [linked] = await getLinkedMany([{ publicKey, sequenceNumber }])
      return linked ?? []
    },
    getLinkedMany,
    async latest(publicKey) {
      open()
      const [entry] = await db.iterator({ ...chainBounds(publicKey, 1, Number.MAX_SAFE_INTEGER), reverse: true, limit: 1 }).all()
      return entry === undefined ? undefined : cachedOrDecoded(entry)
    },
    async range(publicKey, from, to) {
      open()
      if (to < from) return []
      const entries = await db.iterator(chainBounds(publicKey, from, to)).all()
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
      heads.clear()
      linkLists.clear()
      await db.close()
    },
  }
}
