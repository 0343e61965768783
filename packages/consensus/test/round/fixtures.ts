/** Members with key pairs, a genesis, rules and round-1 checkpoint blocks, for tests of the pure round layer. */
import { type Crypto, type KeyPair, toHex } from '@constellation/crypto'
import { createCheckpoint, EMPTY_CHAIN_HEAD, type HalfBlock } from '@constellation/trustchain'
import { defaultSolarSystemRules, genesisState, type SolarSystemRules, type SolarSystemState } from '../../src/index.js'

export interface RoundFixture {
  readonly pairs: readonly KeyPair[]
  readonly ids: readonly string[]
  readonly rules: SolarSystemRules
  readonly state: SolarSystemState
  /** A checkpoint of member i at sequence 1 recording the genesis (timestamp varies the block). */
  checkpoint(i: number, timestamp?: number): HalfBlock
}

export function roundFixture(crypto: Crypto, members: number, facilitators: number, rules?: SolarSystemRules): RoundFixture {
  const pairs = Array.from({ length: members }, (_, i) => crypto.keyPairFromSeed(Uint8Array.from({ length: 32 }, (_, j) => (j === 0 ? i & 0xff : j === 1 ? i >> 8 : 0xc0))))
  const ids = pairs.map((pair) => toHex(pair.publicKey))
  const chosen = rules ?? defaultSolarSystemRules({ facilitators })
  const state = genesisState(crypto, { level: 0, group: 'unit', members: ids, facilitators: [...ids].sort().slice(0, facilitators) }, chosen)
  return {
    pairs,
    ids,
    rules: chosen,
    state,
    checkpoint: (i, timestamp = 1) =>
      createCheckpoint({ crypto, keyPair: pairs[i] as KeyPair }, EMPTY_CHAIN_HEAD, { consensusResultHash: state.genesisHash, round: 0, timestamp }),
  }
}
