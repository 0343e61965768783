/**
 * Libp2pNetwork's publish under a neighbour that stops reading: the wait for room is bounded, the stalled
 * neighbour is passed over, and publishes waiting for room beyond `maxQueuedMessages` fail with QUEUE_FULL.
 */
import { loadCrypto, toHex } from '@constellation/crypto'
import { RPC } from '@libp2p/gossipsub/message'
import { identify } from '@libp2p/identify'
import type { Libp2p, Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import { rawPeerConfig } from './libp2p/peers.js'
import { createLibp2pNetwork, GossipErrorCode, type Libp2pNetwork, type NetworkLimits } from '../src/index.js'
import { GOSSIP_CARRIER_TOPIC } from '../src/libp2p/gossip-envelope.js'

const crypto = await loadCrypto()
const MESHSUB = ['/meshsub/1.2.0', '/meshsub/1.1.0']

let running: { stop(): void | Promise<void> }[] = []
afterEach(async () => {
  await Promise.allSettled(running.map(async (node) => node.stop()))
  running = []
})

function start(limits?: Partial<NetworkLimits>): Libp2pNetwork {
  const node = createLibp2pNetwork({
    crypto,
    keyPair: crypto.generateKeyPair(),
    gossip: { heartbeatIntervalMs: 100, publishWaitMs: 100 },
    ...(limits && { limits }),
  })
  running.push(node)
  return node
}

/**
 * A peer that says it takes gossip on the carrier topic and then never reads what it is sent: it accepts the
 * gossip streams opened to it and pauses them, so the sender's writes back up.
 */
async function stalledPeer(): Promise<{ node: Libp2p; inbound: Promise<Stream> }> {
  const node = await createLibp2p({
    ...(await rawPeerConfig()),
    services: { identify: identify() },
  })
  running.push(node)
  const inbound = new Promise<Stream>((resolve) =>
    node.handle(MESHSUB, (stream) => {
      stream.pause()
      resolve(stream)
    }),
  )
  return { node, inbound }
}

/** Tells `to` that `from` subscribes to the carrier topic, on a gossip stream of its own. */
async function announceSubscription(from: Libp2p, to: Libp2pNetwork): Promise<void> {
  const stream = await from.dialProtocol(multiaddr(to.listenAddresses()[0] as string), MESHSUB)
  const rpc = RPC.encode({ subscriptions: [{ subscribe: true, topic: GOSSIP_CARRIER_TOPIC }], messages: [] })
  if (rpc.length >= 128) throw new Error('a one-byte varint length prefix is assumed')
  stream.send(Uint8Array.of(rpc.length, ...rpc))
}

const large = (i: number) => {
  const data = new Uint8Array(64 * 1024)
  new DataView(data.buffer).setUint32(0, i)
  return data
}

/** Publishes large messages from `publisher` until its gossip stream to the stalled peer is backed up. */
async function backUp(publisher: Libp2pNetwork, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await publisher.publish('/t/large', large(i))
}

describe('Libp2pNetwork publish behind a stalled neighbour', () => {
  it('goes on without the stalled neighbour and delivers to the others', async () => {
    const publisher = start({ maxMessagesPerPeerPerSecond: 1e6 })
    const honest = start({ maxMessagesPerPeerPerSecond: 1e6 })
    await Promise.all([publisher.start(), honest.start()])
    const stalled = await stalledPeer()
    await honest.dial(publisher.listenAddresses()[0] as string)
    await stalled.node.dial(multiaddr(publisher.listenAddresses()[0] as string))
    await stalled.inbound
    await announceSubscription(stalled.node, publisher)
    await publisher.gossipReady([honest.peerId])
    await honest.gossipReady([publisher.peerId])
    let delivered = 0
    const all = new Promise<void>((resolve) =>
      honest.subscribe('/t/large', () => {
        if (++delivered === 200) resolve()
        return 'accept'
      }),
    )
    await backUp(publisher, 200) // 12.5 MiB: far past what the stalled peer's stream buffers
    await all
    expect(delivered).toBe(200)
  })

  it('fails publishes waiting for room beyond maxQueuedMessages with QUEUE_FULL', async () => {
    const publisher = start({ maxMessagesPerPeerPerSecond: 1e6, maxQueuedMessages: 2 })
    await publisher.start()
    const stalled = await stalledPeer()
    await stalled.node.dial(multiaddr(publisher.listenAddresses()[0] as string))
    await stalled.inbound
    await announceSubscription(stalled.node, publisher)
    await publisher.gossipReady([toHex(stalled.node.peerId.publicKey?.raw as Uint8Array)])
    // Publish three at once until the stream is backed up: the first two then wait for room and the third,
    // beyond maxQueuedMessages, is refused (a publish decides whether to wait before its first await).
    for (let i = 0; i < 1_000; i += 3) {
      const results = await Promise.allSettled([0, 1, 2].map((k) => publisher.publish('/t/large', large(i + k))))
      if (results.some((result) => result.status === 'rejected')) {
        expect(results.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'rejected'])
        expect((results[2] as PromiseRejectedResult).reason).toMatchObject({ code: GossipErrorCode.QUEUE_FULL })
        return
      }
    }
    expect.fail('the stalled peer’s stream never backed up')
  })
})
