/**
 * RequestChannel (the requester's side of request/response with one peer) against a scripted stream, for
 * orderings a real network makes too rare to test: a stream that closes just after it is opened.
 */
import type { Stream } from '@libp2p/interface'
import { describe, expect, it } from 'vitest'
import type { Clock } from '../src/index.js'
import { GossipErrorCode } from '../src/index.js'
import { RequestChannel } from '../src/libp2p/request-channel.js'

/** Time whose timers never fire: a request can then only end by its stream, never by its timeout. */
const stoppedClock: Clock = { now: () => 0, setTimer: () => ({ cancel() {} }) }

/** A stream that closes (as a reset would) in the microtask after the channel starts listening for its close. */
function streamThatClosesAtOnce(): { stream: Stream; sent: Uint8Array[] } {
  const listeners = new Map<string, ((event: { error?: Error }) => void)[]>()
  const sent: Uint8Array[] = []
  const fake = {
    status: 'open',
    writeStatus: 'writable',
    writableNeedsDrain: false,
    addEventListener(type: string, listener: (event: { error?: Error }) => void) {
      listeners.set(type, [...(listeners.get(type) ?? []), listener])
      if (type === 'close') {
        queueMicrotask(() => {
          fake.status = 'reset'
          fake.writeStatus = 'closed'
          for (const close of listeners.get('close') ?? []) close({ error: new Error('reset by the peer') })
        })
      }
    },
    removeEventListener() {},
    send(frame: Uint8Array) {
      if (fake.status !== 'open') throw new Error('stream closed')
      sent.push(frame)
      return true
    },
    abort() {},
  }
  return { stream: fake as unknown as Stream, sent }
}

describe('RequestChannel', () => {
  it('fails a request with PEER_UNREACHABLE when its stream closes before the request is written', async () => {
    const { stream } = streamThatClosesAtOnce()
    const channel = new RequestChannel({
      peer: 'ab'.repeat(32),
      clock: stoppedClock,
      maxFrameBytes: 1 << 10,
      maxInFlight: 4,
      openStream: async () => stream,
      onViolation: () => {},
    })
    const outcome = channel.request('/echo/1', Uint8Array.of(1), 10_000, undefined).then(
      () => 'answered',
      (error: { code?: string }) => error.code,
    )
    // Nothing can answer or time it out: it has settled after a turn of the event loop, or it never will.
    await new Promise((resolve) => setImmediate(resolve))
    expect(await Promise.race([outcome, Promise.resolve('still pending')])).toBe(GossipErrorCode.PEER_UNREACHABLE)
  })

  it('tells its owner it is idle once a peer it cannot reach leaves nothing pending, and not before', async () => {
    let idle = 0
    let refuse: (error: Error) => void = () => {}
    const channel = new RequestChannel({
      peer: 'cd'.repeat(32),
      clock: stoppedClock,
      maxFrameBytes: 1 << 10,
      maxInFlight: 4,
      openStream: () => new Promise<Stream>((_, reject) => (refuse = reject)),
      onViolation: () => {},
      onIdle: () => idle++,
    })
    const failed = (promise: Promise<Uint8Array>) => promise.catch((error: { code?: string }) => error.code)
    const first = failed(channel.request('/echo/1', Uint8Array.of(1), 10_000, undefined))
    const second = failed(channel.request('/echo/1', Uint8Array.of(2), 10_000, undefined))
    await new Promise((resolve) => setImmediate(resolve))
    expect(idle).toBe(0) // still opening, two pending
    refuse(new Error('no route to peer'))
    expect(await Promise.all([first, second])).toEqual([GossipErrorCode.PEER_UNREACHABLE, GossipErrorCode.PEER_UNREACHABLE])
    expect(idle).toBe(1)
  })
})
