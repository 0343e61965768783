/**
 * A `BlockStore` on LevelDB (`classic-level`): the durable store of a node.
 *
 * Layout, all keys binary, big-endian sequence numbers so that LevelDB's byte order is chain order:
 *   'b' pk seq                  -> the block's wire bytes
 *   'h' hash                    -> pk seq (the position of the block with that hash)
 *   'l' linkPk linkSeq pk seq   -> empty (the link index: agreements to a proposal)
 *   'f' pk proofId              -> the fraud proof's bytes
 * Each `write` is one LevelDB batch, which LevelDB applies atomically through its write-ahead log; once the batch's
 * promise resolves the data is in the log, so a process killed afterwards keeps it (pass `sync: true` to also
 * survive a power cut, at the price of an fsync per batch). Everything read back is decoded and checked again.
 */
import { type Crypto, concatBytes, equalBytes, toHex } from '@constellation/crypto'
import { ClassicLevel } from 'classic-level'
import { type BlockLimits, blockHash, decodeBlock, DEFAULT_BLOCK_LIMITS, encodeBlock } from '../block/block-encoding.js'
import type { HalfBlock } from '../block/half-block.js'
import { TrustChainError, TrustChainErrorCode } from '../errors.js'
import { decodeFraudProof, encodeFraudProof, type FraudProof, fraudProofId } from '../validation/fraud-proof.js'
import type { BlockBatch, BlockStore } from './block-store.js'

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

const prefixed = (prefix: number, ...parts: Uint8Array[]): Uint8Array => concatBytes(Uint8Array.of(prefix), ...parts)

export interface LevelBlockStoreOptions {
  readonly crypto: Crypto
  /** Directory of the database; created if missing. */
  readonly location: string
  readonly limits?: BlockLimits
  /** fsync each batch (survives power loss, not only process crashes). Default false. */
  readonly sync?: boolean
}

export async function openLevelBlockStore(options: LevelBlockStoreOptions): Promise<BlockStore> {
  const { crypto, location } = options
  const limits = options.limits ?? DEFAULT_BLOCK_LIMITS
  const sync = options.sync ?? false
  const db = new ClassicLevel<Uint8Array, Uint8Array>(location, { keyEncoding: 'view', valueEncoding: 'view' })
  await db.open()
  let closed = false

  const open = (): void => {
    if (closed) throw new TrustChainError(TrustChainErrorCode.STORE_CLOSED, 'the block store is closed')
  }
  const decode = (bytes: Uint8Array): HalfBlock => {
    try {
      return decodeBlock(crypto, bytes, limits)
    } catch (cause) {
      throw new TrustChainError(TrustChainErrorCode.STORE_CORRUPT, 'a stored block cannot be decoded', {}, { cause })
    }
  }
  const blockKey = (publicKey: Uint8Array, sequenceNumber: number) => prefixed(BLOCK, position(publicKey, sequenceNumber))
  const chainBounds = (publicKey: Uint8Array, from: number, to: number) => ({
    gte: blockKey(publicKey, Math.max(from, 0)),
    lte: blockKey(publicKey, Math.min(to, Number.MAX_SAFE_INTEGER)),
  })
  const getMany = async (keys: readonly { readonly publicKey: Uint8Array; readonly sequenceNumber: number }[]) => {
    open()
    if (keys.length === 0) return []
    const values = await db.getMany(keys.map((key) => blockKey(key.publicKey, key.sequenceNumber)))
    return values.map((value) => (value === undefined ? undefined : decode(value)))
  }

  return {
    async write(batch: BlockBatch): Promise<void> {
      open()
      const fresh = new Map<string, HalfBlock>()
      for (const block of batch.blocks) {
        const key = `${toHex(block.publicKey)}:${block.sequenceNumber}`
        const held = fresh.get(key)
        if (held === undefined) fresh.set(key, block)
        else if (!equalBytes(blockHash(crypto, held), blockHash(crypto, block))) {
          throw new TrustChainError(TrustChainErrorCode.INVALID_INPUT, `two different blocks at ${key} in one batch`)
        }
      }
      const candidates = [...fresh.values()]
      const stored = candidates.length === 0 ? [] : await db.getMany(candidates.map((b) => blockKey(b.publicKey, b.sequenceNumber)))
      const ops: { type: 'put'; key: Uint8Array; value: Uint8Array }[] = []
      candidates.forEach((block, i) => {
        const held = stored[i]
        const wire = encodeBlock(block, limits)
        if (held !== undefined) {
          if (equalBytes(held, wire)) return
          throw new TrustChainError(
            TrustChainErrorCode.INVALID_INPUT,
            `a different block is already at ${toHex(block.publicKey)}:${block.sequenceNumber}`,
          )
        }
        const at = position(block.publicKey, block.sequenceNumber)
        ops.push({ type: 'put', key: prefixed(BLOCK, at), value: wire })
        ops.push({ type: 'put', key: prefixed(HASH, blockHash(crypto, block)), value: at })
        if (block.linkSequenceNumber > 0) {
          ops.push({ type: 'put', key: prefixed(LINK, position(block.linkPublicKey, block.linkSequenceNumber), at), value: new Uint8Array(0) })
        }
      })
      for (const proof of batch.fraudProofs ?? []) {
        ops.push({ type: 'put', key: prefixed(FRAUD, proof.publicKey, fraudProofId(crypto, proof)), value: encodeFraudProof(proof, limits) })
      }
      if (ops.length > 0) await db.batch(ops, { sync })
    },
    async get(publicKey, sequenceNumber) {
      open()
      const value = await db.get(blockKey(publicKey, sequenceNumber))
      return value === undefined ? undefined : decode(value)
    },
    getMany,
    async getByHash(hash) {
      open()
      const at = await db.get(prefixed(HASH, hash))
      if (at === undefined) return undefined
      const value = await db.get(prefixed(BLOCK, at))
      return value === undefined ? undefined : decode(value)
    },
    async getLinked(publicKey, sequenceNumber) {
      open()
      const target = prefixed(LINK, position(publicKey, sequenceNumber))
      const keys = await db.keys({ gt: target, lt: concatBytes(target, new Uint8Array(POSITION_LENGTH).fill(0xff)) }).all()
      if (keys.length === 0) return []
      const values = await db.getMany(keys.map((key) => prefixed(BLOCK, key.subarray(1 + POSITION_LENGTH))))
      return values.filter((value): value is Uint8Array => value !== undefined).map(decode)
    },
    async latest(publicKey) {
      open()
      const [value] = await db.values({ ...chainBounds(publicKey, 1, Number.MAX_SAFE_INTEGER), reverse: true, limit: 1 }).all()
      return value === undefined ? undefined : decode(value)
    },
    async range(publicKey, from, to) {
      open()
      if (to < from) return []
      const values = await db.values(chainBounds(publicKey, from, to)).all()
      return values.map(decode)
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
      await db.close()
    },
  }
}
