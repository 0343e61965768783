/**
 * The half-block: one entry of one node's personal hash chain.
 *
 * A transaction is two half-blocks: a proposal in the initiator's chain (`linkSequenceNumber` 0) and an agreement
 * in the counterparty's chain that links back to it (`linkSequenceNumber` = the proposal's sequence number), so the
 * chains of all nodes form a DAG. This module defines the shape once, as io-ts codecs: the static types, the
 * runtime validation at every boundary and the encoding all come from `UnsignedHalfBlockCodec`/`HalfBlockCodec`.
 */
import { HASH_LENGTH, PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH } from '@constellation/crypto'
import * as t from 'io-ts'
import { bytesOfLength, CborValueCodec, closedRecord, integerIn } from './field-codecs.js'

/**
 * Kinds of half-block. `tx` carries a transaction payload and links to another chain; `genesis` and `checkpoint` are
 * not transactions and link nowhere; `void` undoes one of its own chain's proposals that the counterparty refused,
 * and links to that proposal (its own chain, the proposal's sequence number).
 */
export const BlockTypeCodec = t.keyof({ genesis: null, tx: null, checkpoint: null, void: null }, 'BlockType')
export type BlockType = t.TypeOf<typeof BlockTypeCodec>

export const PublicKeyCodec = bytesOfLength(PUBLIC_KEY_LENGTH, 'PublicKey')
export const HashCodec = bytesOfLength(HASH_LENGTH, 'Hash')
export const SignatureCodec = bytesOfLength(SIGNATURE_LENGTH, 'Signature')
/** Sequence numbers start at 1; safe integers keep them exact in JavaScript. */
export const SequenceNumberCodec = integerIn(1, Number.MAX_SAFE_INTEGER, 'SequenceNumber')
/** 0 marks a proposal; otherwise the sequence number of the proposal this agreement answers. */
export const LinkSequenceNumberCodec = integerIn(0, Number.MAX_SAFE_INTEGER, 'LinkSequenceNumber')
/** Milliseconds since the Unix epoch, as the block's author claims it. */
export const TimestampCodec = integerIn(0, Number.MAX_SAFE_INTEGER, 'Timestamp')

const unsignedFields = {
  publicKey: PublicKeyCodec,
  sequenceNumber: SequenceNumberCodec,
  linkPublicKey: PublicKeyCodec,
  linkSequenceNumber: LinkSequenceNumberCodec,
  previousHash: HashCodec,
  timestamp: TimestampCodec,
  type: BlockTypeCodec,
  payload: CborValueCodec,
}

/** Everything that is hashed: the half-block without its signature. */
export const UnsignedHalfBlockCodec = closedRecord('UnsignedHalfBlock', unsignedFields)
export type UnsignedHalfBlock = Readonly<t.TypeOf<typeof UnsignedHalfBlockCodec>>

/** A signed half-block: the signature signs the SHA-256 hash of the unsigned part's canonical encoding. */
export const HalfBlockCodec = closedRecord('HalfBlock', { ...unsignedFields, signature: SignatureCodec })
export type HalfBlock = Readonly<t.TypeOf<typeof HalfBlockCodec>>

/** `previousHash` of every chain's first block, and `linkPublicKey` of blocks that are not transactions. */
export const ZERO_HASH: Uint8Array = new Uint8Array(HASH_LENGTH)
export const NO_LINK: Uint8Array = new Uint8Array(PUBLIC_KEY_LENGTH)

/** Where a half-block sits: its chain (public key) and position in it. */
export interface BlockKey {
  readonly publicKey: Uint8Array
  readonly sequenceNumber: number
}

export const isProposal = (block: UnsignedHalfBlock): boolean => block.type === 'tx' && block.linkSequenceNumber === 0
export const isAgreement = (block: UnsignedHalfBlock): boolean => block.type === 'tx' && block.linkSequenceNumber > 0
/** A void of the own chain's proposal at `linkSequenceNumber`. */
export const isVoid = (block: UnsignedHalfBlock): boolean => block.type === 'void'
