/**
 * The engine's requests and responses as bytes. The shell encodes what the engine sends (blocks in wire form inside
 * the protocol's messages, see `messages.ts`) and decodes what peers send, sizes first; what does not decode is
 * someone else's bad input and never reaches the engine.
 */
import type { Crypto } from '@constellation/crypto'
import { type BlockLimits, decodeBlock, encodeBlock } from '../block/block-encoding.js'
import type { HalfBlock } from '../block/half-block.js'
import type { DecodedResponse, OutgoingRequest } from './engine/engine-events.js'
import { decodeMessage, encodeMessage, RequestCodec, ResponseCodec } from './messages.js'

export function encodeResponse(response: DecodedResponse, limits: BlockLimits): Uint8Array {
  switch (response.type) {
    case 'agreement':
      return encodeMessage(ResponseCodec, {
        type: 'agreement',
        proposal: encodeBlock(response.proposal, limits),
        agreement: encodeBlock(response.agreement, limits),
      })
    case 'rejected':
      return encodeMessage(ResponseCodec, { type: 'rejected', code: response.code, reasons: [...response.reasons] })
    case 'blocks':
      return encodeMessage(ResponseCodec, { type: 'blocks', blocks: response.blocks.map((block) => encodeBlock(block, limits)) })
  }
}

export function encodeRequest(request: OutgoingRequest, limits: BlockLimits): Uint8Array {
  return request.type === 'proposal'
    ? encodeMessage(RequestCodec, { type: 'proposal', block: encodeBlock(request.block, limits) })
    : encodeMessage(RequestCodec, { type: 'crawl', publicKey: request.publicKey, from: request.from, to: request.to })
}

/** The blocks a peer sent that decode; the others are dropped. */
export function decodeBlocks(crypto: Crypto, blocks: readonly Uint8Array[], limits: BlockLimits): HalfBlock[] {
  return blocks.flatMap((bytes) => {
    try {
      return [decodeBlock(crypto, bytes, limits)]
    } catch {
      return []
    }
  })
}

/** A peer's response, or undefined when it is malformed. */
export function decodeResponse(crypto: Crypto, bytes: Uint8Array, limits: BlockLimits): DecodedResponse | undefined {
  try {
    const response = decodeMessage(ResponseCodec, bytes)
    if (response.type === 'rejected') return response
    if (response.type === 'blocks') return { type: 'blocks', blocks: decodeBlocks(crypto, response.blocks, limits) }
    return { type: 'agreement', proposal: decodeBlock(crypto, response.proposal, limits), agreement: decodeBlock(crypto, response.agreement, limits) }
  } catch {
    return undefined
  }
}
