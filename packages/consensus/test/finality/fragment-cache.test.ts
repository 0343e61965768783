import { type Crypto } from '@constellation/crypto'
import {
  advanceHead,
  type ChainHead,
  containsExactlyOnce,
  createAgreement,
  createCheckpoint,
  createProposal,
  EMPTY_CHAIN_HEAD,
  type HalfBlock,
} from '@constellation/trustchain'
import { beforeAll, describe, expect, it } from 'vitest'
import { FragmentCache, holdsExactlyOnce, indexFragment } from '../../src/index.js'
import { testCrypto } from '../support/solar-system-sim.js'

let crypto: Crypto
beforeAll(async () => {
  crypto = await testCrypto()
})

function chain(crypto: Crypto, seed: number, build: (append: (make: (head: ChainHead) => HalfBlock) => HalfBlock) => void): HalfBlock[] {
  const keyPair = crypto.keyPairFromSeed(new Uint8Array(32).fill(seed))
  const blocks: HalfBlock[] = []
  let head = EMPTY_CHAIN_HEAD
  const append = (make: (head: ChainHead) => HalfBlock) => {
    const block = make(head)
    head = advanceHead(crypto, head, block)
    blocks.push(block)
    return block
  }
  const checkpoint = (h: ChainHead) => createCheckpoint({ crypto, keyPair }, h, { consensusResultHash: new Uint8Array(32), round: 0, timestamp: 1 })
  append(checkpoint)
  build(append)
  append(checkpoint)
  return blocks
}

describe('indexed fragments', () => {
  it('answer membership exactly as containsExactlyOnce does, including a proposal answered twice', () => {
    const alice = crypto.keyPairFromSeed(new Uint8Array(32).fill(1))
    const bob = crypto.keyPairFromSeed(new Uint8Array(32).fill(2))
    let proposal: HalfBlock | undefined
    const aliceChain = chain(crypto, 1, (append) => {
      proposal = append((h) => createProposal({ crypto, keyPair: alice }, h, { counterparty: bob.publicKey, payload: { kind: 'note', text: 'hi' }, timestamp: 1 }))
    })
    const agreements: HalfBlock[] = []
    const bobChain = chain(crypto, 2, (append) => {
      agreements.push(append((h) => createAgreement({ crypto, keyPair: bob }, h, proposal!, { timestamp: 1 })))
      agreements.push(append((h) => createAgreement({ crypto, keyPair: bob }, h, proposal!, { timestamp: 2 })))
    })
    const stranger = createProposal({ crypto, keyPair: alice }, EMPTY_CHAIN_HEAD, { counterparty: bob.publicKey, payload: { kind: 'note' }, timestamp: 1 })
    const cases: [HalfBlock[], HalfBlock][] = [
      [aliceChain, proposal!],
      [aliceChain, stranger],
      [aliceChain, aliceChain[0]!],
      [bobChain, agreements[0]!],
      [bobChain, agreements[1]!],
    ]
    for (const [blocks, half] of cases) {
      const fragment = { publicKey: blocks[0]!.publicKey, blocks }
      expect(holdsExactlyOnce(crypto, indexFragment(crypto, fragment), half)).toBe(containsExactlyOnce(crypto, fragment, half))
    }
    expect(holdsExactlyOnce(crypto, indexFragment(crypto, { publicKey: alice.publicKey, blocks: aliceChain }), proposal!)).toBe(true)
    expect(holdsExactlyOnce(crypto, indexFragment(crypto, { publicKey: bob.publicKey, blocks: bobChain }), agreements[0]!)).toBe(false)
  })

  it('the cache keeps the most recently used entries within its capacity', () => {
    const cache = new FragmentCache(2)
    const entry = indexFragment(crypto, { publicKey: new Uint8Array(32), blocks: [] })
    cache.set('a', entry)
    cache.set('b', entry)
    cache.get('a')
    cache.set('c', entry)
    expect([cache.get('a'), cache.get('b'), cache.get('c')].map((e) => e !== undefined)).toEqual([true, false, true])
  })
})
