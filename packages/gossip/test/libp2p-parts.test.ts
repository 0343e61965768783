/**
 * Parts of Libp2pNetwork on their own, without sockets: its option checks, the adapter over Gossipsub's internals
 * (against a stand-in Gossipsub), and the publishers' backpressure (against scripted streams).
 */
import { loadCrypto } from '@constellation/crypto'
import type { GossipSub } from '@libp2p/gossipsub'
import type { RPC } from '@libp2p/gossipsub/message'
import type { PeerId as Libp2pPeerId, Stream } from '@libp2p/interface'
import { describe, expect, it } from 'vitest'
import { GossipErrorCode, isGossipError, VirtualClock } from '../src/index.js'
import { countOutboundRpcs, meshPeerIds, pendingHeartbeat, screenInboundRpcs } from '../src/libp2p/gossipsub-internals.js'
import type { Libp2pNode } from '../src/libp2p/libp2p-node.js'
import { checkIdentity, type Libp2pNetworkOptions, resolveLibp2pSettings } from '../src/libp2p/libp2p-options.js'
import { PublishBackpressure } from '../src/libp2p/publish-backpressure.js'
import { TrafficCounter } from '../src/network-traffic.js'

const crypto = await loadCrypto()
const keyPair = crypto.generateKeyPair()
const self = '12D3KooWSelf'

function invalid(run: () => unknown, message: string | RegExp): void {
  let thrown: unknown
  try {
    run()
  } catch (error) {
    thrown = error
  }
  expect(isGossipError(thrown, GossipErrorCode.INVALID_INPUT)).toBe(true)
  expect((thrown as Error).message).toMatch(message)
}

describe('Libp2pNetwork options', () => {
  const resolve = (options: Partial<Libp2pNetworkOptions>) => resolveLibp2pSettings({ crypto, keyPair, ...options }, self)

  it('fills in the defaults', () => {
    const settings = resolve({})
    expect(settings).toMatchObject({
      listen: ['/ip4/127.0.0.1/tcp/0'],
      bootstrap: [],
      announce: [],
      dialFrom: undefined,
      gossip: { heartbeatIntervalMs: 700, meshDegree: 6, publishWaitMs: 1_000 },
      inboundConnectionThreshold: 1_000,
      maxIncomingPendingConnections: 256,
      ipColocationWhitelist: new Set(['127.0.0.1', '::1']),
    })
    expect(settings.connectToDiscovered('ab'.repeat(32))).toBe(false)
    expect(Object.isFrozen(settings.listen)).toBe(true)
  })

  it('checks the identity: a Crypto, and a seed whose public key is the one given', () => {
    expect(() => checkIdentity(crypto, keyPair)).not.toThrow()
    invalid(() => checkIdentity({} as typeof crypto, keyPair), 'crypto must be a Crypto')
    invalid(() => checkIdentity(crypto, { seed: new Uint8Array(5), publicKey: keyPair.publicKey }), 'keyPair.seed must be a 32-byte seed')
    invalid(() => checkIdentity(crypto, { seed: keyPair.seed, publicKey: crypto.generateKeyPair().publicKey }), /is not the public key/)
  })

  it('refuses each bad option with INVALID_INPUT naming it, the first in a fixed order', () => {
    invalid(() => resolve({ listen: ['nope'], bootstrap: ['nope'] }), 'listen: nope is not a multiaddr')
    invalid(() => resolve({ bootstrap: 'x' as unknown as string[] }), 'bootstrap must be an array of multiaddrs')
    invalid(() => resolve({ announce: ['/ip4/1.2.3.4/tcp/1/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'] }), /names peer/)
    invalid(() => resolve({ dialFrom: 'localhost' }), /dialFrom must be an IPv4 or IPv6 address/)
    invalid(() => resolve({ gossip: { meshDegree: 1 }, ipColocationWhitelist: [''] }), 'gossip.meshDegree must be an integer >= 2')
    invalid(() => resolve({ gossip: { publishWaitMs: -1 } }), 'gossip.publishWaitMs must be a finite number >= 0')
    invalid(() => resolve({ gossip: { heartbeatIntervalMs: 5 } }), 'gossip.heartbeatIntervalMs must be at least 10')
    invalid(() => resolve({ ipColocationWhitelist: [''] }), 'ipColocationWhitelist must be a list of IP address strings')
    invalid(() => resolve({ connectToDiscovered: true as unknown as () => boolean }), 'connectToDiscovered must be a function')
  })
})

describe('the adapter over Gossipsub internals', () => {
  const from = { toString: () => 'peer' } as unknown as Libp2pPeerId
  const rpc = (sizes: number[]): RPC => ({ subscriptions: [], messages: sizes.map((size) => ({ topic: 't', data: new Uint8Array(size) })) })

  it('puts the screen in front of handleReceivedRpc, and fails at once without it', async () => {
    const handled: RPC[] = []
    const pubsub = {
      async handleReceivedRpc(_from: Libp2pPeerId, received: RPC) {
        handled.push(received)
      },
    }
    screenInboundRpcs(pubsub as unknown as GossipSub, (_from, received) => ({ ...received, messages: received.messages.slice(1) }))
    await pubsub.handleReceivedRpc(from, rpc([1, 2]))
    expect(handled.map((received) => received.messages.length)).toEqual([1])
    expect(() => screenInboundRpcs({} as GossipSub, (_from, received) => received)).toThrow(/no handleReceivedRpc/)
  })

  it('counts the messages of the RPCs sendRpc sent, and fails at once without it', () => {
    const traffic = new TrafficCounter()
    const pubsub = { sendRpc: (id: string, _rpc: RPC) => id === 'open' }
    countOutboundRpcs(pubsub as unknown as GossipSub, traffic)
    expect(pubsub.sendRpc('open', rpc([3, 4]))).toBe(true)
    expect(pubsub.sendRpc('closed', rpc([100]))).toBe(false)
    expect(traffic.snapshot().sent.gossip).toEqual({ messages: 2, bytes: 7 })
    expect(() => countOutboundRpcs({} as GossipSub, traffic)).toThrow(/no sendRpc/)
  })

  it('reads the mesh and the pending heartbeat when they are there, and nothing when not', () => {
    const timer = setTimeout(() => {}, 0)
    clearTimeout(timer)
    const pubsub = { getMeshPeers: (topic: string) => [`${topic}-peer`], status: { heartbeatTimeout: timer } } as unknown as GossipSub
    expect(meshPeerIds(pubsub, 'carrier')).toEqual(['carrier-peer'])
    expect(pendingHeartbeat(pubsub)).toBe(timer)
    expect(meshPeerIds({} as GossipSub, 'carrier')).toEqual([])
    expect(pendingHeartbeat({} as GossipSub)).toBeUndefined()
  })
})

describe('PublishBackpressure', () => {
  /** A gossip stream whose write buffer is backed up until `drain()` is called. */
  function backedUpStream(protocol = '/meshsub/1.2.0', direction = 'outbound') {
    const target = new EventTarget()
    const stream = Object.assign(target, {
      protocol,
      direction,
      status: 'open',
      writableNeedsDrain: true,
      drain() {
        stream.writableNeedsDrain = false
        target.dispatchEvent(new Event('drain'))
      },
    })
    return stream
  }
  const nodeWith = (streams: object[]) => ({ getConnections: () => [{ streams }] }) as unknown as Libp2pNode

  it('waits for backed-up gossip streams to drain; one that stays backed up is passed over until it drains', async () => {
    const clock = new VirtualClock()
    const backpressure = new PublishBackpressure({ clock, publishWaitMs: 100, maxQueuedMessages: 4, stopping: new AbortController().signal })
    const [slow, quick] = [backedUpStream(), backedUpStream()]
    const others = [backedUpStream('/constellation/request/1'), backedUpStream('/meshsub/1.2.0', 'inbound')]
    const node = nodeWith([slow, quick, ...others])
    const streams = backpressure.backedUpStreams(node)
    expect(streams).toEqual([slow, quick])
    const waited = backpressure.waitForRoom(streams as unknown as Stream[])
    quick.drain()
    clock.step() // the deadline passes with `slow` still backed up
    await waited
    expect(backpressure.backedUpStreams(node)).toEqual([])
    slow.drain()
    slow.writableNeedsDrain = true
    expect(backpressure.backedUpStreams(node)).toEqual([slow])
  })

  it('fails with QUEUE_FULL beyond maxQueuedMessages waiting publishes', async () => {
    const clock = new VirtualClock()
    const backpressure = new PublishBackpressure({ clock, publishWaitMs: 100, maxQueuedMessages: 1, stopping: new AbortController().signal })
    const streams = [backedUpStream()] as unknown as Stream[]
    const first = backpressure.waitForRoom(streams)
    let thrown: unknown
    try {
      await backpressure.waitForRoom(streams)
    } catch (error) {
      thrown = error
    }
    expect(isGossipError(thrown, GossipErrorCode.QUEUE_FULL)).toBe(true)
    expect((thrown as Error).message).toBe('1 publishes are already waiting for room to send')
    clock.step()
    await first
    const again = backpressure.waitForRoom(streams)
    clock.step()
    await again
  })
})
