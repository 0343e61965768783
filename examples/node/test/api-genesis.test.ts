/**
 * GET /v1/genesis on one in-process node: the network genesis as operators share it (the file's fields, decoded)
 * and its fingerprint, the SHA-256 of its canonical encoding — the same for the same genesis written another way.
 */
import { createHash } from 'node:crypto'
import { encodeCanonical, loadCrypto } from '@constellation/crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { genesisFingerprint, NetworkGenesisCodec } from '../src/config/network-genesis-form.js'
import type { GenesisBody } from './api-bodies.js'
import { call, startNetwork, type TestNetwork } from './explorer-api-harness.js'

let net: TestNetwork

beforeAll(async () => {
  net = await startNetwork({ count: 1, bundler: async () => [] })
}, 30_000)

afterAll(async () => {
  await net?.close()
})

describe('GET /v1/genesis', () => {
  it('answers the genesis this node runs and the SHA-256 of its canonical encoding', async () => {
    const node = net.nodes[0]!
    const reply = await call<GenesisBody>(net.url(0, '/v1/genesis'))
    expect(reply.status).toBe(200)
    expect(reply.json.genesis).toEqual(node.genesis)
    expect(NetworkGenesisCodec.is(reply.json.genesis)).toBe(true)
    expect(reply.json.fingerprint).toBe(createHash('sha256').update(encodeCanonical(reply.json.genesis)).digest('hex'))
  })

  it('gives a genesis the same fingerprint whatever its key order or extra fields, and another genesis another', async () => {
    const crypto = await loadCrypto()
    const genesis = net.nodes[0]!.genesis
    if (genesis.version !== 1) throw new Error('the test network has a version 1 genesis')
    const reordered = JSON.parse(
      JSON.stringify({
        members: genesis.members,
        facilitators: genesis.facilitators,
        comment: 'x',
        timestamp: genesis.timestamp,
        group: genesis.group,
        version: 1,
      }),
    )
    const decoded = NetworkGenesisCodec.decode(reordered)
    expect(decoded._tag).toBe('Right')
    if (decoded._tag === 'Right') expect(genesisFingerprint(crypto, decoded.right)).toBe(genesisFingerprint(crypto, genesis))
    expect(genesisFingerprint(crypto, { ...genesis, timestamp: genesis.timestamp + 1 })).not.toBe(genesisFingerprint(crypto, genesis))
  })
})
