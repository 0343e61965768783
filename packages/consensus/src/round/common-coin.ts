/**
 * The common coin of the binary agreements, derived from public data: the previous certified result's hash, the
 * group and round, the agreement instance and its agreement round. Every honest facilitator flips the same coin
 * without exchanging a message or holding a threshold key.
 *
 * The price: anyone who has seen the previous certificate can predict every flip. Safety never depends on the coin
 * (binary agreement decides only values that honest facilitators proposed, whatever it shows); termination does:
 * an adversary that controls message timing and knows the coin can schedule deliveries so that the honest
 * facilitators' estimates keep disagreeing with it, delaying decisions for as long as it keeps that control.
 * Real networks rarely give an adversary such precise timing; a threshold-signature coin would remove the gap.
 */
import type { Crypto } from '@constellation/crypto'
import { encodeCanonical } from '@constellation/crypto'
import type { CommonCoin } from '../acs/acs-api.js'

export interface CoinSeed {
  readonly previousResultHash: Uint8Array
  readonly level: number
  readonly group: string
  readonly round: number
}

export function commonCoin(crypto: Crypto, seed: CoinSeed): CommonCoin {
  const cache = new Map<string, boolean>()
  return (instance, agreementRound) => {
    const key = `${instance}/${agreementRound}`
    let flip = cache.get(key)
    if (flip === undefined) {
      const bytes = encodeCanonical(['constellation/coin/1', seed.previousResultHash, seed.level, seed.group, seed.round, instance, agreementRound])
      flip = ((crypto.sha256(bytes)[0] as number) & 1) === 1
      cache.set(key, flip)
    }
    return flip
  }
}
