/**
 * The `Network` conformance suite, written once and run against every implementation (SimNetwork and
 * Libp2pNetwork). An implementation passes by supplying a harness that builds started, connected nodes and
 * knows how to let time pass on its transport.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { GossipErrorCode, type GossipMessage, type Network, type NetworkEvent, type NetworkLimits, type PeerId, type Verdict } from '../../src/index.js'

export type Topology = 'full' | 'line'

export interface NetworkGroup {
  readonly nodes: readonly Network[]
  /** Lets time pass (virtual or real) until `promise` settles; rejects when `timeoutMs` passes first. */
  settle<T>(promise: Promise<T>, timeoutMs?: number): Promise<T>
  /** Lets in-flight traffic land: long enough that a message that was going to arrive has arrived. */
  quiesce(): Promise<void>
  close(): Promise<void>
}

export interface ConformanceHarness {
  create(count: number, topology: Topology, limits?: Partial<NetworkLimits>): Promise<NetworkGroup>
}

const bytes = (text: string) => new TextEncoder().encode(text)
const text = (data: Uint8Array) => new TextDecoder().decode(data)

/** A promise with its resolver, for awaiting events instead of sleeping. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

/** Collects a topic's messages at a node and lets a test wait for the n-th. */
function collect(node: Network, topic: string, verdict: Verdict = 'accept') {
  const messages: GossipMessage[] = []
  const waiters: { count: number; resolve: () => void }[] = []
  const unsubscribe = node.subscribe(topic, (message) => {
    messages.push(message)
    for (const waiter of waiters) if (messages.length >= waiter.count) waiter.resolve()
    return verdict
  })
  return {
    messages,
    unsubscribe,
    received(count: number): Promise<void> {
      if (messages.length >= count) return Promise.resolve()
      return new Promise((resolve) => waiters.push({ count, resolve }))
    },
  }
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toMatchObject({ code })
}

export function describeNetworkConformance(name: string, harness: ConformanceHarness): void {
  describe(`Network conformance: ${name}`, () => {
    let group: NetworkGroup | undefined
    const open = async (count: number, topology: Topology, limits?: Partial<NetworkLimits>) => {
      group = await harness.create(count, topology, limits)
      return group
    }
    afterEach(async () => {
      await group?.close()
      group = undefined
    })

    it('connects the nodes it was given', async () => {
      const { nodes } = await open(3, 'full')
      for (const node of nodes) {
        expect(node.peerId).toMatch(/^[0-9a-f]{64}$/)
        expect(new Set(node.peers())).toEqual(new Set(nodes.filter((n) => n !== node).map((n) => n.peerId)))
      }
    })

    it('delivers a published message to every other subscriber once, not to the publisher', async () => {
      const g = await open(4, 'full')
      const [a, ...others] = g.nodes as [Network, ...Network[]]
      const own = collect(a, '/conformance/t')
      const inboxes = others.map((node) => collect(node, '/conformance/t'))
      await a.publish('/conformance/t', bytes('hello'))
      await g.settle(Promise.all(inboxes.map((inbox) => inbox.received(1))))
      await g.quiesce()
      for (const inbox of inboxes) {
        expect(inbox.messages).toHaveLength(1)
        const [message] = inbox.messages as [GossipMessage]
        expect(message.topic).toBe('/conformance/t')
        expect(text(message.data)).toBe('hello')
        expect(message.id).toMatch(/^[0-9a-f]{64}$/)
        expect(g.nodes.map((n) => n.peerId)).toContain(message.from)
      }
      expect(own.messages).toHaveLength(0)
    })

    it('spreads many messages, and a repeated message only once', async () => {
      const g = await open(3, 'full')
      const [a, b, c] = g.nodes as [Network, Network, Network]
      const atC = collect(c, '/conformance/many')
      collect(b, '/conformance/many')
      for (let i = 0; i < 50; i++) await a.publish('/conformance/many', bytes(`m${i}`))
      await a.publish('/conformance/many', bytes('m0'))
      await b.publish('/conformance/many', bytes('m1'))
      await g.settle(atC.received(50))
      await g.quiesce()
      expect(atC.messages.map((m) => text(m.data)).sort()).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`).sort())
    })

    it('stops delivering after unsubscribe', async () => {
      const g = await open(2, 'full')
      const [a, b] = g.nodes as [Network, Network]
      const inbox = collect(b, '/conformance/unsub')
      await a.publish('/conformance/unsub', bytes('one'))
      await g.settle(inbox.received(1))
      inbox.unsubscribe()
      await a.publish('/conformance/unsub', bytes('two'))
      await g.quiesce()
      expect(inbox.messages.map((m) => text(m.data))).toEqual(['one'])
    })

    it('forwards accepted messages through a relay, and not rejected or ignored ones', async () => {
      const g = await open(3, 'line') // a - b - c
      const [a, b, c] = g.nodes as [Network, Network, Network]
      const judged: string[] = []
      b.subscribe('/conformance/relay', (message) => {
        const body = text(message.data)
        judged.push(body)
        return body.startsWith('bad') ? 'reject' : body.startsWith('meh') ? 'ignore' : 'accept'
      })
      const atC = collect(c, '/conformance/relay')
      await a.publish('/conformance/relay', bytes('bad one'))
      await a.publish('/conformance/relay', bytes('meh one'))
      await a.publish('/conformance/relay', bytes('good one'))
      await g.settle(atC.received(1))
      await g.quiesce()
      expect(judged.sort()).toEqual(['bad one', 'good one', 'meh one'])
      expect(atC.messages.map((m) => text(m.data))).toEqual(['good one'])
      expect(atC.messages[0]?.from).toBe(b.peerId)
    })

    it('penalises a peer whose messages keep being rejected', async () => {
      const g = await open(2, 'full', { maxRejectsPerPeer: 3 })
      const [a, b] = g.nodes as [Network, Network]
      const penalised = deferred<NetworkEvent>()
      b.addListener((event) => {
        if (event.type === 'peer:penalised') penalised.resolve(event)
      })
      b.subscribe('/conformance/bad', () => 'reject')
      for (let i = 0; i < 3; i++) await a.publish('/conformance/bad', bytes(`bad ${i}`))
      const event = await g.settle(penalised.promise)
      expect(event).toMatchObject({ type: 'peer:penalised', peer: a.peerId, rejects: 3 })
    })

    it('answers requests, many at once, and tells the handler who asked', async () => {
      const g = await open(2, 'full')
      const [a, b] = g.nodes as [Network, Network]
      b.handle('/conformance/echo/1', ({ from, data }) => bytes(`${from.slice(0, 8)}:${text(data)}`))
      const answers = await g.settle(Promise.all(Array.from({ length: 20 }, (_, i) => a.request(b.peerId, '/conformance/echo/1', bytes(`q${i}`)))))
      expect(answers.map(text)).toEqual(Array.from({ length: 20 }, (_, i) => `${a.peerId.slice(0, 8)}:q${i}`))
      const asyncHandler = b.handle('/conformance/async/1', async ({ data }) => {
        await Promise.resolve()
        return Uint8Array.from([...data].reverse())
      })
      expect(await g.settle(a.request(b.peerId, '/conformance/async/1', Uint8Array.from([1, 2, 3])))).toEqual(Uint8Array.from([3, 2, 1]))
      asyncHandler()
      await expectCode(g.settle(a.request(b.peerId, '/conformance/async/1', bytes('x'))), GossipErrorCode.UNKNOWN_PROTOCOL)
    })

    it('reports request failures with typed errors', async () => {
      const g = await open(2, 'full', { maxMessageBytes: 1024 })
      const [a, b] = g.nodes as [Network, Network]
      b.handle('/conformance/fail/1', () => {
        throw new Error('handler exploded')
      })
      b.handle('/conformance/slow/1', ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))))
      b.handle('/conformance/big/1', () => new Uint8Array(2048))
      await expectCode(g.settle(a.request(b.peerId, '/conformance/none/1', bytes('x'))), GossipErrorCode.UNKNOWN_PROTOCOL)
      const remote = g.settle(a.request(b.peerId, '/conformance/fail/1', bytes('x')))
      await expectCode(remote, GossipErrorCode.REMOTE_ERROR)
      await expect(remote).rejects.toThrow('handler exploded')
      await expectCode(g.settle(a.request(b.peerId, '/conformance/slow/1', bytes('x'), { timeout: 200 })), GossipErrorCode.TIMEOUT)
      const controller = new AbortController()
      const aborted = a.request(b.peerId, '/conformance/slow/1', bytes('x'), { signal: controller.signal })
      controller.abort()
      await expectCode(g.settle(aborted), GossipErrorCode.ABORTED)
      await expectCode(a.request(b.peerId, '/conformance/fail/1', new Uint8Array(2048)), GossipErrorCode.MESSAGE_TOO_LARGE)
      await expectCode(g.settle(a.request(b.peerId, '/conformance/big/1', bytes('x'))), GossipErrorCode.MESSAGE_TOO_LARGE)
      await expectCode(a.publish('/conformance/t', new Uint8Array(2048)), GossipErrorCode.MESSAGE_TOO_LARGE)
    })

    it('rejects bad arguments with INVALID_INPUT', async () => {
      const g = await open(1, 'full')
      const [a] = g.nodes as [Network]
      expect(() => a.subscribe('no-slash', () => 'accept')).toThrow(expect.objectContaining({ code: GossipErrorCode.INVALID_INPUT }))
      await expectCode(a.publish('', bytes('x')), GossipErrorCode.INVALID_INPUT)
      await expectCode(a.publish('/t', 'text' as never), GossipErrorCode.INVALID_INPUT)
      await expectCode(a.request('not-a-peer' as PeerId, '/p/1', bytes('x')), GossipErrorCode.INVALID_INPUT)
      a.handle('/conformance/once/1', () => bytes('x'))
      expect(() => a.handle('/conformance/once/1', () => bytes('y'))).toThrow(expect.objectContaining({ code: GossipErrorCode.INVALID_INPUT }))
    })

    it('announces a stopped peer as left, and refuses work once stopped', async () => {
      const g = await open(2, 'full')
      const [a, b] = g.nodes as [Network, Network]
      const left = deferred<PeerId>()
      a.addListener((event) => {
        if (event.type === 'peer:leave') left.resolve(event.peer)
      })
      // The stopping node's own pending request fails with NETWORK_CLOSED. (A request *to* a node that stops
      // may instead fail early with PEER_UNREACHABLE where the transport sees the connection close.)
      a.handle('/conformance/hang/1', () => new Promise<Uint8Array>(() => {}))
      const pending = b.request(a.peerId, '/conformance/hang/1', bytes('x'), { timeout: 60_000 })
      const outcome = pending.then(
        () => 'resolved',
        (error: { code?: string }) => error.code,
      )
      await b.stop()
      expect(await g.settle(left.promise)).toBe(b.peerId)
      expect(a.peers()).not.toContain(b.peerId)
      await a.stop()
      expect(await outcome).toBe(GossipErrorCode.NETWORK_CLOSED)
      await expectCode(a.publish('/conformance/t', bytes('x')), GossipErrorCode.NETWORK_CLOSED)
      await expectCode(a.request(b.peerId, '/p/1', bytes('x')), GossipErrorCode.NETWORK_CLOSED)
    })

    it('counts the messages and bytes it sends and receives, by kind, in frozen snapshots', async () => {
      const g = await open(2, 'full')
      const [a, b] = g.nodes as [Network, Network]
      const inbox = collect(b, '/conformance/traffic')
      b.handle('/conformance/traffic/1', () => new Uint8Array(300))
      const before = { a: a.traffic(), b: b.traffic() }
      await a.publish('/conformance/traffic', new Uint8Array(200))
      await g.settle(inbox.received(1))
      expect(await g.settle(a.request(b.peerId, '/conformance/traffic/1', new Uint8Array(100)))).toHaveLength(300)
      await g.quiesce()
      const after = { a: a.traffic(), b: b.traffic() }
      // Each side counts at least the payloads (implementations add their own headers), and at least one message.
      const grew = (node: 'a' | 'b', direction: 'sent' | 'received', kind: 'request' | 'response' | 'gossip', bytes: number) => {
        const then = before[node][direction][kind]
        const now = after[node][direction][kind]
        expect(now.messages - then.messages, `${node} ${direction} ${kind} messages`).toBeGreaterThanOrEqual(1)
        expect(now.bytes - then.bytes, `${node} ${direction} ${kind} bytes`).toBeGreaterThanOrEqual(bytes)
      }
      grew('a', 'sent', 'gossip', 200)
      grew('b', 'received', 'gossip', 200)
      grew('a', 'sent', 'request', 100)
      grew('b', 'received', 'request', 100)
      grew('b', 'sent', 'response', 300)
      grew('a', 'received', 'response', 300)
      // Snapshots: frozen, and not moved by later traffic.
      expect(Object.isFrozen(before.a) && Object.isFrozen(before.a.sent) && Object.isFrozen(before.a.sent.gossip)).toBe(true)
      expect(() => {
        ;(before.a.sent.gossip as { bytes: number }).bytes = 0
      }).toThrow(TypeError)
      expect(a.traffic()).toEqual(after.a)
    })

    it('spreads signed resource adverts that every node can read and check', async () => {
      const g = await open(3, 'full')
      const [a, b, c] = g.nodes as [Network, Network, Network]
      const seenAtB = deferred<NetworkEvent>()
      const seenAtC = deferred<NetworkEvent>()
      b.addListener((event) => {
        if (event.type === 'peer:advert' && event.peer === a.peerId) seenAtB.resolve(event)
      })
      c.addListener((event) => {
        if (event.type === 'peer:advert' && event.peer === a.peerId) seenAtC.resolve(event)
      })
      const advert = { roles: ['basic', 'validator'], capacity: { cpuCores: 2 }, uptimeSeconds: 12, version: '0.1.0' }
      await a.advertise(advert)
      await g.settle(Promise.all([seenAtB.promise, seenAtC.promise]))
      for (const node of [a, b, c]) expect(node.advertOf(a.peerId)).toMatchObject({ peer: a.peerId, advert })
      expect(c.advertOf(a.peerId)?.signature).toHaveLength(64)
      await expectCode(a.advertise({ ...advert, roles: ['bad role!'] }), GossipErrorCode.INVALID_INPUT)
      // A newer advert replaces the older one.
      const second = deferred<void>()
      c.addListener((event) => {
        if (event.type === 'peer:advert' && event.advert.advert.uptimeSeconds === 99) second.resolve()
      })
      await a.advertise({ ...advert, uptimeSeconds: 99 })
      await g.settle(second.promise)
      expect(c.advertOf(a.peerId)?.advert.uptimeSeconds).toBe(99)
    })
  })
}
