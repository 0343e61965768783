/**
 * The wire codec of Libp2pNetwork's request/response protocol. Requests to one peer share one long-lived
 * stream, so every frame carries a request id, and responses may come back in any order.
 *
 * Framing: a 4-byte big-endian length, then the frame. Frame layouts (integers big-endian):
 *   request   kind=1 | id u32 | protocol length u16 | protocol (ASCII) | data
 *   response  kind=2 | id u32 | data
 *   error     kind=3 | id u32 | code u8 | message (UTF-8, at most MAX_ERROR_MESSAGE_BYTES)
 *   cancel    kind=4 | id u32                       (the requester gave up: abort the handler)
 * `FrameReader` checks each length before buffering the frame, so a peer cannot make us hold more than one
 * frame of at most `maxFrameBytes`; a longer frame is answered from its header and dropped unread (peers may
 * be configured with larger limits). Anything that does not decode is a protocol violation by the peer.
 */
import { checkName } from '../checks.js'
import { GossipError, GossipErrorCode } from '../errors.js'

/** The libp2p protocol carrying every request/response exchange between two nodes. */
export const REQUEST_PROTOCOL = '/constellation/request/1'

export const MAX_ERROR_MESSAGE_BYTES = 512
/** Room for the frame header and protocol name on top of a maximal payload. */
export const FRAME_OVERHEAD_BYTES = 1 + 4 + 2 + 256
const LENGTH_PREFIX_BYTES = 4

export type RequestFrame =
  | { readonly kind: 'request'; readonly id: number; readonly protocol: string; readonly data: Uint8Array }
  | { readonly kind: 'response'; readonly id: number; readonly data: Uint8Array }
  | { readonly kind: 'error'; readonly id: number; readonly code: RemoteErrorCode; readonly message: string }
  | { readonly kind: 'cancel'; readonly id: number }

/** The failures a responder reports; each maps to one `GossipErrorCode` at the requester. */
const REMOTE_ERROR_CODES = [
  GossipErrorCode.UNKNOWN_PROTOCOL,
  GossipErrorCode.REMOTE_ERROR,
  GossipErrorCode.MESSAGE_TOO_LARGE,
  GossipErrorCode.RATE_LIMITED,
  GossipErrorCode.NETWORK_CLOSED,
] as const
export type RemoteErrorCode = (typeof REMOTE_ERROR_CODES)[number]

const KIND = { request: 1, response: 2, error: 3, cancel: 4 } as const
const encoder = new TextEncoder()
const utf8 = new TextDecoder('utf-8', { fatal: true })

function malformed(message: string): GossipError {
  return new GossipError(GossipErrorCode.MALFORMED, `request frame: ${message}`)
}

/** Cuts a UTF-8 string to at most `maxBytes` bytes without splitting a character. */
function truncateUtf8(text: string, maxBytes: number): Uint8Array {
  const bytes = encoder.encode(text)
  if (bytes.length <= maxBytes) return bytes
  let end = maxBytes
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--
  return bytes.subarray(0, end)
}

/**
 * A plain `Uint8Array` copy of payload bytes. Chunks from the wire are Node Buffers viewing larger receive
 * buffers: a copy hands callers exactly their bytes, of the type they expect, without pinning the rest.
 */
export function ownBytes(view: Uint8Array): Uint8Array {
  return new Uint8Array(view)
}

/** Encodes a frame with its length prefix, ready to write to the stream. */
export function encodeRequestFrame(frame: RequestFrame): Uint8Array {
  let body: Uint8Array
  let headerLength = 5
  switch (frame.kind) {
    case 'request': {
      const protocol = encoder.encode(frame.protocol)
      headerLength = 7 + protocol.length
      body = new Uint8Array(headerLength + frame.data.length)
      new DataView(body.buffer).setUint16(5, protocol.length)
      body.set(protocol, 7)
      body.set(frame.data, headerLength)
      break
    }
    case 'response':
      body = new Uint8Array(5 + frame.data.length)
      body.set(frame.data, 5)
      break
    case 'error': {
      const message = truncateUtf8(frame.message, MAX_ERROR_MESSAGE_BYTES)
      body = new Uint8Array(6 + message.length)
      body[5] = REMOTE_ERROR_CODES.indexOf(frame.code)
      body.set(message, 6)
      break
    }
    case 'cancel':
      body = new Uint8Array(5)
      break
  }
  body[0] = KIND[frame.kind]
  new DataView(body.buffer).setUint32(1, frame.id)
  const framed = new Uint8Array(LENGTH_PREFIX_BYTES + body.length)
  new DataView(framed.buffer).setUint32(0, body.length)
  framed.set(body, LENGTH_PREFIX_BYTES)
  return framed
}

/** Decodes one frame body (without its length prefix); throws MALFORMED. */
export function decodeRequestFrame(body: Uint8Array): RequestFrame {
  if (body.length < 5) throw malformed(`${body.length} bytes is too short`)
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength)
  const id = view.getUint32(1)
  switch (body[0]) {
    case KIND.request: {
      if (body.length < 7) throw malformed('request header is cut short')
      const protocolLength = view.getUint16(5)
      if (body.length < 7 + protocolLength) throw malformed('protocol name is cut short')
      let protocol: string
      try {
        protocol = utf8.decode(body.subarray(7, 7 + protocolLength))
        checkName('protocol', protocol)
      } catch {
        throw malformed('invalid protocol name')
      }
      return { kind: 'request', id, protocol, data: ownBytes(body.subarray(7 + protocolLength)) }
    }
    case KIND.response:
      return { kind: 'response', id, data: ownBytes(body.subarray(5)) }
    case KIND.error: {
      const code = REMOTE_ERROR_CODES[body[5] ?? -1]
      if (code === undefined) throw malformed('unknown error code')
      if (body.length - 6 > MAX_ERROR_MESSAGE_BYTES) throw malformed('error message is too long')
      let message: string
      try {
        message = utf8.decode(body.subarray(6))
      } catch {
        throw malformed('error message is not UTF-8')
      }
      return { kind: 'error', id, code, message }
    }
    case KIND.cancel:
      if (body.length !== 5) throw malformed('cancel frame has trailing bytes')
      return { kind: 'cancel', id }
    default:
      throw malformed(`unknown frame kind ${body[0]}`)
  }
}

/** A frame longer than this reader takes: its header was read and the rest of it is discarded unread. */
export interface OversizedFrame {
  readonly kind: 'oversized'
  /** The frame's kind byte, undefined when it names no kind. */
  readonly frameKind: RequestFrame['kind'] | undefined
  readonly id: number
  /** The declared length of the frame body. */
  readonly length: number
}

const KIND_NAMES = new Map<number, RequestFrame['kind']>(Object.entries(KIND).map(([name, code]) => [code, name as RequestFrame['kind']]))

/** The length prefix and the 5-byte header (kind and id) that an oversized frame is answered from. */
const OVERSIZED_HEAD_BYTES = LENGTH_PREFIX_BYTES + 5

/**
 * Reassembles length-prefixed frames from stream chunks. A frame whose declared length is over `maxFrameBytes`
 * is never buffered: its 5-byte header (kind and id) is read so that the caller can answer it (a peer with a
 * larger limit is not an attacker), and the rest of it is dropped as it arrives.
 *
 * Memory: once a frame's length is known and allowed, one buffer of exactly that length is allocated and chunks
 * are copied into it, so an incomplete frame holds its declared length and no more, however finely a peer splits
 * it; and no chunk is kept, so a small view never pins the larger receive buffer behind it.
 */
export class FrameReader {
  readonly #maxFrameBytes: number
  /** Bytes of the current frame's prefix (and, for an oversized frame, header) read so far: copied, never viewed. */
  readonly #head = new Uint8Array(OVERSIZED_HEAD_BYTES)
  #headLength = 0
  /** The current frame's body once its length is known and allowed, and how much of it has arrived. */
  #body: Uint8Array | undefined
  #bodyLength = 0
  /** Bytes of an oversized frame still to drop. */
  #skipping = 0

  constructor(maxFrameBytes: number) {
    this.#maxFrameBytes = maxFrameBytes
  }

  /** Adds a chunk from the wire and returns the frame bodies (and oversized frames) it completes. */
  push(chunk: Uint8Array): (Uint8Array | OversizedFrame)[] {
    const frames: (Uint8Array | OversizedFrame)[] = []
    let offset = 0
    while (offset < chunk.length) {
      if (this.#skipping > 0) {
        const dropped = Math.min(this.#skipping, chunk.length - offset)
        this.#skipping -= dropped
        offset += dropped
      } else if (this.#body !== undefined) {
        const copied = Math.min(this.#body.length - this.#bodyLength, chunk.length - offset)
        this.#body.set(chunk.subarray(offset, offset + copied), this.#bodyLength)
        this.#bodyLength += copied
        offset += copied
        if (this.#bodyLength === this.#body.length) frames.push(this.#finishBody())
      } else {
        // Read the prefix; a head still being read past it belongs to an oversized frame, which needs its header.
        const wanted = this.#headLength < LENGTH_PREFIX_BYTES ? LENGTH_PREFIX_BYTES : OVERSIZED_HEAD_BYTES
        const copied = Math.min(wanted - this.#headLength, chunk.length - offset)
        this.#head.set(chunk.subarray(offset, offset + copied), this.#headLength)
        this.#headLength += copied
        offset += copied
        const frame = this.#afterHead()
        if (frame !== undefined) frames.push(frame)
      }
    }
    return frames
  }

  #declaredLength(): number {
    return new DataView(this.#head.buffer).getUint32(0)
  }

  /** Acts on the head read so far: starts a body, or reports an oversized frame and starts dropping it. */
  #afterHead(): Uint8Array | OversizedFrame | undefined {
    if (this.#headLength < LENGTH_PREFIX_BYTES) return undefined
    const length = this.#declaredLength()
    if (length <= this.#maxFrameBytes) {
      this.#headLength = 0
      this.#body = new Uint8Array(length)
      this.#bodyLength = 0
      return length === 0 ? this.#finishBody() : undefined
    }
    if (this.#headLength < OVERSIZED_HEAD_BYTES) return undefined
    const view = new DataView(this.#head.buffer)
    const frame: OversizedFrame = { kind: 'oversized', frameKind: KIND_NAMES.get(this.#head[4] as number), id: view.getUint32(5), length }
    this.#headLength = 0
    this.#skipping = Math.max(0, length - 5)
    return frame
  }

  #finishBody(): Uint8Array {
    const body = this.#body as Uint8Array
    this.#body = undefined
    this.#bodyLength = 0
    return body
  }
}
