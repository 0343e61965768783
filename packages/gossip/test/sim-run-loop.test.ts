/** The simulator's run loop and membership events: regressions for issues found in review. */
import { loadCrypto } from '@constellation/crypto'
import { describe, expect, it } from 'vitest'
import { constantLatency, GossipErrorCode, type NetworkEvent, SimNetwork, type SimNetworkOptions, systemClock } from '../src/index.js'
import { PenaltyBox } from '../src/limits/penalty-box.js'

const crypto = await loadCrypto()
const bytes = (text: string) => new TextEncoder().encode(text)

async function pair(options: Partial<SimNetworkOptions> = {}) {
  const sim = new SimNetwork({ crypto, seed: 3, degree: 0, latency: constantLatency(10), ...options })
  const [a, b] = [sim.addNode(), sim.addNode()]
  sim.connect(a, b)
  await a.start()
  await b.start()
  return { sim, a, b }
}

describe('run loop', () => {
  it('resumes plain awaits at the virtual instant their promise settled', async () => {
    const { sim, a, b } = await pair({ antiEntropyIntervalMs: 0 })
    b.handle('/echo/1', ({ data }) => data)
    const resumedAt: number[] = []
    const client = (async () => {
      for (let i = 0; i < 3; i++) {
        await a.request(b.peerId, '/echo/1', bytes(`q${i}`))
        resumedAt.push(sim.clock.now())
      }
    })()
    await sim.run({ until: 1_000 })
    await client
    expect(resumedAt).toEqual([20, 40, 60])
  })

  it('gives the same trace for the same seed with async handlers and requests', async () => {
    const scripted = async () => {
      const sim = new SimNetwork({ crypto, seed: 9, lossRate: 0.05, antiEntropyIntervalMs: 300 })
      const nodes = await sim.addNodes(40)
      for (const node of nodes) {
        node.handle('/score/1', async ({ data }) => {
          await Promise.resolve()
          return Uint8Array.of((data[0] ?? 0) % 7)
        })
        node.subscribe('/async', async (message) => {
          const peers = node.peers()
          const answer = await node.request(peers[0] ?? node.peerId, '/score/1', message.data).catch(() => Uint8Array.of(9))
          return answer[0] === 3 ? 'reject' : 'accept'
        })
      }
      for (let i = 0; i < 20; i++) await nodes[i]!.publish('/async', Uint8Array.of(i))
      await sim.run({ until: 5_000 })
      return { trace: sim.traceHash(), delivered: sim.stats.delivered, requests: sim.stats.sent.request }
    }
    const first = await scripted()
    expect(await scripted()).toEqual(first)
    expect(first.requests).toBeGreaterThan(100)
  })

  it('never moves time past events it did not run', async () => {
    const sim = new SimNetwork({ crypto, seed: 1 })
    await sim.addNodes(10)
    await sim.run({ until: 10_000, maxEvents: 5 })
    const before = sim.clock.now()
    const next = sim.clock.queue.peek()
    expect(next).toBeDefined()
    expect(before).toBeLessThanOrEqual(next!.time)
  })

  it('ends a run without a deadline when only anti-entropy timers are left', async () => {
    const sim = new SimNetwork({ crypto, seed: 1, antiEntropyIntervalMs: 100 })
    const nodes = await sim.addNodes(5)
    await nodes[0]!.publish('/t', bytes('x'))
    const events = await sim.run()
    expect(events).toBeLessThan(1_000)
    expect(sim.clock.now()).toBeLessThan(1_000)
  })

  it('refuses to run twice at once', async () => {
    const { sim, a, b } = await pair()
    b.handle('/slow/1', () => new Promise(() => {}))
    const first = sim.runUntil(a.request(b.peerId, '/slow/1', bytes('x'), { timeout: 500 })).catch(() => undefined)
    await expect(sim.run({ until: 100 })).rejects.toMatchObject({ code: GossipErrorCode.INVALID_INPUT })
    await first
  })
})

describe('membership events', () => {
  function watch(node: { addListener(l: (e: NetworkEvent) => void): () => void }, clock: { now(): number }) {
    const events: string[] = []
    node.addListener((event) => {
      if (event.type === 'peer:join' || event.type === 'peer:leave') events.push(`${event.type}@${clock.now()}`)
    })
    return events
  }

  it('a restart within the detection delay is not announced as a leave', async () => {
    const { sim, a, b } = await pair({ failureDetectionMs: 1_000 })
    const events = watch(a, sim.clock)
    sim.crash(b.peerId)
    await sim.run({ until: 100 })
    sim.restart(b.peerId)
    await sim.run({ until: 3_000 })
    expect(events).toEqual([])
    expect(a.peers()).toEqual([b.peerId])
  })

  it('a longer outage is a leave then a join, in that order, once each', async () => {
    const { sim, a } = await pair({ failureDetectionMs: 1_000 })
    const events = watch(a, sim.clock)
    sim.partition([[a.peerId]])
    await sim.run({ until: 2_000 })
    sim.heal()
    sim.partition([[a.peerId]])
    sim.heal()
    await sim.run({ until: 4_000 })
    expect(events).toEqual(['peer:leave@1000', 'peer:join@2000'])
  })
})

describe('anti-entropy and penalties', () => {
  it('does not resend a rejected message, nor blame its honest sender after a restart', async () => {
    const { sim, a, b } = await pair({ antiEntropyIntervalMs: 200, limits: { maxRejectsPerPeer: 3 } })
    const penalised: string[] = []
    b.addListener((event) => {
      if (event.type === 'peer:penalised') penalised.push(event.peer)
    })
    let judged = 0
    b.subscribe('/bad', () => {
      judged++
      return 'reject'
    })
    await a.publish('/bad', bytes('nope'))
    await sim.run({ until: 5_000 })
    expect(judged).toBe(1)
    expect(sim.stats.duplicates).toBe(0)
    sim.crash(b.peerId)
    sim.restart(b.peerId)
    await sim.run({ until: 10_000 })
    expect(penalised).toEqual([])
  })

  it('a penalty record is forgotten once its window has passed', () => {
    let now = 0
    const box = new PenaltyBox({ now: () => now, setTimer: systemClock.setTimer }, 3, 1_000)
    for (let i = 0; i < 1_000; i++) box.reject(`peer-${i}`)
    now = 5_000
    box.reject('late')
    expect(box.isPenalised('peer-1')).toBe(false)
    // The sweep runs inside reject(): only the late peer remains on record.
    expect(box.recordCount()).toBe(1)
  })
})

describe('links and options', () => {
  it('requests queue behind a saturated link instead of being dropped', async () => {
    const { sim, a, b } = await pair({ bandwidthBytesPerSecond: 10_000, antiEntropyIntervalMs: 0, limits: { maxQueuedMessages: 2 } })
    b.handle('/echo/1', ({ data }) => data)
    for (let i = 0; i < 10; i++) await a.publish('/fill', new Uint8Array(5_000).fill(i))
    const answers = await sim.runUntil(Promise.all(Array.from({ length: 5 }, () => a.request(b.peerId, '/echo/1', new Uint8Array(0)))))
    expect(answers).toHaveLength(5)
  })

  it('rejects bad timeouts, latency models and limits with typed errors', async () => {
    const { a, b } = await pair()
    for (const timeout of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(a.request(b.peerId, '/x/1', bytes('x'), { timeout })).rejects.toMatchObject({ code: GossipErrorCode.INVALID_INPUT })
    }
    expect(() => new SimNetwork({ crypto, seed: 1, antiEntropyIntervalMs: Number.NaN })).toThrow(
      expect.objectContaining({ code: GossipErrorCode.INVALID_INPUT }),
    )
    expect(() => new SimNetwork({ crypto, seed: 1, limits: { seenCacheSize: 1.5 } })).toThrow(expect.objectContaining({ code: GossipErrorCode.INVALID_INPUT }))
    const broken = new SimNetwork({ crypto, seed: 1, latency: () => Number.NaN })
    const [x] = await broken.addNodes(2)
    await expect(x!.publish('/t', bytes('x'))).rejects.toMatchObject({ code: GossipErrorCode.INVALID_INPUT })
  })

  it('the system clock waits out delays beyond a timer’s range instead of firing at once', async () => {
    let fired = false
    const timer = systemClock.setTimer(2 ** 31 + 1_000, () => {
      fired = true
    })
    await new Promise((resolve) => setTimeout(resolve, 20))
    timer.cancel()
    expect(fired).toBe(false)
  })
})

describe('advert book bounds', () => {
  const advert = { roles: ['basic'], capacity: {}, uptimeSeconds: 1, version: '1' }

  it('a flood of adverts from fresh keys evicts the oldest instead of refusing newcomers', async () => {
    const { AdvertBook } = await import('../src/advert/advert-book.js')
    const { encodeSignedAdvert, signResourceAdvert } = await import('../src/advert/resource-advert.js')
    let now = 1_000
    const clock = { now: () => now, setTimer: systemClock.setTimer }
    const book = new AdvertBook({ crypto, keyPair: crypto.generateKeyPair(), clock }, { maxPeers: 10 })
    for (let i = 0; i < 50; i++) {
      const sybil = crypto.generateKeyPair()
      expect(book.accept(encodeSignedAdvert(signResourceAdvert(crypto, sybil, advert, 1, now))).outcome).toBe('new')
    }
    const honest = crypto.generateKeyPair()
    const signed = signResourceAdvert(crypto, honest, advert, 1, now)
    expect(book.accept(encodeSignedAdvert(signed)).outcome).toBe('new')
    expect(book.get(signed.peer)).toEqual(signed)
    // Adverts expire, and an advert from the future is refused.
    now += 3_600_001
    expect(book.get(signed.peer)).toBeUndefined()
    expect(book.accept(encodeSignedAdvert(signResourceAdvert(crypto, honest, advert, 2, now + 120_000))).outcome).toBe('invalid')
  })

  it('partition and restart refuse impossible requests', async () => {
    const { sim, a, b } = await pair()
    expect(() => sim.partition([[a.peerId], [a.peerId, b.peerId]])).toThrow(expect.objectContaining({ code: GossipErrorCode.INVALID_INPUT }))
    await b.stop()
    expect(() => sim.restart(b.peerId)).toThrow(expect.objectContaining({ code: GossipErrorCode.INVALID_INPUT }))
  })
})

describe('penalties cover requests', () => {
  it('refuses a penalised peer’s requests with RATE_LIMITED', async () => {
    const { sim, a, b } = await pair({ antiEntropyIntervalMs: 0, limits: { maxRejectsPerPeer: 2 } })
    b.handle('/echo/1', ({ data }) => data)
    b.subscribe('/bad', () => 'reject')
    expect(await sim.runUntil(a.request(b.peerId, '/echo/1', bytes('before')))).toEqual(bytes('before'))
    await a.publish('/bad', bytes('one'))
    await a.publish('/bad', bytes('two'))
    await sim.run({ until: sim.clock.now() + 100 })
    await expect(sim.runUntil(a.request(b.peerId, '/echo/1', bytes('after')))).rejects.toMatchObject({
      code: GossipErrorCode.RATE_LIMITED,
    })
  })
})
