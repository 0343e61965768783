/**
 * The wire codecs of Libp2pNetwork: request frames (round trips, reassembly across any chunking, rejection of
 * bad input before it is buffered) and gossip envelopes.
 */
import { loadCrypto, toHex } from '@constellation/crypto'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { GossipErrorCode, messageId } from '../src/index.js'
import { decodeGossipEnvelope, encodeGossipEnvelope } from '../src/libp2p/gossip-envelope.js'
import { decodeRequestFrame, encodeRequestFrame, FrameReader, MAX_ERROR_MESSAGE_BYTES, type RequestFrame } from '../src/libp2p/request-frame.js'

const crypto = await loadCrypto()

// A full collection on demand, so that memory tests measure what is held rather than what is not yet collected.
setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc') as () => void
const malformed = expect.objectContaining({ code: GossipErrorCode.MALFORMED })

const id = fc.integer({ min: 0, max: 0xffffffff })
const protocol = fc.stringMatching(/^\/[\x21-\x7e]{1,40}$/)
const payload = fc.uint8Array({ maxLength: 300 })
const frame: fc.Arbitrary<RequestFrame> = fc.oneof(
  fc.record({ kind: fc.constant('request' as const), id, protocol, data: payload }),
  fc.record({ kind: fc.constant('response' as const), id, data: payload }),
  fc.record({
    kind: fc.constant('error' as const),
    id,
    code: fc.constantFrom(
      GossipErrorCode.UNKNOWN_PROTOCOL,
      GossipErrorCode.REMOTE_ERROR,
      GossipErrorCode.MESSAGE_TOO_LARGE,
      GossipErrorCode.RATE_LIMITED,
      GossipErrorCode.NETWORK_CLOSED,
    ),
    message: fc.string({ maxLength: 100 }),
  }),
  fc.record({ kind: fc.constant('cancel' as const), id }),
)

/** Cuts `bytes` at the given points (any order, duplicates allowed). */
function chop(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const chunks: Uint8Array[] = []
  let start = 0
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(start, point))
    start = point
  }
  return chunks
}

describe('request frames', () => {
  it('round-trip through encode, any chunking, and decode', () => {
    fc.assert(
      fc.property(fc.array(frame, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }), (frames, cuts) => {
        const wire = frames.map(encodeRequestFrame)
        const joined = new Uint8Array(wire.reduce((n, w) => n + w.length, 0))
        let offset = 0
        for (const w of wire) {
          joined.set(w, offset)
          offset += w.length
        }
        const reader = new FrameReader(1024)
        const decoded = chop(joined, cuts)
          .flatMap((chunk) => reader.push(chunk))
          .map((body) => decodeRequestFrame(body as Uint8Array))
        expect(decoded).toEqual(frames)
      }),
    )
  })

  it('report frames over the limit by kind and id, drop their bytes unbuffered, and read on after them', () => {
    fc.assert(
      fc.property(fc.array(frame, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }), (frames, cuts) => {
        const limit = 64
        const wire = frames.map(encodeRequestFrame)
        const joined = Uint8Array.from(wire.flatMap((w) => [...w]))
        const reader = new FrameReader(limit)
        const read = chop(joined, cuts).flatMap((chunk) => reader.push(chunk))
        expect(read).toHaveLength(frames.length)
        read.forEach((item, i) => {
          const sent = frames[i] as RequestFrame
          const length = (wire[i] as Uint8Array).length - 4
          if (length <= limit) expect(decodeRequestFrame(item as Uint8Array)).toEqual(sent)
          else expect(item).toEqual({ kind: 'oversized', frameKind: sent.kind, id: sent.id, length })
        })
      }),
    )
  })

  it('cuts long error messages at a character boundary', () => {
    const message = 'é'.repeat(MAX_ERROR_MESSAGE_BYTES) // 2 bytes each
    const body = encodeRequestFrame({ kind: 'error', id: 1, code: GossipErrorCode.REMOTE_ERROR, message }).subarray(4)
    const decoded = decodeRequestFrame(body)
    expect(decoded).toMatchObject({ kind: 'error', message: 'é'.repeat(MAX_ERROR_MESSAGE_BYTES / 2) })
  })

  it('buffers nothing of a frame over the limit, even one declared at 4 GiB', () => {
    const reader = new FrameReader(100)
    expect(reader.push(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 9, 0, 0, 0, 3]))).toEqual([
      { kind: 'oversized', frameKind: undefined, id: 3, length: 0xffffffff },
    ])
    expect(reader.push(new Uint8Array(1 << 16))).toEqual([]) // dropped as it arrives
    expect(new FrameReader(100).push(Uint8Array.from([0, 0, 0, 100]))).toEqual([]) // at the limit: waits for the rest
  })

  it('holds one buffer of the declared length for a frame dribbled in one byte at a time', () => {
    const length = 1 << 20
    const reader = new FrameReader(length + 16)
    const prefix = new Uint8Array(4)
    new DataView(prefix.buffer).setUint32(0, length)
    const wire = new Uint8Array(length)
    collectGarbage()
    const before = process.memoryUsage()
    for (const byte of prefix) reader.push(Uint8Array.of(byte))
    for (let i = 0; i < length - 1; i++) reader.push(wire.subarray(i, i + 1))
    collectGarbage()
    const after = process.memoryUsage()
    // One object per chunk held would be ~100 MB of heap; one 1 MiB buffer is ~1 MB outside it.
    const held = after.heapUsed - before.heapUsed + (after.arrayBuffers - before.arrayBuffers)
    expect(held).toBeLessThan(8 << 20)
    expect(reader.push(wire.subarray(0, 1))).toHaveLength(1)
  })

  it('keeps no view of a receive buffer holding part of a frame', async () => {
    const reader = new FrameReader(1 << 20)
    const pushPartOfFrame = () => {
      const receive = new Uint8Array(1 << 20)
      new DataView(receive.buffer).setUint32(0, 1_000)
      reader.push(receive.subarray(0, 10)) // the prefix and part of a 1,000-byte body
      return new WeakRef(receive.buffer)
    }
    const received = pushPartOfFrame()
    // A WeakRef keeps its target alive until the job that made it ends.
    await new Promise((resolve) => setImmediate(resolve))
    collectGarbage()
    expect(received.deref()).toBeUndefined()
  })

  it('rejects bodies that do not decode', () => {
    const cases: number[][] = [
      [], // empty
      [1, 0, 0, 0], // short header
      [9, 0, 0, 0, 1], // unknown kind
      [1, 0, 0, 0, 1, 0], // request header cut short
      [1, 0, 0, 0, 1, 0, 9, 0x2f], // protocol longer than the body
      [1, 0, 0, 0, 1, 0, 3, 0x61, 0x62, 0x63], // protocol without the leading slash
      [3, 0, 0, 0, 1, 200], // unknown error code
      [3, 0, 0, 0, 1, 1, 0xff], // error message not UTF-8
      [4, 0, 0, 0, 1, 0], // cancel with trailing bytes
    ]
    for (const body of cases) expect(() => decodeRequestFrame(Uint8Array.from(body))).toThrow(malformed)
  })

  it('hands out payloads as plain Uint8Arrays that do not alias the wire buffer', () => {
    const wire = Buffer.from(encodeRequestFrame({ kind: 'response', id: 7, data: Uint8Array.of(1, 2, 3) }))
    const [body] = new FrameReader(64).push(wire)
    const decoded = decodeRequestFrame(body as Uint8Array)
    if (decoded.kind !== 'response') throw new Error('expected a response')
    expect(Object.getPrototypeOf(decoded.data)).toBe(Uint8Array.prototype)
    wire.fill(0)
    expect(decoded.data).toEqual(Uint8Array.of(1, 2, 3))
  })
})

describe('gossip envelopes', () => {
  it('round-trip, and their SHA-256 is the message id', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\/[\x21-\x7e]{1,255}$/), payload, (topic, data) => {
        const envelope = encodeGossipEnvelope(topic, data)
        expect(decodeGossipEnvelope(envelope)).toEqual({ topic, data })
        expect(toHex(crypto.sha256(envelope))).toBe(messageId(crypto.sha256, topic, data))
      }),
    )
  })

  it('rejects bytes without a valid topic', () => {
    const encode = (text: string) => new TextEncoder().encode(text)
    expect(() => decodeGossipEnvelope('not bytes')).toThrow(malformed)
    expect(() => decodeGossipEnvelope(encode('/no-separator'))).toThrow(malformed)
    expect(() => decodeGossipEnvelope(Uint8Array.of(0, 1, 2))).toThrow(malformed) // empty topic
    expect(() => decodeGossipEnvelope(Uint8Array.from([...encode('no-slash'), 0, 1]))).toThrow(malformed)
    expect(() => decodeGossipEnvelope(Uint8Array.from([...encode('/caf'), 0xe9, 0, 1]))).toThrow(malformed)
    expect(() => decodeGossipEnvelope(Uint8Array.from([...encode(`/${'a'.repeat(256)}`), 0, 1]))).toThrow(malformed)
  })
})
