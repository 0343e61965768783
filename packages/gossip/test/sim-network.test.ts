import { loadCrypto } from '@constellation/crypto'
import { describe, expect, it } from 'vitest'
import {
  constantLatency,
  GossipErrorCode,
  logNormalLatency,
  type Network,
  SimNetwork,
  type SimNetworkOptions,
  type SimNode,
  uniformLatency,
  createRandom,
} from '../src/index.js'
import { ADVERT_TOPIC } from '../src/advert/advert-book.js'
import { encodeSignedAdvert, signResourceAdvert } from '../src/advert/resource-advert.js'

const crypto = await loadCrypto()
const bytes = (text: string) => new TextEncoder().encode(text)

function world(options: Partial<SimNetworkOptions> = {}): SimNetwork {
  return new SimNetwork({ crypto, seed: 7, ...options })
}

/** Counts, per node, the distinct messages its handler saw on `topic`. */
function countAt(nodes: readonly Network[], topic: string): Map<string, Set<string>> {
  const seen = new Map<string, Set<string>>()
  for (const node of nodes) {
    const mine = new Set<string>()
    seen.set(node.peerId, mine)
    node.subscribe(topic, (message) => {
      if (mine.has(message.id)) throw new Error(`${node.peerId} saw ${message.id} twice`)
      mine.add(message.id)
      return 'accept'
    })
  }
  return seen
}

/** A scripted run with every kind of trouble; returns its trace hash. */
async function troubledRun(seed: number): Promise<{ trace: string; delivered: number; now: number }> {
  const sim = new SimNetwork({
    crypto,
    seed,
    lossRate: 0.1,
    duplicateRate: 0.05,
    reorderRate: 0.1,
    latency: logNormalLatency(30),
    bandwidthBytesPerSecond: 1_000_000,
    antiEntropyIntervalMs: 500,
  })
  const nodes = await sim.addNodes(60)
  countAt(nodes, '/trace')
  for (let i = 0; i < 20; i++) await nodes[i % nodes.length]!.publish('/trace', bytes(`m${i}`))
  await sim.run({ until: 2_000 })
  sim.partition([nodes.slice(0, 30).map((n) => n.peerId)])
  sim.crash(nodes[40]!.peerId)
  for (let i = 20; i < 40; i++) await nodes[(i * 7) % 30]!.publish('/trace', bytes(`m${i}`))
  await sim.run({ until: 4_000 })
  sim.heal()
  sim.restart(nodes[40]!.peerId)
  await sim.run({ until: 10_000 })
  return { trace: sim.traceHash(), delivered: sim.stats.delivered, now: sim.clock.now() }
}

describe('SimNetwork determinism', () => {
  it('one seed reproduces a run exactly; another seed does not', async () => {
    const first = await troubledRun(42)
    const second = await troubledRun(42)
    const other = await troubledRun(43)
    expect(second).toEqual(first)
    expect(other.trace).not.toBe(first.trace)
    expect(first.delivered).toBeGreaterThan(0)
  })
})

describe('SimNetwork epidemic gossip', () => {
  it('reaches all of 2,000 nodes once each, in a few hops', async () => {
    const sim = world({ antiEntropyIntervalMs: 0, latency: constantLatency(10) })
    const nodes = await sim.addNodes(2_000)
    const seen = countAt(nodes, '/wide')
    await nodes[0]!.publish('/wide', bytes('to everyone'))
    await sim.run()
    const reached = [...seen.values()].filter((ids) => ids.size === 1).length
    expect(reached).toBe(1_999) // everyone but the publisher
    // Hops: with degree 8 the diameter is small; constant 10 ms links make time = 10 ms x hops.
    expect(sim.clock.now()).toBeLessThanOrEqual(10 * 8)
    expect(sim.stats.duplicates).toBeGreaterThan(0)
  })

  it('delivers each message once even when links duplicate and reorder', async () => {
    const sim = world({ duplicateRate: 0.5, reorderRate: 0.5, antiEntropyIntervalMs: 0 })
    const nodes = await sim.addNodes(50)
    const seen = countAt(nodes, '/dup') // throws inside the handler on a second delivery
    for (let i = 0; i < 10; i++) await nodes[i]!.publish('/dup', bytes(`d${i}`))
    await sim.run()
    for (const [peer, ids] of seen) expect(ids.size, peer).toBe(nodes.findIndex((n) => n.peerId === peer) < 10 ? 9 : 10)
    expect(sim.stats.rejected).toBe(0)
  })

  it('stops at the TTL', async () => {
    const sim = world({ degree: 0, gossipTtl: 3, antiEntropyIntervalMs: 0 })
    const nodes = Array.from({ length: 6 }, () => sim.addNode())
    for (let i = 1; i < nodes.length; i++) sim.connect(nodes[i]!, nodes[i - 1]!)
    for (const node of nodes) await node.start()
    const seen = countAt(nodes, '/ttl')
    await nodes[0]!.publish('/ttl', bytes('short walk'))
    await sim.run()
    expect(nodes.map((n) => seen.get(n.peerId)!.size)).toEqual([0, 1, 1, 1, 0, 0])
  })

  it('under 10% loss, anti-entropy brings every node the message', async () => {
    const lossy = world({ lossRate: 0.1, degree: 3, antiEntropyIntervalMs: 0, seed: 11 })
    const withoutPull = await lossy.addNodes(300)
    const missing = countAt(withoutPull, '/lossy')
    await withoutPull[0]!.publish('/lossy', bytes('x'))
    await lossy.run()
    const reachedWithout = [...missing.values()].filter((ids) => ids.size === 1).length

    const healed = world({ lossRate: 0.1, degree: 3, antiEntropyIntervalMs: 500, seed: 11 })
    const withPull = await healed.addNodes(300)
    const seen = countAt(withPull, '/lossy')
    await withPull[0]!.publish('/lossy', bytes('x'))
    await healed.run({ until: 10_000 })
    const reachedWith = [...seen.values()].filter((ids) => ids.size === 1).length
    expect(reachedWithout).toBeLessThan(299) // loss does cost deliveries without pulls...
    expect(reachedWith).toBe(299) // ...and pulls recover all of them
  })
})

describe('SimNetwork partitions, crashes and restarts', () => {
  it('a partition keeps messages on one side until it heals, then anti-entropy catches up', async () => {
    const sim = world({ antiEntropyIntervalMs: 250 })
    const nodes = await sim.addNodes(40)
    const seen = countAt(nodes, '/split')
    const left = nodes.slice(0, 20)
    sim.partition([left.map((n) => n.peerId)])
    await left[0]!.publish('/split', bytes('left only'))
    await sim.run({ until: sim.clock.now() + 3_000 })
    const reached = (group: readonly SimNode[]) => group.filter((n) => seen.get(n.peerId)!.size === 1).length
    expect(reached(left)).toBe(19)
    expect(reached(nodes.slice(20))).toBe(0)
    sim.heal()
    await sim.run({ until: sim.clock.now() + 5_000 })
    expect(reached(nodes.slice(20))).toBe(20)
  })

  it('a crashed node misses traffic, and after restart pulls what it missed', async () => {
    const sim = world({ antiEntropyIntervalMs: 250 })
    const nodes = await sim.addNodes(20)
    const seen = countAt(nodes, '/crash')
    const victim = nodes[5]!
    const watcher = sim.neighboursOf(victim)[0]!
    const left: string[] = []
    watcher.addListener((event) => {
      if (event.type === 'peer:leave') left.push(event.peer)
    })
    sim.crash(victim.peerId)
    expect(victim.running).toBe(false)
    await nodes[1]!.publish('/crash', bytes('while down'))
    await sim.run({ until: sim.clock.now() + 2_000 })
    expect(seen.get(victim.peerId)!.size).toBe(0)
    expect(left).toEqual([victim.peerId])
    expect(watcher.peers()).not.toContain(victim.peerId)
    sim.restart(victim.peerId)
    await sim.run({ until: sim.clock.now() + 3_000 })
    expect(seen.get(victim.peerId)!.size).toBe(1)
    await expect(victim.publish('/crash', bytes('after restart'))).resolves.toBeUndefined()
  })

  it('requests to a crashed node time out; requests from it fail as closed', async () => {
    const sim = world({ degree: 0 })
    const [a, b] = [sim.addNode(), sim.addNode()]
    sim.connect(a, b)
    await a.start()
    await b.start()
    b.handle('/echo/1', ({ data }) => data)
    const pendingFromB = b.request(a.peerId, '/none/1', bytes('x'), { timeout: 5_000 })
    sim.crash(b.peerId)
    await expect(pendingFromB).rejects.toMatchObject({ code: GossipErrorCode.NETWORK_CLOSED })
    await expect(sim.runUntil(a.request(b.peerId, '/echo/1', bytes('x'), { timeout: 1_000 }))).rejects.toMatchObject({
      code: GossipErrorCode.TIMEOUT,
    })
    sim.restart(b.peerId)
    expect(await sim.runUntil(a.request(b.peerId, '/echo/1', bytes('back')))).toEqual(bytes('back'))
  })
})

describe('SimNetwork limits', () => {
  it('drops a flooding neighbour’s messages beyond its rate', async () => {
    const sim = world({
      degree: 0,
      antiEntropyIntervalMs: 0,
      latency: constantLatency(10),
      limits: { maxMessagesPerPeerPerSecond: 100 },
    })
    const [a, b] = [sim.addNode(), sim.addNode()]
    sim.connect(a, b)
    await a.start()
    await b.start()
    const seen = countAt([b], '/flood')
    for (let i = 0; i < 1_000; i++) await a.publish('/flood', bytes(`f${i}`))
    await sim.run()
    const got = seen.get(b.peerId)!.size
    expect(got).toBe(100) // one second's burst, all sent at one instant
    expect(sim.stats.throttled).toBe(900)
  })

  it('serves requests up to the rate limit, then answers RATE_LIMITED', async () => {
    const sim = world({ degree: 0, limits: { maxRequestsPerPeerPerSecond: 10 } })
    const [a, b] = [sim.addNode(), sim.addNode()]
    sim.connect(a, b)
    await a.start()
    await b.start()
    b.handle('/echo/1', ({ data }) => data)
    const outcomes = await sim.runUntil(Promise.allSettled(Array.from({ length: 15 }, () => a.request(b.peerId, '/echo/1', bytes('x')))))
    const limited = outcomes.filter((o) => o.status === 'rejected' && (o.reason as { code?: string }).code === GossipErrorCode.RATE_LIMITED)
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(10)
    expect(limited).toHaveLength(5)
  })

  it('delays big messages by their size over a slow link and tail-drops beyond the queue', async () => {
    const sim = world({
      degree: 0,
      antiEntropyIntervalMs: 0,
      latency: constantLatency(10),
      bandwidthBytesPerSecond: 100_000,
      limits: { maxQueuedMessages: 4 },
    })
    const [a, b] = [sim.addNode(), sim.addNode()]
    sim.connect(a, b)
    await a.start()
    await b.start()
    const arrivals: number[] = []
    b.subscribe('/big', () => {
      arrivals.push(sim.clock.now())
      return 'accept'
    })
    for (let i = 0; i < 8; i++) await a.publish('/big', new Uint8Array(10_000).fill(i))
    await sim.run()
    // 10 kB at 100 kB/s = 100 ms each, queued one after another; at most 4 transmissions wait on the link.
    expect(arrivals).toEqual([110, 210, 310, 410])
    expect(sim.stats.lost).toBe(4)
  })

  it('rejects forged and ignores stale resource adverts', async () => {
    const sim = world({ degree: 0 })
    const [a, b] = [sim.addNode(), sim.addNode()]
    sim.connect(a, b)
    await a.start()
    await b.start()
    const advert = { roles: ['basic'], capacity: {}, uptimeSeconds: 1, version: '1' }
    const signed = signResourceAdvert(crypto, a.keyPair, advert, 5, 0)
    const forged = encodeSignedAdvert({ ...signed, advert: { ...advert, roles: ['validator'] } })
    await a.publish(ADVERT_TOPIC, forged)
    await sim.run({ until: sim.clock.now() + 100 })
    expect(b.advertOf(a.peerId)).toBeUndefined()
    expect(sim.stats.rejected).toBe(1)
    await a.publish(ADVERT_TOPIC, encodeSignedAdvert(signed))
    await a.publish(ADVERT_TOPIC, encodeSignedAdvert(signResourceAdvert(crypto, a.keyPair, { ...advert, uptimeSeconds: 0 }, 4, 0)))
    await sim.run({ until: sim.clock.now() + 100 })
    expect(b.advertOf(a.peerId)?.sequence).toBe(5)
    expect(sim.stats.rejected).toBe(1)
  })

  it('validates its options', () => {
    expect(() => world({ lossRate: 2 })).toThrow(expect.objectContaining({ code: GossipErrorCode.INVALID_INPUT }))
    expect(() => world({ degree: -1 })).toThrow(expect.objectContaining({ code: GossipErrorCode.INVALID_INPUT }))
    expect(() => world({ limits: { maxMessageBytes: 0 } })).toThrow(expect.objectContaining({ code: GossipErrorCode.INVALID_INPUT }))
    expect(() => uniformLatency(5, 1)).toThrow(RangeError)
  })
})

describe('async handlers on virtual time', () => {
  it('a handler that awaits a request judges at the virtual time its answer arrives', async () => {
    const sim = world({ degree: 0, antiEntropyIntervalMs: 0, latency: constantLatency(10) })
    const [a, b, c] = [sim.addNode(), sim.addNode(), sim.addNode()]
    sim.connect(a, b)
    sim.connect(b, c)
    for (const node of [a, b, c]) await node.start()
    a.handle('/check/1', ({ data }) => Uint8Array.of(data[0] === 1 ? 1 : 0))
    b.subscribe('/checked', async (message) => {
      const answer = await b.request(a.peerId, '/check/1', message.data)
      return answer[0] === 1 ? 'accept' : 'reject'
    })
    const atC: number[] = []
    c.subscribe('/checked', () => {
      atC.push(sim.clock.now())
      return 'accept'
    })
    await a.publish('/checked', Uint8Array.of(1))
    await a.publish('/checked', Uint8Array.of(2))
    await sim.run()
    // a -> b (10 ms), b asks a and hears back (20 ms), b -> c (10 ms)
    expect(atC).toEqual([40])
  })
})

describe('seeded randomness', () => {
  it('repeats per seed and stays in range', () => {
    const a = createRandom('seed')
    const b = createRandom('seed')
    const draws = Array.from({ length: 100 }, () => a.next())
    expect(Array.from({ length: 100 }, () => b.next())).toEqual(draws)
    expect(draws.every((x) => x >= 0 && x < 1)).toBe(true)
    const ints = Array.from({ length: 1_000 }, () => a.int(6))
    expect(new Set(ints)).toEqual(new Set([0, 1, 2, 3, 4, 5]))
    expect(createRandom(1).next()).not.toBe(createRandom(2).next())
    expect(() => a.int(0)).toThrow(RangeError)
  })
})
