/**
 * Libp2pNetwork behind a port forward (`announce`) and dialling from a chosen local address (`dialFrom`), on
 * 127.0.0.0/8 with OS-chosen ports: a node with announce addresses is told to peers — by `listenAddresses()`, by
 * identify and by the signed records peer exchange passes on — at those only, so a peer that discovers it dials
 * through the forward; a node with `dialFrom` is seen by the dialled side as coming from that address; bad values
 * are refused with INVALID_INPUT.
 */
import { fromHex, loadCrypto, toHex } from '@constellation/crypto'
import { identify } from '@libp2p/identify'
import type { Connection, Libp2p } from '@libp2p/interface'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import { createLibp2pNetwork, GossipErrorCode, type Libp2pNetwork, type Libp2pNetworkOptions, libp2pPeerIdOf } from '../src/index.js'
import { MAX_ANNOUNCED_ADDRESSES } from '../src/libp2p/node-addresses.js'
import { decodePeerRecords, encodePeerExchangeQuery, PEER_EXCHANGE_PROTOCOL } from '../src/libp2p/peer-exchange.js'
import { rawPeerConfig } from './libp2p/peers.js'
import { startTcpForwarder, type TcpForwarder } from './libp2p/tcp-forwarder.js'

const crypto = await loadCrypto()
const bytes = (text: string) => new TextEncoder().encode(text)
const text = (data: Uint8Array) => new TextDecoder().decode(data)

let running: { stop(): void | Promise<void> }[] = []
let forwarders: TcpForwarder[] = []
afterEach(async () => {
  await Promise.allSettled(running.map(async (node) => node.stop()))
  await Promise.allSettled(forwarders.map((forwarder) => forwarder.close()))
  running = []
  forwarders = []
})

async function node(options: Partial<Libp2pNetworkOptions> = {}): Promise<Libp2pNetwork> {
  const network = createLibp2pNetwork({ crypto, keyPair: crypto.generateKeyPair(), gossip: { heartbeatIntervalMs: 100 }, ...options })
  running.push(network)
  await network.start()
  return network
}

async function forwarder(): Promise<TcpForwarder> {
  const started = await startTcpForwarder()
  forwarders.push(started)
  return started
}

const portOf = (address: string) =>
  Number(
    multiaddr(address)
      .getComponents()
      .find((c) => c.name === 'tcp')?.value,
  )

describe('Libp2pNetwork addresses', () => {
  it('a node with announce is dialled and discovered at the announced address only', async () => {
    const forward = await forwarder()
    const hub = await node()
    const hidden = await node({ announce: [forward.address], bootstrap: hub.listenAddresses() })
    const [bound] = hidden.boundAddresses()
    forward.forwardTo(portOf(bound as string))
    const libp2pId = libp2pPeerIdOf(hidden.peerId)
    expect(hidden.listenAddresses()).toEqual([`${forward.address}/p2p/${libp2pId}`])
    expect(bound).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${libp2pId}$`))
    expect(portOf(bound as string)).not.toBe(forward.port)

    // The record of `hidden` the hub passes on (the one identify gave it) names the announced address only.
    const seeker = await node({ bootstrap: hub.listenAddresses(), dialFrom: '127.0.0.3' })
    const answer = await seeker.request(hub.peerId, PEER_EXCHANGE_PROTOCOL, encodePeerExchangeQuery({ kind: 'peer', publicKey: fromHex(hidden.peerId, 32) }))
    const records = decodePeerRecords(answer)
    expect(records).toHaveLength(1)
    const envelope = await RecordEnvelope.openAndCertify(records[0] as Uint8Array, PeerRecord.DOMAIN)
    expect(PeerRecord.createFromProtobuf(envelope.payload).multiaddrs.map((address) => address.toString())).toEqual([forward.address])

    // So the seeker, which has no other address for it, reaches it through the forward, from its own address.
    expect(forward.sources).toEqual([])
    hidden.handle('/test/echo', (request) => bytes(`heard ${text(request.data)}`))
    expect(text(await seeker.request(hidden.peerId, '/test/echo', bytes('hello')))).toBe('heard hello')
    expect(forward.sources).toEqual(['127.0.0.3'])
  })

  it('dialFrom: the dialled side sees the connection come from that address', async () => {
    const remote: Libp2p = await createLibp2p({ ...(await rawPeerConfig()), services: { identify: identify() } })
    running.push(remote)
    const dialler = await node({ dialFrom: '127.0.0.3' })
    // The dialled side may finish its half of the upgrade after the dialler's: await its own event.
    const opened = new Promise<Connection>((resolve) => remote.addEventListener('connection:open', (event) => resolve(event.detail), { once: true }))
    const [address] = remote.getMultiaddrs()
    await dialler.dial((address as NonNullable<typeof address>).toString())
    const connection = await opened
    expect(connection.remoteAddr.getComponents().find((c) => c.name === 'ip4')?.value).toBe('127.0.0.3')
    expect(remote.getConnections().map((open) => open.remoteAddr.toString())).toEqual([connection.remoteAddr.toString()])
  })

  it('refuses announce and dialFrom values it cannot use, with INVALID_INPUT', () => {
    const keyPair = crypto.generateKeyPair()
    const other = libp2pPeerIdOf(toHex(crypto.generateKeyPair().publicKey))
    const invalid = (options: Partial<Libp2pNetworkOptions>, message: string) =>
      expect(() => createLibp2pNetwork({ crypto, keyPair, ...options })).toThrow(
        expect.objectContaining({ code: GossipErrorCode.INVALID_INPUT, message: expect.stringContaining(message) }),
      )
    invalid({ announce: ['127.0.0.1:4001'] }, 'announce: 127.0.0.1:4001 is not a multiaddr')
    invalid({ announce: [`/ip4/127.0.0.1/tcp/4001/p2p/${other}`] }, 'not this node')
    invalid({ announce: Array.from({ length: MAX_ANNOUNCED_ADDRESSES + 1 }, (_, i) => `/ip4/127.0.0.1/tcp/${4000 + i}`) }, `at most ${MAX_ANNOUNCED_ADDRESSES}`)
    invalid({ dialFrom: 'localhost' }, 'dialFrom must be an IPv4 or IPv6 address, got "localhost"')
    invalid({ dialFrom: '/ip4/127.0.0.3' }, 'dialFrom must be an IPv4 or IPv6 address')
    invalid({ dialFrom: '127.0.0.300' }, 'dialFrom must be an IPv4 or IPv6 address')
    const self = libp2pPeerIdOf(toHex(keyPair.publicKey))
    expect(() => createLibp2pNetwork({ crypto, keyPair, announce: [`/ip4/127.0.0.1/tcp/4001/p2p/${self}`], dialFrom: '::1' })).not.toThrow()
  })
})
