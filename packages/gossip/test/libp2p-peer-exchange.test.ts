/**
 * Peer discovery on libp2p (peer-exchange.ts): nodes given one bootstrap address reach each other by id — a node that
 * must reach a peer it has no address for asks its neighbours for that peer's signed record — and connect at once to
 * the peers `connectToDiscovered` names; the answer's codec refuses what is out of bounds.
 */
import { loadCrypto, toHex } from '@constellation/crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { createLibp2pNetwork, GossipErrorCode, type Libp2pNetwork, type NetworkEvent, type PeerId } from '../src/index.js'
import { decodePeerExchangeQuery, decodePeerRecords, encodePeerRecords, MAX_EXCHANGED_RECORDS, MAX_PEER_RECORD_BYTES } from '../src/libp2p/peer-exchange.js'

const crypto = await loadCrypto()
const bytes = (text: string) => new TextEncoder().encode(text)
const text = (data: Uint8Array) => new TextDecoder().decode(data)

let running: Libp2pNetwork[] = []
afterEach(async () => {
  await Promise.allSettled(running.map((node) => node.stop()))
  running = []
})

async function node(options: { bootstrap?: string[]; connectToDiscovered?: (peer: PeerId) => boolean } = {}): Promise<Libp2pNetwork> {
  const network = createLibp2pNetwork({ crypto, keyPair: crypto.generateKeyPair(), gossip: { heartbeatIntervalMs: 100 }, ...options })
  running.push(network)
  await network.start()
  return network
}

/** Resolves when `network` emits peer:join for `peer` (or at once when it is already a neighbour). */
function joined(network: Libp2pNetwork, peer: PeerId): Promise<void> {
  return new Promise((resolve) => {
    if (network.peers().includes(peer)) return resolve()
    const stop = network.addListener((event: NetworkEvent) => {
      if (event.type === 'peer:join' && event.peer === peer) {
        stop()
        resolve()
      }
    })
  })
}

describe('peer discovery on libp2p', () => {
  it('two nodes bootstrapped only to a third reach each other by id, through a record the third one vouches for', async () => {
    const hub = await node()
    const address = hub.listenAddresses()[0] as string
    const b = await node({ bootstrap: [address] })
    const c = await node({ bootstrap: [address] })
    c.handle('/test/echo', (request) => bytes(`c heard ${text(request.data)} from ${request.from.slice(0, 8)}`))
    expect(b.peers()).not.toContain(c.peerId)

    const answer = await b.request(c.peerId, '/test/echo', bytes('hello'))
    expect(text(answer)).toBe(`c heard hello from ${b.peerId.slice(0, 8)}`)
    expect(b.peers()).toContain(c.peerId)
  })

  it('connects at once to the peers connectToDiscovered names, and only to those', async () => {
    const hub = await node()
    const address = hub.listenAddresses()[0] as string
    const wanted = await node({ bootstrap: [address] })
    const other = await node({ bootstrap: [address] })
    const chosen = new Set([wanted.peerId])
    // The newcomer asks the hub, which holds both records, for its peers when they meet.
    const newcomerKey = crypto.generateKeyPair()
    const newcomer = createLibp2pNetwork({ crypto, keyPair: newcomerKey, bootstrap: [address], connectToDiscovered: (peer) => chosen.has(peer) })
    running.push(newcomer)
    const met = joined(newcomer, wanted.peerId)
    await newcomer.start()
    await met
    expect(newcomer.peers()).toContain(wanted.peerId)
    expect(newcomer.peers()).not.toContain(other.peerId)
  })

  it('connects by peer id to a peer a neighbour knows', async () => {
    const hub = await node()
    const address = hub.listenAddresses()[0] as string
    const b = await node({ bootstrap: [address] })
    const c = await node({ bootstrap: [address] })
    const met = joined(c, b.peerId)
    await b.connect(c.peerId)
    await met
    expect(b.peers()).toContain(c.peerId)
  })

  it('fails a request to a peer no neighbour knows with PEER_UNREACHABLE', async () => {
    const hub = await node()
    const lonely = await node({ bootstrap: [hub.listenAddresses()[0] as string] })
    const nobody = crypto.generateKeyPair()
    await expect(lonely.request(toHex(nobody.publicKey), '/test/echo', bytes('anyone?'))).rejects.toMatchObject({ code: GossipErrorCode.PEER_UNREACHABLE })
  })
})

describe('the peer-exchange codec', () => {
  it('round-trips records and refuses answers out of bounds or malformed', () => {
    const records = [bytes('one record'), new Uint8Array(MAX_PEER_RECORD_BYTES).fill(7)]
    expect(decodePeerRecords(encodePeerRecords(records))).toEqual(records)
    expect(decodePeerRecords(encodePeerRecords([]))).toEqual([])
    const invalid = expect.objectContaining({ code: GossipErrorCode.INVALID_INPUT })
    expect(() => encodePeerRecords(Array.from({ length: MAX_EXCHANGED_RECORDS + 1 }, () => bytes('x')))).toThrow(invalid)
    expect(() => encodePeerRecords([new Uint8Array(MAX_PEER_RECORD_BYTES + 1)])).toThrow(invalid)
    const good = encodePeerRecords([bytes('abc')])
    expect(() => decodePeerRecords(new Uint8Array(0))).toThrow(invalid)
    expect(() => decodePeerRecords(good.subarray(0, good.length - 1))).toThrow(invalid) // runs past the end
    expect(() => decodePeerRecords(Uint8Array.of(...good, 0))).toThrow(invalid) // bytes after the last record
    expect(() => decodePeerRecords(Uint8Array.of(MAX_EXCHANGED_RECORDS + 1))).toThrow(invalid)
    expect(() => decodePeerRecords(Uint8Array.of(1, 0, 0))).toThrow(invalid) // an empty record
    expect(() => decodePeerExchangeQuery(new Uint8Array(5))).toThrow(invalid)
    expect(decodePeerExchangeQuery(new Uint8Array(0))).toEqual({ kind: 'neighbours' })
  })
})
