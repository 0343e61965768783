/**
 * Libp2pNetwork drops a neighbour's gossip for that neighbour's sake (penalised, over its rate limit, oversize)
 * before Gossipsub's dedupe, so the copies other neighbours send of the same message still arrive.
 */
import { loadCrypto } from '@constellation/crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { nextEvent } from './libp2p/peers.js'
import { type Clock, createLibp2pNetwork, type Libp2pNetwork, type NetworkLimits, systemClock } from '../src/index.js'

const crypto = await loadCrypto()
const bytes = (text: string) => new TextEncoder().encode(text)
const text = (data: Uint8Array) => new TextDecoder().decode(data)

let running: Libp2pNetwork[] = []
afterEach(async () => {
  await Promise.allSettled(running.map((node) => node.stop()))
  running = []
})

/** Time that does not pass, so that a rate limiter's bucket never refills during a test. */
const frozenClock: Clock = { now: () => 1_000_000, setTimer: (delayMs, callback) => systemClock.setTimer(delayMs, callback) }

/** Starts `honest`, `relay` and `hub`, with `honest` and `relay` each connected only to `hub`. */
async function star(hubLimits: Partial<NetworkLimits>, hubClock?: Clock) {
  const start = (limits?: Partial<NetworkLimits>, clock?: Clock) => {
    const node = createLibp2pNetwork({
      crypto,
      keyPair: crypto.generateKeyPair(),
      gossip: { heartbeatIntervalMs: 100 },
      ...(limits && { limits }),
      ...(clock && { clock }),
    })
    running.push(node)
    return node
  }
  const hub = start(hubLimits, hubClock)
  const honest = start()
  const relay = start({ maxMessageBytes: 4_096 })
  await Promise.all([hub, honest, relay].map((node) => node.start()))
  await honest.dial(hub.listenAddresses()[0] as string)
  await relay.dial(hub.listenAddresses()[0] as string)
  await Promise.all([hub.gossipReady([honest.peerId, relay.peerId]), honest.gossipReady([hub.peerId]), relay.gossipReady([hub.peerId])])
  return { hub, honest, relay }
}

/** Resolves with the sender of the first message on `topic` whose text is `wanted`. */
function arrival(node: Libp2pNetwork, topic: string, wanted: string): Promise<string> {
  return new Promise((resolve) =>
    node.subscribe(topic, ({ data, from }) => {
      if (text(data) === wanted) resolve(from)
      return text(data).startsWith('bad') ? 'reject' : 'accept'
    }),
  )
}

/** There is no event for a dropped message: wait as the harness's quiesce does, long enough on loopback for
 * the relay's copy to have reached the hub (and, before the fix, to have been marked seen there). */
const quiesce = () => new Promise((resolve) => setTimeout(resolve, 250))

describe('Libp2pNetwork gossip screening', () => {
  it('delivers an honest copy of a message a penalised relay sent first', async () => {
    const { hub, honest, relay } = await star({ maxRejectsPerPeer: 2 })
    const delivered = arrival(hub, '/t/shared', 'shared')
    const penalised = nextEvent(hub, 'peer:penalised')
    await relay.publish('/t/shared', bytes('bad 1'))
    await relay.publish('/t/shared', bytes('bad 2'))
    expect((await penalised).peer).toBe(relay.peerId)
    await relay.publish('/t/shared', bytes('shared'))
    await quiesce()
    await honest.publish('/t/shared', bytes('shared'))
    expect(await delivered).toBe(honest.peerId)
  })

  it('delivers an honest copy of a message a relay over its rate limit sent first', async () => {
    const { hub, honest, relay } = await star({ maxMessagesPerPeerPerSecond: 1 }, frozenClock)
    const first = arrival(hub, '/t/shared', 'first')
    const delivered = arrival(hub, '/t/shared', 'shared')
    await relay.publish('/t/shared', bytes('first'))
    expect(await first).toBe(relay.peerId)
    await relay.publish('/t/shared', bytes('shared')) // over the relay's rate: the hub's clock does not move
    await quiesce()
    await honest.publish('/t/shared', bytes('shared'))
    expect(await delivered).toBe(honest.peerId)
  })

  it('rejects oversize gossip and counts it against the neighbour that sent it', async () => {
    const { hub, honest, relay } = await star({ maxMessageBytes: 1_024, maxRejectsPerPeer: 2 })
    const seen: string[] = []
    hub.subscribe('/t/big', ({ data }) => {
      seen.push(text(data).slice(0, 5))
      return 'accept'
    })
    const penalised = nextEvent(hub, 'peer:penalised')
    await relay.publish('/t/big', bytes(`big 1${'x'.repeat(2_000)}`))
    await relay.publish('/t/big', bytes(`big 2${'x'.repeat(2_000)}`))
    expect(await penalised).toMatchObject({ peer: relay.peerId, rejects: 2 })
    const delivered = arrival(hub, '/t/big', 'small')
    await honest.publish('/t/big', bytes('small'))
    expect(await delivered).toBe(honest.peerId)
    expect(seen).toEqual(['small'])
  })
})
