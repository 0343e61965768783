/**
 * How event streams end: closing the node ends every open stream and does not wait on them, closing the HTTP API
 * alone does the same, and a client that falls too far behind is dropped instead of buffered without bound.
 */
import { describe, expect, it } from 'vitest'
import { EventStream, SlowClientError } from '../src/explorer/event-stream.js'
import type { ExplorerAsset } from '../src/explorer/explorer-assets.js'
import { nodeExplorer } from '../src/explorer/explorer-module.js'
import { openEvents, startNetwork } from './explorer-api-harness.js'

const bundler = async (): Promise<readonly ExplorerAsset[]> => []

describe('event streams when the node closes', () => {
  it('closing the node ends the open streams at once', async () => {
    const net = await startNetwork({ count: 1, bundler })
    try {
      const streams = [await openEvents(net.url(0, '/v1/events')), await openEvents(net.url(0, '/v1/events'))]
      for (const stream of streams) await stream.next((event) => event.kind === 'hello')
      expect(nodeExplorer(net.nodes[0]!)?.events.streams).toBe(2)
      // The close returns (a stream that held it up would time the test out), and it ended the streams.
      await net.nodes[0]!.close()
      await Promise.all(streams.map((stream) => stream.ended))
      expect(nodeExplorer(net.nodes[0]!)).toBeUndefined()
    } finally {
      await net.close()
    }
  })

  it('closing the HTTP API alone ends them too, and does not hang', async () => {
    const net = await startNetwork({ count: 1, bundler })
    try {
      const stream = await openEvents(net.url(0, '/v1/events'))
      await stream.next((event) => event.kind === 'hello')
      await net.apis[0]!.close()
      await stream.ended
      await expect.poll(() => nodeExplorer(net.nodes[0]!)?.events.streams).toBe(0)
    } finally {
      await net.close()
    }
  })
})

describe('a slow client', () => {
  it('is dropped once it falls more than the limit behind, not buffered', () => {
    const stream = new EventStream(100)
    const errors: unknown[] = []
    stream.readable.on('error', (error) => errors.push(error))
    const frame = `event: chain\ndata: ${'x'.repeat(20)}\n\n`
    // Nobody reads: the first frames wait in the buffer, the one that would pass 100 bytes drops the client.
    stream.send(frame)
    stream.send(frame)
    expect(stream.open).toBe(true)
    expect(stream.readable.readableLength).toBe(2 * frame.length)
    stream.send(frame)
    expect(stream.open).toBe(false)
    expect(stream.readable.destroyed).toBe(true)
    stream.send(frame)
    return new Promise<void>((resolve) => {
      setImmediate(() => {
        expect(errors).toHaveLength(1)
        expect(errors[0]).toBeInstanceOf(SlowClientError)
        resolve()
      })
    })
  })

  it('keeps a client that reads, however many frames pass', async () => {
    const stream = new EventStream(100)
    let received = 0
    stream.readable.on('data', (chunk: Buffer) => (received += chunk.length))
    const frame = `event: chain\ndata: ${'x'.repeat(20)}\n\n`
    for (let i = 0; i < 50; i++) {
      stream.send(frame)
      await new Promise((resolve) => setImmediate(resolve))
    }
    expect(stream.open).toBe(true)
    expect(received).toBe(50 * frame.length)
    stream.end()
    expect(stream.open).toBe(false)
  })
})
