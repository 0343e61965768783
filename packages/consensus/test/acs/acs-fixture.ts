/**
 * Shared fixtures for the ACS tests: a committee of n facilitators with readable ids, a seeded common coin and
 * SHA-256, and a plain fair network loop for the tests that do not need an adversary.
 */
import { loadCrypto } from '@constellation/crypto'
import { createRandom } from '@constellation/gossip'
import { type AcsConfig, type AcsMessage, type AcsOutput, type AcsState, acsStep, initialAcsState } from '../../src/acs.js'

const crypto = await loadCrypto()
export const sha256 = (value: Uint8Array): Uint8Array => crypto.sha256(value)

export function facilitatorIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `f${String(i).padStart(2, '0')}`)
}

/** A coin every facilitator computes alike, from a seed, the instance and the round (as the checkpoint round does). */
export function seededCoin(seed: number | string): (instance: number, round: number) => boolean {
  return (instance, round) => createRandom(`${seed}/coin/${instance}/${round}`).int(2) === 1
}

export function acsConfig(ids: readonly string[], self: string, faults: number, coinSeed: number | string = 1, maxProposalBytes = 4096): AcsConfig {
  return { participants: ids, self, faults, coin: seededCoin(coinSeed), digest: sha256, maxProposalBytes }
}

export function proposalOf(id: string, variant = ''): Uint8Array {
  return new TextEncoder().encode(`proposal of ${id}${variant}`)
}

/**
 * Runs honest facilitators (all of `ids` not in `silent`) to quiescence, delivering in an order chosen by `seed`;
 * silent facilitators never send anything. Returns each honest facilitator's output.
 */
export function runFair(
  ids: readonly string[],
  faults: number,
  seed: number,
  options: { silent?: readonly string[]; proposals?: ReadonlyMap<string, Uint8Array> } = {},
): Map<string, AcsOutput> {
  const random = createRandom(seed)
  const silent = new Set(options.silent ?? [])
  const states = new Map<string, AcsState>()
  const outputs = new Map<string, AcsOutput>()
  const inFlight: { from: string; to: string; message: AcsMessage }[] = []
  const post = (from: string, outbox: readonly { to: string; message: AcsMessage }[]) => {
    for (const { to, message } of outbox) {
      for (const target of to === 'all' ? ids : [to]) if (target !== from && !silent.has(target)) inFlight.push({ from, to: target, message })
    }
  }
  for (const id of ids) {
    if (silent.has(id)) continue
    const { state, outbox } = acsStep(initialAcsState(acsConfig(ids, id, faults, seed)), {
      type: 'propose',
      value: options.proposals?.get(id) ?? proposalOf(id),
    })
    states.set(id, state)
    post(id, outbox)
  }
  while (inFlight.length > 0) {
    const at = random.int(inFlight.length)
    const envelope = inFlight[at] as (typeof inFlight)[number]
    inFlight[at] = inFlight[inFlight.length - 1] as (typeof inFlight)[number]
    inFlight.pop()
    const result = acsStep(states.get(envelope.to) as AcsState, { type: 'message', from: envelope.from, message: envelope.message })
    states.set(envelope.to, result.state)
    if (result.output !== undefined) {
      if (outputs.has(envelope.to)) throw new Error(`${envelope.to} output twice`)
      outputs.set(envelope.to, result.output)
    }
    post(envelope.to, result.outbox)
  }
  return outputs
}
