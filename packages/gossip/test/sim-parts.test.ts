/**
 * The simulator's parts on their own, with stand-in nodes: its options, the trace hash, a node's anti-entropy
 * store, the link model, the topology with its membership events, and the run loop.
 */
import { describe, expect, it } from 'vitest'
import { constantLatency, createRandom, GossipErrorCode, isGossipError, type NetworkEvent, VirtualClock } from '../src/index.js'
import { AntiEntropyStore } from '../src/sim/anti-entropy-store.js'
import { LinkModel, type LinkModelComponents } from '../src/sim/link-model.js'
import { RunLoop } from '../src/sim/run-loop.js'
import type { GossipEnvelope } from '../src/sim/sim-envelope.js'
import type { SimNode } from '../src/sim/sim-node.js'
import { resolveSimSettings, type SimNetworkOptions } from '../src/sim/sim-options.js'
import { SimTopology } from '../src/sim/sim-topology.js'
import { emptySimStats } from '../src/sim/sim-world.js'
import { TraceHash } from '../src/sim/trace-hash.js'

const noCrypto = undefined as unknown as SimNetworkOptions['crypto']
const settings = (options: Partial<SimNetworkOptions>) => resolveSimSettings({ crypto: noCrypto, seed: 1, ...options })

function invalid(options: Partial<SimNetworkOptions>, message: string): void {
  let thrown: unknown
  try {
    settings(options)
  } catch (error) {
    thrown = error
  }
  expect(isGossipError(thrown, GossipErrorCode.INVALID_INPUT)).toBe(true)
  expect((thrown as Error).message).toBe(message)
}

/** A node as the topology and the links see it: an index, a life, and what it was told. */
function standIn(index: number): SimNode & { events: string[]; counted: string[] } {
  const node = {
    index,
    peerId: index.toString(16).padStart(64, '0'),
    running: true,
    epoch: 0,
    events: [] as string[],
    counted: [] as string[],
    emit(event: NetworkEvent) {
      if ('peer' in event) node.events.push(`${event.type} ${Number.parseInt(event.peer, 16)}`)
    },
    countTraffic(direction: string, kind: string, bytes: number) {
      node.counted.push(`${direction} ${kind} ${bytes}`)
    },
  }
  return node as unknown as SimNode & { events: string[]; counted: string[] }
}

describe('sim options', () => {
  it('fills in the defaults', () => {
    const resolved = settings({})
    expect({ ...resolved, latency: undefined }).toEqual({
      latency: undefined,
      lossRate: 0,
      duplicateRate: 0,
      reorderRate: 0,
      reorderDelayMs: 100,
      bandwidthBytesPerSecond: Number.POSITIVE_INFINITY,
      degree: 8,
      gossipTtl: 12,
      antiEntropyIntervalMs: 1000,
      antiEntropyWindowMs: 60_000,
      maxStoredMessages: 1024,
      failureDetectionMs: 1000,
    })
    const latency = resolved.latency(createRandom(1))
    expect(latency).toBeGreaterThanOrEqual(10)
    expect(latency).toBeLessThan(50)
  })

  it('refuses each bad option with INVALID_INPUT naming it, the first in a fixed order', () => {
    invalid({ lossRate: 2 }, 'lossRate must be in [0, 1], got 2')
    invalid({ duplicateRate: -1, degree: -1 }, 'duplicateRate must be in [0, 1], got -1')
    invalid({ bandwidthBytesPerSecond: 0 }, 'bandwidthBytesPerSecond must be positive')
    invalid({ degree: 1.5 }, 'degree must be an integer >= 0, got 1.5')
    invalid({ gossipTtl: 0 }, 'gossipTtl must be an integer >= 1, got 0')
    invalid({ antiEntropyIntervalMs: Number.NaN }, 'antiEntropyIntervalMs must be a finite number >= 0, got NaN')
    invalid({ maxStoredMessages: 0, reorderDelayMs: -1 }, 'maxStoredMessages must be an integer >= 1, got 0')
    invalid({ reorderDelayMs: -1 }, 'reorderDelayMs must be a finite number >= 0, got -1')
  })
})

describe('TraceHash', () => {
  it('is equal for equal histories and differs when two records swap', () => {
    const [a, b, c] = [new TraceHash(), new TraceHash(), new TraceHash()]
    expect(a.digest()).toMatch(/^[0-9a-f]{16}$/)
    for (const hash of [a, b]) {
      hash.record(10, 1, 0, 1, 5)
      hash.record(12.5, 2, 1, 0, 7)
    }
    c.record(12.5, 2, 1, 0, 7)
    c.record(10, 1, 0, 1, 5)
    expect(a.digest()).toBe(b.digest())
    expect(c.digest()).not.toBe(a.digest())
  })
})

describe('AntiEntropyStore', () => {
  const envelope = (id: string): GossipEnvelope => ({ id, topic: '/t', data: new Uint8Array(1), hops: 0, pulled: false })
  const storeAt = (clock: VirtualClock, overrides: { antiEntropyIntervalMs?: number; maxStoredMessages?: number } = {}) =>
    new AntiEntropyStore({ clock, antiEntropyIntervalMs: 100, antiEntropyWindowMs: 1_000, maxStoredMessages: 3, ...overrides })

  it('lists what it holds within the window, and offers only accepted messages a neighbour lacks', () => {
    const clock = new VirtualClock()
    const store = storeAt(clock)
    store.remember(envelope('old'), true)
    clock.advanceTo(600)
    store.remember(envelope('kept'), true)
    store.remember(envelope('rejected'), false)
    store.remember(envelope('theirs'), true)
    expect(store.digest()).toEqual(['kept', 'rejected', 'theirs']) // 'old' made room: at most 3
    clock.advanceTo(1_500)
    expect(store.missingFrom(['theirs']).map((e) => e.id)).toEqual(['kept'])
    clock.advanceTo(1_601)
    store.remember(envelope('new'), true)
    expect(store.digest()).toEqual(['new']) // the rest is past the window
    store.clear()
    expect(store.digest()).toEqual([])
  })

  it('keeps nothing when anti-entropy is off', () => {
    const store = storeAt(new VirtualClock(), { antiEntropyIntervalMs: 0 })
    store.remember(envelope('a'), true)
    expect(store.digest()).toEqual([])
  })
})

describe('LinkModel', () => {
  function links(overrides: Partial<LinkModelComponents['settings']> = {}, reachable = () => true) {
    const clock = new VirtualClock()
    const stats = emptySimStats()
    const traced: number[][] = []
    const model = new LinkModel({
      clock,
      random: createRandom(5),
      stats,
      settings: { ...settings({ latency: constantLatency(10) }), ...overrides },
      maxQueuedMessages: 2,
      maxLinkQueues: () => 100,
      topology: { reachable },
      trace: { record: (_timeMs: number, ...record: number[]) => traced.push(record) },
    })
    return { clock, stats, traced, model }
  }

  it('delivers after the latency, counts and traces it; a receiver that restarted meanwhile loses it', () => {
    const { clock, stats, traced, model } = links()
    const [a, b] = [standIn(0), standIn(1)]
    const arrived: number[] = []
    model.transmit(a, b, 40, 'request', () => arrived.push(clock.now()))
    model.transmit(a, b, 8, 'control', () => arrived.push(clock.now()))
    while (clock.step()) {}
    expect(arrived).toEqual([10, 10])
    expect(traced).toEqual([
      [3, 0, 1, 40],
      [2, 0, 1, 8],
    ])
    expect(a.counted).toEqual(['sent request 40']) // anti-entropy digests are the simulator's own
    expect(b.counted).toEqual(['received request 40'])
    model.transmit(a, b, 40, 'gossip', () => arrived.push(clock.now()))
    ;(b as { epoch: number }).epoch++
    while (clock.step()) {}
    expect(arrived).toHaveLength(2)
    expect(stats).toMatchObject({ lost: 1, bytes: 88, sent: { gossip: 1, control: 1, request: 1, response: 0 } })
  })

  it('loses gossip to the loss rate and across a partition, never requests to the loss rate', () => {
    const { clock, stats, model } = links({ lossRate: 1 })
    const [a, b] = [standIn(0), standIn(1)]
    let arrived = 0
    model.transmit(a, b, 1, 'gossip', () => arrived++)
    model.transmit(a, b, 1, 'response', () => arrived++)
    while (clock.step()) {}
    expect([arrived, stats.lost]).toEqual([1, 1])
    const cut = links({}, () => false)
    cut.model.transmit(a, b, 1, 'request', () => arrived++)
    expect(cut.stats.lost).toBe(1)
  })

  it('queues behind what a link is sending and tail-drops gossip once maxQueuedMessages wait', () => {
    const { clock, stats, model } = links({ bandwidthBytesPerSecond: 1_000 })
    const [a, b] = [standIn(0), standIn(1)]
    const arrived: string[] = []
    for (const name of ['g1', 'g2', 'g3']) model.transmit(a, b, 100, 'gossip', () => arrived.push(`${name}@${clock.now()}`))
    model.transmit(a, b, 100, 'request', () => arrived.push(`r@${clock.now()}`))
    while (clock.step()) {}
    // 100 bytes take 100 ms at 1,000 B/s, after 10 ms of latency; g3 found two waiting, the request queued anyway.
    expect(arrived).toEqual(['g1@110', 'g2@210', 'r@310'])
    expect(stats.lost).toBe(1)
  })
})

describe('SimTopology', () => {
  it('announces joins once per pair, and a leave only if the peer is still gone after failure detection', () => {
    const clock = new VirtualClock()
    const topology = new SimTopology(clock, 1_000)
    const [a, b, c] = [standIn(0), standIn(1), standIn(2)]
    for (const node of [a, b, c]) topology.add(node)
    topology.connect(a, b)
    topology.connect(b, a)
    topology.connect(b, c)
    expect(topology.neighboursOf(b)).toEqual([a, c])
    expect(a.events).toEqual(['peer:join 1'])
    topology.partition([[a.peerId]])
    expect(topology.neighboursOf(b)).toEqual([c])
    clock.advanceTo(500)
    topology.heal() // within the failure-detection delay: nobody hears of a leave
    while (clock.step()) {}
    expect(a.events).toEqual(['peer:join 1'])
    topology.partition([[a.peerId], [b.peerId, c.peerId]])
    while (clock.step()) {}
    expect(a.events).toEqual(['peer:join 1', 'peer:leave 1'])
    expect(b.events).toEqual(['peer:join 0', 'peer:join 2', 'peer:leave 0'])
    expect(() => topology.partition([[a.peerId], [a.peerId]])).toThrow(/is in two partition groups/)
  })
})

describe('RunLoop', () => {
  it('refuses a second run while one is going, and times out runUntil in virtual time', async () => {
    const clock = new VirtualClock()
    const loop = new RunLoop(clock)
    clock.setTimer(50, () => {})
    const first = loop.run()
    await expect(loop.run()).rejects.toMatchObject({ code: GossipErrorCode.INVALID_INPUT })
    expect(await first).toBe(1)
    const never = new Promise<void>(() => {})
    await expect(loop.runUntil(never, 1_000)).rejects.toMatchObject({ code: GossipErrorCode.TIMEOUT })
    expect(clock.now()).toBe(1_050)
  })
})
