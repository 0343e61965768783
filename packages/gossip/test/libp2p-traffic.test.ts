/**
 * `traffic()` on Libp2pNetwork: the exact application bytes of request/response frames and gossip envelopes, both
 * ends agreeing, and — through a counting TCP relay between two nodes — what the wire carries on top of them (Noise,
 * Yamux, multistream, identify, Gossipsub's protobuf and control). The overhead is printed, not asserted beyond
 * "the wire carries at least the application bytes": the README quotes one measured run.
 */
import { createServer, type Server, connect, type Socket } from 'node:net'
import { loadCrypto } from '@constellation/crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { createLibp2pNetwork, type Libp2pNetwork, libp2pPeerIdOf, type NetworkLimits, type NetworkTraffic, trafficBytes } from '../src/index.js'

const crypto = await loadCrypto()
/** Heartbeats fast enough that a fresh mesh forms in a fraction of a second (as test/libp2p/local-network.ts). */
const TEST_GOSSIP = { heartbeatIntervalMs: 100 }

let cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
  cleanups = []
})

/** A TCP relay to 127.0.0.1:`port` that counts the bytes it passes each way. */
async function countingRelay(port: number): Promise<{ port: number; bytes(): number }> {
  let bytes = 0
  const sockets = new Set<Socket>()
  const server: Server = createServer((inbound) => {
    const outbound = connect(port, '127.0.0.1')
    for (const socket of [inbound, outbound]) {
      sockets.add(socket)
      socket.on('data', (chunk: Buffer) => {
        bytes += chunk.length
      })
      socket.on('error', () => {
        inbound.destroy()
        outbound.destroy()
      })
      socket.on('close', () => {
        sockets.delete(socket)
        inbound.destroy()
        outbound.destroy()
      })
    }
    inbound.pipe(outbound)
    outbound.pipe(inbound)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  )
  return { port: (server.address() as { port: number }).port, bytes: () => bytes }
}

/** Two nodes; `b` reaches `a` only through a counting relay, so every byte between them passes it. */
async function relayedPair(limits: Partial<NetworkLimits> = {}): Promise<{ a: Libp2pNetwork; b: Libp2pNetwork; wireBytes(): number }> {
  const a = createLibp2pNetwork({ crypto, keyPair: crypto.generateKeyPair(), gossip: TEST_GOSSIP, limits })
  const b = createLibp2pNetwork({ crypto, keyPair: crypto.generateKeyPair(), gossip: TEST_GOSSIP, limits })
  cleanups.push(
    () => b.stop(),
    () => a.stop(),
  )
  await Promise.all([a.start(), b.start()])
  const port = Number(/\/tcp\/(\d+)\//.exec(a.listenAddresses()[0] as string)?.[1])
  const relay = await countingRelay(port)
  await b.dial(`/ip4/127.0.0.1/tcp/${relay.port}/p2p/${libp2pPeerIdOf(a.peerId)}`)
  await Promise.all([a.gossipReady([b.peerId]), b.gossipReady([a.peerId])])
  return { a, b, wireBytes: relay.bytes }
}

const delta = (after: NetworkTraffic, before: NetworkTraffic) => ({
  sent: Object.fromEntries(
    (['request', 'response', 'gossip'] as const).map((kind) => [
      kind,
      { messages: after.sent[kind].messages - before.sent[kind].messages, bytes: after.sent[kind].bytes - before.sent[kind].bytes },
    ]),
  ),
  received: Object.fromEntries(
    (['request', 'response', 'gossip'] as const).map((kind) => [
      kind,
      { messages: after.received[kind].messages - before.received[kind].messages, bytes: after.received[kind].bytes - before.received[kind].bytes },
    ]),
  ),
})

/** Waits until `ready()` holds, polling (traffic lands asynchronously); fails after `timeoutMs`. */
async function until(ready: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!ready()) {
    if (Date.now() > deadline) throw new Error('not reached in time')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe('Libp2pNetwork traffic', () => {
  it('counts each frame and gossip envelope exactly, at both ends', async () => {
    const { a, b } = await relayedPair()
    // No adverts were made, so nothing but what this test sends is application traffic.
    const startA = a.traffic()
    const startB = b.traffic()
    let delivered = 0
    b.subscribe('/t/x', () => {
      delivered++
      return 'accept'
    })
    b.handle('/echo/1', () => new Uint8Array(300))
    await a.publish('/t/x', new Uint8Array(200))
    await until(() => delivered === 1)
    expect(await a.request(b.peerId, '/echo/1', new Uint8Array(100))).toHaveLength(300)
    await new Promise((resolve) => setTimeout(resolve, 100)) // a relay back to a would have come by now
    const gossip = { messages: 1, bytes: 4 + 1 + 200 } // envelope: topic, 0x00, data
    const request = { messages: 1, bytes: 4 + 1 + 4 + 2 + 7 + 100 } // length prefix, kind, id, protocol length, protocol, data
    const response = { messages: 1, bytes: 4 + 1 + 4 + 300 } // length prefix, kind, id, data
    const none = { messages: 0, bytes: 0 }
    expect(delta(a.traffic(), startA)).toEqual({ sent: { request, response: none, gossip }, received: { request: none, response, gossip: none } })
    expect(delta(b.traffic(), startB)).toEqual({ sent: { request: none, response, gossip: none }, received: { request, response: none, gossip } })
  })

  it('carries what both ends count, and measures the wire bytes on top of them', async () => {
    const setupStarted = performance.now()
    // Rate limits lifted: this is a burst.
    const { a, b, wireBytes } = await relayedPair({ maxMessagesPerPeerPerSecond: 1e9, maxRequestsPerPeerPerSecond: 1e9 })
    const setupBytes = wireBytes()
    const setupMs = performance.now() - setupStarted
    const before = { a: a.traffic(), b: b.traffic(), wire: wireBytes() }
    const MESSAGES = 1_024
    const PAYLOAD = 256
    let delivered = 0
    b.subscribe('/bench/gossip', () => {
      delivered++
      return 'accept'
    })
    b.handle('/bench/echo/1', ({ data }) => data)
    for (let i = 0; i < MESSAGES; i++) {
      const data = new Uint8Array(PAYLOAD)
      new DataView(data.buffer).setUint32(0, i)
      await a.publish('/bench/gossip', data)
    }
    await until(() => delivered === MESSAGES, 30_000)
    for (let i = 0; i < MESSAGES; i += 16) {
      await Promise.all(Array.from({ length: 16 }, () => a.request(b.peerId, '/bench/echo/1', new Uint8Array(PAYLOAD))))
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
    const after = { a: a.traffic(), b: b.traffic(), wire: wireBytes() }
    // What one end sent, the other received.
    for (const kind of ['request', 'response', 'gossip'] as const) {
      expect(after.a.sent[kind]).toEqual(after.b.received[kind])
      expect(after.b.sent[kind]).toEqual(after.a.received[kind])
    }
    const application = trafficBytes(after.a, 'sent') + trafficBytes(after.b, 'sent') - trafficBytes(before.a, 'sent') - trafficBytes(before.b, 'sent')
    const wire = after.wire - before.wire
    // Envelopes ('/bench/gossip', 0x00, data), request frames (prefix, kind, id, protocol length, '/bench/echo/1', data), response frames.
    expect(application).toBe(MESSAGES * (13 + 1 + PAYLOAD) + MESSAGES * (4 + 1 + 4 + 2 + 13 + PAYLOAD) + MESSAGES * (4 + 1 + 4 + PAYLOAD))
    expect(wire).toBeGreaterThan(application)
    console.info(
      `traffic overhead: connection setup ${setupBytes.toLocaleString('en-US')} wire bytes (${setupMs.toFixed(0)} ms); ` +
        `${MESSAGES} gossip messages + ${MESSAGES} requests and responses of ${PAYLOAD} B: ` +
        `${wire.toLocaleString('en-US')} wire bytes / ${application.toLocaleString('en-US')} application bytes = ${(wire / application).toFixed(3)}`,
    )
  }, 60_000)
})
