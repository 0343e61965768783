/** Members with key pairs, a genesis, rules and round-1 checkpoint blocks, for tests of the pure round layer. */
import { type Crypto, type KeyPair, toHex } from '@constellation/crypto'
import { createCheckpoint, EMPTY_CHAIN_HEAD, type HalfBlock, PayloadRegistry } from '@constellation/trustchain'
import { defaultSolarSystemRules, type SolarSystemRules, type SolarSystemState } from '../../src/index.js'
import { type AnchoredCheckpoint, checkSubmission, genesisState } from '../../src/round.js'

/**
 * A member's checkpoint with the stretch it closes (`blocks`, the checkpoint last), checked against `state` as a
 * facilitator checks a submission. Throws when the submission would be refused or held for a later round.
 */
export function anchored(crypto: Crypto, state: SolarSystemState, blocks: readonly HalfBlock[]): AnchoredCheckpoint {
  const checked = checkSubmission(crypto, new PayloadRegistry(), state, blocks)
  if (checked.kind !== 'anchored')
    throw new Error(`not an anchored checkpoint: ${checked.kind === 'refused' ? checked.reason : `missing blocks from ${checked.from}`}`)
  return checked.checkpoint
}

export interface RoundFixture {
  readonly pairs: readonly KeyPair[]
  readonly ids: readonly string[]
  readonly rules: SolarSystemRules
  readonly state: SolarSystemState
  /** A checkpoint of member i at sequence 1 recording the genesis (timestamp varies the block). */
  checkpoint(i: number, timestamp?: number): HalfBlock
  /** The same checkpoint as a facilitator holds it: with its (one-block) stretch, checked. */
  anchored(i: number, timestamp?: number): AnchoredCheckpoint
}

export function roundFixture(crypto: Crypto, members: number, facilitators: number, rules?: SolarSystemRules): RoundFixture {
  const pairs = Array.from({ length: members }, (_, i) =>
    crypto.keyPairFromSeed(Uint8Array.from({ length: 32 }, (_, j) => (j === 0 ? i & 0xff : j === 1 ? i >> 8 : 0xc0))),
  )
  const ids = pairs.map((pair) => toHex(pair.publicKey))
  const chosen = rules ?? defaultSolarSystemRules({ facilitators })
  const state = genesisState(crypto, { level: 0, group: 'unit', members: ids, facilitators: [...ids].sort().slice(0, facilitators) }, chosen)
  const checkpoint = (i: number, timestamp = 1): HalfBlock =>
    createCheckpoint({ crypto, keyPair: pairs[i] as KeyPair }, EMPTY_CHAIN_HEAD, { consensusResultHash: state.genesisHash, round: 0, timestamp })
  return {
    pairs,
    ids,
    rules: chosen,
    state,
    checkpoint,
    anchored: (i, timestamp) => anchored(crypto, state, [checkpoint(i, timestamp)]),
  }
}
