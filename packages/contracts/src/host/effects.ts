/**
 * A contract's effects: what an invocation asks its host to do on its behalf. `propose` effects become proposals in
 * the host's chain; `countersign` effects become consents (see consents.ts).
 *
 * Effects are checked in full when quoted (keys, payload kinds, encodability, block limits) and the proposals are
 * built before anything is committed, so a bad effect leaves state and chain untouched. A contract speaks for
 * itself, not for its host's purse: a proposal may not carry a transfer or any value field (`amount`, `balance`,
 * `payment`, `value`), and a consent names the exact payload (its hash) it agrees to.
 */
import { fromHex } from '@constellation/crypto'
import { advanceHead, type BlockAuthor, type ChainHead, createProposal, type HalfBlock } from '@constellation/trustchain'
import { isLeft } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { DEPLOY_KIND, INVOKE_KIND } from '../chain/payloads.js'
import { ContractError, ContractErrorCode } from '../errors.js'
import { asCbor, type JsonValue } from '../json/json-value.js'
import { consentKey } from './consents.js'

const PublicKeyHex = t.refinement(t.string, (s) => /^[0-9a-f]{64}$/.test(s), 'PublicKeyHex')
const ProposeEffect = t.type({ kind: t.literal('propose'), counterparty: PublicKeyHex, payload: t.intersection([t.UnknownRecord, t.type({ kind: t.string })]) })
const CountersignEffect = t.type({
  kind: t.literal('countersign'),
  proposer: PublicKeyHex,
  sequenceNumber: t.refinement(t.number, (n) => Number.isSafeInteger(n) && n >= 1, 'SequenceNumber'),
  /** Hex SHA-256 of the canonical encoding of the payload the contract agrees to. */
  payloadHash: PublicKeyHex,
})
const EffectCodec = t.union([ProposeEffect, CountersignEffect])

/** Payload kinds that move value or speak for the host's other roles: never proposed on a contract's word. */
const FORBIDDEN_PAYLOAD_KINDS: ReadonlySet<string> = new Set(['transfer', DEPLOY_KIND, INVOKE_KIND])
/** Fields that carry value: a payload holding one is refused, whatever its kind. */
const VALUE_FIELDS = ['amount', 'balance', 'payment', 'value']

/** The proposals effects make after a head, the head after them, and the consent keys they give. */
export interface BuiltEffects {
  proposals: HalfBlock[]
  head: ChainHead
  consents: string[]
}

/**
 * Checks every effect and builds the proposals they make after `from`, without touching the host's chain: the
 * blocks, the head after them and the consents. Any bad effect is a RESULT_MALFORMED error.
 */
export function buildEffects(author: BlockAuthor, effects: JsonValue, from: ChainHead, timestamp: number): BuiltEffects {
  const built: BuiltEffects = { proposals: [], head: from, consents: [] }
  for (const effect of effects as JsonValue[]) {
    const decoded = EffectCodec.decode(effect)
    if (isLeft(decoded)) {
      throw new ContractError(
        ContractErrorCode.RESULT_MALFORMED,
        'an effect is neither { kind: "propose", counterparty, payload } nor { kind: "countersign", proposer, sequenceNumber, payloadHash } (keys and hashes as 64 lowercase hex digits)',
      )
    }
    const checked = decoded.right
    if (checked.kind === 'countersign') {
      built.consents.push(consentKey(checked.proposer, checked.sequenceNumber, checked.payloadHash))
      continue
    }
    if (FORBIDDEN_PAYLOAD_KINDS.has(checked.payload.kind) || VALUE_FIELDS.some((field) => field in checked.payload)) {
      throw new ContractError(
        ContractErrorCode.RESULT_MALFORMED,
        `a contract may not propose a ${checked.payload.kind} payload or one carrying value (${VALUE_FIELDS.join(', ')})`,
        { kind: checked.payload.kind },
      )
    }
    try {
      const block = createProposal(author, built.head, { counterparty: fromHex(checked.counterparty), payload: asCbor(checked.payload), timestamp })
      built.proposals.push(block)
      built.head = advanceHead(author.crypto, built.head, block)
    } catch (cause) {
      throw new ContractError(
        ContractErrorCode.RESULT_MALFORMED,
        `a proposed payload does not make a valid block: ${cause instanceof Error ? cause.message : String(cause)}`,
        {},
        { cause },
      )
    }
  }
  return built
}
