/**
 * Libp2pNetwork beyond the shared conformance suite: identity mapping, bootstrap, early failure of requests to a
 * peer that goes away, many requests in flight through a small window, hostile frames on the request protocol,
 * and a clean stop.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { loadCrypto, toHex } from '@constellation/crypto'
import { gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import type { Libp2p, Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import { nextEvent, rawPeerConfig } from './libp2p/peers.js'
import { createLibp2pNetwork, GossipErrorCode, type Libp2pNetwork, type NetworkEvent } from '../src/index.js'
import { GOSSIP_CARRIER_TOPIC } from '../src/libp2p/gossip-envelope.js'
import { REQUEST_PROTOCOL } from '../src/libp2p/request-frame.js'
import { startLocalNetwork } from './libp2p/local-network.js'

const crypto = await loadCrypto()
const bytes = (text: string) => new TextEncoder().encode(text)
const text = (data: Uint8Array) => new TextDecoder().decode(data)

let running: { stop(): void | Promise<void> }[] = []
afterEach(async () => {
  await Promise.allSettled(running.map(async (node) => node.stop()))
  running = []
})
async function local(count: number, topology: 'full' | 'line' = 'full', limits?: Parameters<typeof startLocalNetwork>[3]) {
  const nodes = await startLocalNetwork(crypto, count, topology, limits)
  running.push(...nodes)
  return nodes
}

/** A bare libp2p node speaking our transports, to play a peer that breaks the request protocol. */
async function rawPeer(): Promise<Libp2p> {
  const node = await createLibp2p({
    ...(await rawPeerConfig()),
    services: { identify: identify() },
  })
  running.push(node)
  return node
}

function closed(stream: Stream): Promise<void> {
  return stream.status === 'open' ? new Promise((resolve) => stream.addEventListener('close', () => resolve(), { once: true })) : Promise.resolve()
}

describe('Libp2pNetwork', () => {
  it('uses the node key as its libp2p identity and listens on loopback', async () => {
    const [a] = await local(1)
    const addresses = (a as Libp2pNetwork).listenAddresses()
    expect(addresses.length).toBeGreaterThan(0)
    for (const address of addresses) {
      expect(address).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/\w+$/)
      const libp2pId = multiaddr(address)
        .getComponents()
        .find((c) => c.name === 'p2p')?.value
      const { peerIdFromString } = await import('@libp2p/peer-id')
      const parsed = peerIdFromString(libp2pId as string)
      expect(parsed.type).toBe('Ed25519')
      expect(parsed.publicKey && toHex(parsed.publicKey.raw)).toBe(a?.peerId)
    }
  })

  it('refuses a key pair whose public key is not its seed’s, and addresses that are not multiaddrs', () => {
    const one = crypto.generateKeyPair()
    const two = crypto.generateKeyPair()
    expect(() => createLibp2pNetwork({ crypto, keyPair: { seed: one.seed, publicKey: two.publicKey } })).toThrow(
      expect.objectContaining({ code: GossipErrorCode.INVALID_INPUT }),
    )
    expect(() => createLibp2pNetwork({ crypto, keyPair: { seed: new Uint8Array(5), publicKey: one.publicKey } })).toThrow(
      expect.objectContaining({ code: GossipErrorCode.INVALID_INPUT }),
    )
    expect(() => createLibp2pNetwork({ crypto, keyPair: one, listen: ['not a multiaddr'] })).toThrow(
      expect.objectContaining({ code: GossipErrorCode.INVALID_INPUT }),
    )
  })

  it('dials its bootstrap peers at start and announces them as joined', async () => {
    const [a] = await local(1)
    const b = createLibp2pNetwork({ crypto, keyPair: crypto.generateKeyPair(), bootstrap: (a as Libp2pNetwork).listenAddresses() })
    running.push(b)
    const joined = nextEvent(a as Libp2pNetwork, 'peer:join')
    await b.start()
    expect(b.peers()).toEqual([a?.peerId])
    expect((await joined).peer).toBe(b.peerId)
  })

  it('publishes quietly with nobody listening, and deduplicates a repeated publish', async () => {
    const [alone] = (await local(1)) as [Libp2pNetwork]
    await expect(alone.publish('/t/alone', bytes('x'))).resolves.toBeUndefined()
    await expect(alone.publish('/t/alone', bytes('x'))).resolves.toBeUndefined()
    const [a, b] = (await local(2)) as [Libp2pNetwork, Libp2pNetwork]
    const seen: string[] = []
    const last = new Promise<void>((resolve) =>
      b.subscribe('/t/dup', ({ data }) => {
        seen.push(text(data))
        if (text(data) === 'y') resolve()
        return 'accept'
      }),
    )
    await a.publish('/t/dup', bytes('x'))
    await a.publish('/t/dup', bytes('x'))
    // Messages from one neighbour arrive in order on its stream: once 'y' is in, a second 'x' would be too.
    await a.publish('/t/dup', bytes('y'))
    await last
    expect(seen).toEqual(['x', 'y'])
  })

  it('fails a request to a peer that stops with PEER_UNREACHABLE, without waiting for the timeout', async () => {
    const [a, b] = (await local(2)) as [Libp2pNetwork, Libp2pNetwork]
    b.handle('/hang/1', () => new Promise<Uint8Array>(() => {}))
    const pending = a.request(b.peerId, '/hang/1', bytes('x'), { timeout: 600_000 })
    // The request is on the wire once b's handler has it; stop b then.
    await expect(Promise.race([pending, b.stop().then(() => pending)])).rejects.toMatchObject({
      code: GossipErrorCode.PEER_UNREACHABLE,
    })
  })

  it('keeps many requests in flight through a small window, in order of their answers', async () => {
    const [a, b] = (await local(2, 'full', { maxQueuedMessages: 4 })) as [Libp2pNetwork, Libp2pNetwork]
    let concurrent = 0
    let peak = 0
    b.handle('/slow-echo/1', async ({ data }) => {
      concurrent++
      peak = Math.max(peak, concurrent)
      await new Promise((resolve) => setImmediate(resolve))
      concurrent--
      return data
    })
    const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => a.request(b.peerId, '/slow-echo/1', bytes(`r${i}`))))
    expect(answers.map(text)).toEqual(Array.from({ length: 300 }, (_, i) => `r${i}`))
    expect(peak).toBeLessThanOrEqual(4) // the requester never had more than its window outstanding
    expect(peak).toBeGreaterThan(1) // and did have several at once
  })

  it('pushes back on publishers and requesters when streams back up, and delivers everything', async () => {
    const [a, b] = (await local(2, 'full', { maxMessagesPerPeerPerSecond: 1e6, maxRequestsPerPeerPerSecond: 1e6 })) as [Libp2pNetwork, Libp2pNetwork]
    const large = (i: number) => {
      const data = new Uint8Array(64 * 1024)
      new DataView(data.buffer).setUint32(0, i)
      return data
    }
    let delivered = 0
    const all = new Promise<void>((resolve) =>
      b.subscribe('/t/large', () => {
        if (++delivered === 300) resolve()
        return 'accept'
      }),
    )
    // 19 MiB through one stream: it backs up, and each publish waits for it to drain.
    for (let i = 0; i < 300; i++) await a.publish('/t/large', large(i))
    await all
    b.handle('/sink/1', ({ data }) => data.subarray(0, 4))
    const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => a.request(b.peerId, '/sink/1', large(i))))
    expect(answers.map((answer) => new DataView(answer.buffer, answer.byteOffset).getUint32(0))).toEqual(Array.from({ length: 300 }, (_, i) => i))
  })

  it('refuses requests over the rate limit with RATE_LIMITED', async () => {
    const [a, b] = (await local(2, 'full', { maxRequestsPerPeerPerSecond: 5 })) as [Libp2pNetwork, Libp2pNetwork]
    b.handle('/echo/1', ({ data }) => data)
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => a.request(b.peerId, '/echo/1', bytes('x'))))
    const codes = outcomes.map((o) => (o.status === 'fulfilled' ? 'ok' : (o.reason as { code: string }).code))
    expect(codes.filter((c) => c === 'ok').length).toBeGreaterThan(0)
    expect(codes.filter((c) => c === GossipErrorCode.RATE_LIMITED).length).toBeGreaterThan(0)
    expect(codes.every((c) => c === 'ok' || c === GossipErrorCode.RATE_LIMITED)).toBe(true)
  })

  it('resets a stream that sends malformed or oversized frames, counts it against the peer, and keeps serving', async () => {
    const [a, b] = (await local(2, 'full', { maxRejectsPerPeer: 2, maxMessageBytes: 1024 })) as [Libp2pNetwork, Libp2pNetwork]
    b.handle('/echo/1', ({ data }) => data)
    const hostile = await rawPeer()
    const penalised = nextEvent(b, 'peer:penalised')
    const target = multiaddr(b.listenAddresses()[0] as string)
    // An unknown frame kind: the stream is reset.
    const garbage = await hostile.dialProtocol(target, REQUEST_PROTOCOL)
    garbage.send(Uint8Array.from([0, 0, 0, 5, 9, 0, 0, 0, 1]))
    await closed(garbage)
    expect(garbage.status).not.toBe('open')
    // A response frame on a stream where only requests may come, declared far over the limit: reset
    // without buffering it.
    const huge = await hostile.dialProtocol(target, REQUEST_PROTOCOL)
    huge.send(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 1]))
    await closed(huge)
    const event = await penalised
    expect(event.peer).toBe(toHex(hostile.peerId.publicKey?.raw as Uint8Array))
    expect(event.rejects).toBe(2)
    // Honest peers are still served.
    expect(text(await a.request(b.peerId, '/echo/1', bytes('still here')))).toBe('still here')
  })

  it('answers MESSAGE_TOO_LARGE across different limits without resetting the stream or penalising', async () => {
    const [small] = await local(1, 'full', { maxMessageBytes: 1024 })
    const [large] = await local(1, 'full', { maxMessageBytes: 64 * 1024 })
    const b = small as Libp2pNetwork
    const a = large as Libp2pNetwork
    await a.dial(b.listenAddresses()[0] as string)
    const penalties: NetworkEvent[] = []
    for (const node of [a, b]) node.addListener((event) => event.type === 'peer:penalised' && penalties.push(event))
    b.handle('/echo/1', ({ data }) => data)
    a.handle('/big/1', () => new Uint8Array(4096))
    await expect(a.request(b.peerId, '/echo/1', new Uint8Array(4096))).rejects.toMatchObject({
      code: GossipErrorCode.MESSAGE_TOO_LARGE,
    })
    await expect(b.request(a.peerId, '/big/1', bytes('x'))).rejects.toMatchObject({ code: GossipErrorCode.MESSAGE_TOO_LARGE })
    // Both streams still carry requests, and nobody was counted as hostile.
    expect(text(await a.request(b.peerId, '/echo/1', bytes('fits')))).toBe('fits')
    a.handle('/echo/1', ({ data }) => data)
    expect(text(await b.request(a.peerId, '/echo/1', bytes('fits too')))).toBe('fits too')
    expect(penalties).toEqual([])
  })

  it('aborts the handler of a request its requester gave up on', async () => {
    const [a, b] = (await local(2)) as [Libp2pNetwork, Libp2pNetwork]
    let sawAbort!: (reason: unknown) => void
    const aborted = new Promise<unknown>((resolve) => (sawAbort = resolve))
    b.handle('/wait/1', ({ signal }) => new Promise<Uint8Array>(() => signal.addEventListener('abort', () => sawAbort(signal.reason))))
    await expect(a.request(b.peerId, '/wait/1', bytes('x'), { timeout: 100 })).rejects.toMatchObject({ code: GossipErrorCode.TIMEOUT })
    expect(await aborted).toMatchObject({ code: GossipErrorCode.ABORTED })
    // The stream is still good for the next request.
    b.handle('/echo/1', ({ data }) => data)
    expect(text(await a.request(b.peerId, '/echo/1', bytes('after')))).toBe('after')
  })

  it('rejects gossip that is not an envelope, counts it against the sender, and keeps relaying', async () => {
    const [a, b] = (await local(2, 'full', { maxRejectsPerPeer: 2 })) as [Libp2pNetwork, Libp2pNetwork]
    const hostile = await createLibp2p({
      ...(await rawPeerConfig()),
      services: {
        identify: identify(),
        pubsub: gossipsub({ globalSignaturePolicy: 'StrictNoSign', allowPublishToZeroTopicPeers: true, heartbeatInterval: 100 }),
      },
    })
    running.push(hostile)
    const pubsub = hostile.services.pubsub
    pubsub.subscribe(GOSSIP_CARRIER_TOPIC)
    const bIsSubscriber = () => pubsub.getSubscribers(GOSSIP_CARRIER_TOPIC).some((peer) => toHex(peer.publicKey?.raw ?? new Uint8Array()) === b.peerId)
    const knowsB = new Promise<void>((resolve) => {
      const check = () => {
        if (!bIsSubscriber()) return
        pubsub.removeEventListener('subscription-change', check)
        resolve()
      }
      pubsub.addEventListener('subscription-change', check)
    })
    await hostile.dial(multiaddr(b.listenAddresses()[0] as string))
    await knowsB
    const penalised = nextEvent(b, 'peer:penalised')
    await pubsub.publish(GOSSIP_CARRIER_TOPIC, bytes('no separator, no topic'))
    await pubsub.publish(GOSSIP_CARRIER_TOPIC, Uint8Array.from([0x78, 0, 1, 2]))
    const event = await penalised
    expect(event).toMatchObject({ peer: toHex(hostile.peerId.publicKey?.raw as Uint8Array), rejects: 2 })
    const inbox = new Promise<string>((resolve) =>
      b.subscribe('/t/honest', ({ data }) => {
        resolve(text(data))
        return 'accept'
      }),
    )
    await a.publish('/t/honest', bytes('honest'))
    expect(await inbox).toBe('honest')
  })

  it('drops gossip beyond a neighbour’s rate limit', async () => {
    const [a, b] = (await local(2, 'full', { maxMessagesPerPeerPerSecond: 5 })) as [Libp2pNetwork, Libp2pNetwork]
    const seen: string[] = []
    b.subscribe('/t/rated', ({ data }) => {
      seen.push(text(data))
      return 'accept'
    })
    for (let i = 0; i < 40; i++) await a.publish('/t/rated', bytes(`m${i}`))
    // Nothing to await for dropped messages: wait as the harness's quiesce does.
    await new Promise((resolve) => setTimeout(resolve, 250))
    expect(seen.length).toBeGreaterThanOrEqual(5) // a second's burst gets through
    expect(seen.length).toBeLessThan(40) // the rest is dropped
  })

  it('drops the gossip of a penalised peer', async () => {
    const [a, b] = (await local(2, 'full', { maxRejectsPerPeer: 2 })) as [Libp2pNetwork, Libp2pNetwork]
    const seen: string[] = []
    b.subscribe('/t/judged', (message) => {
      seen.push(text(message.data))
      return text(message.data).startsWith('bad') ? 'reject' : 'accept'
    })
    const penalised = nextEvent(b, 'peer:penalised')
    await a.publish('/t/judged', bytes('bad 1'))
    await a.publish('/t/judged', bytes('bad 2'))
    expect((await penalised).peer).toBe(a.peerId)
    // After the penalty nothing from a reaches b's handlers. There is no event for a message that is dropped,
    // so wait as the harness's quiesce does: long enough on loopback for it to have arrived.
    await a.publish('/t/judged', bytes('good after'))
    await new Promise((resolve) => setTimeout(resolve, 250))
    expect(seen).toEqual(['bad 1', 'bad 2'])
  })

  it('refuses the requests of a penalised peer with RATE_LIMITED', async () => {
    const [a, b] = (await local(2, 'full', { maxRejectsPerPeer: 2 })) as [Libp2pNetwork, Libp2pNetwork]
    b.subscribe('/t/judged', () => 'reject')
    b.handle('/echo/1', ({ data }) => data)
    expect(text(await a.request(b.peerId, '/echo/1', bytes('before')))).toBe('before')
    const penalised = nextEvent(b, 'peer:penalised')
    await a.publish('/t/judged', bytes('bad 1'))
    await a.publish('/t/judged', bytes('bad 2'))
    expect((await penalised).peer).toBe(a.peerId)
    await expect(a.request(b.peerId, '/echo/1', bytes('after'))).rejects.toMatchObject({ code: GossipErrorCode.RATE_LIMITED })
  })

  it('stops without leaving sockets, servers or timers behind: the process exits by itself', async () => {
    const run = await runTsx(fileURLToPath(new URL('./libp2p/stop-leaves-no-handles.ts', import.meta.url)))
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const { before, during, after, hastyOutcome } = JSON.parse(run.stdout) as Record<'before' | 'during' | 'after', string[]> & {
      hastyOutcome: string
    }
    expect(hastyOutcome).toBe(GossipErrorCode.NETWORK_CLOSED)
    expect(during).toContain('TCPServerWrap')
    expect(during).toContain('TCPSocketWrap')
    expect([...after].sort()).toEqual([...before].sort())
  })
})

describe('examples/libp2p-two-processes.ts', () => {
  it('is the example the README shows', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    const shown = /<!-- libp2p-example: examples\/libp2p-two-processes.ts -->\s*```ts\n([\s\S]*?)```/.exec(readme)?.[1]
    const file = readFileSync(new URL('../examples/libp2p-two-processes.ts', import.meta.url), 'utf8')
    expect(shown).toBeDefined()
    expect(file.endsWith(shown as string)).toBe(true) // the file adds only its header comment
    expect((shown as string).length).toBeGreaterThan(500)
  })

  it('exchanges a gossip message and a request between two processes on 127.0.0.1', async () => {
    const run = await runTsx(fileURLToPath(new URL('../examples/libp2p-two-processes.ts', import.meta.url)))
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const lines = run.stdout.trim().split('\n')
    expect(lines).toHaveLength(3)
    const [, sender] = /^first: ([0-9a-f]{8}) says "hi from \1"$/.exec(lines[0] as string) ?? []
    expect(sender).toBeDefined()
    expect(lines[1]).toMatch(new RegExp(`^second: ([0-9a-f]{8}) answered "hello ${sender}, this is \\1"$`))
    expect(lines[2]).toBe('first: stopped')
  })
})

/** Runs a TypeScript file in a fresh Node process, as a user would, against the package's source. */
function runTsx(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('pnpm', ['exec', 'tsx', '--conditions=source', file], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, stdout, stderr }))
  })
}
