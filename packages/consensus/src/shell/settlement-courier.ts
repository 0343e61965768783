/**
 * Transfers across solar systems, the member side: after each certified round, the evidence its waiting transfers
 * need goes to the next round's facilitators (see `settlement-evidence.ts` for their side, `transfer-ledger.ts` for
 * the protocol):
 *   - its own certified proposals to members of other systems, still open, with the agreements that answered them;
 *   - its own certified agreements to proposals from other systems, still waiting, with the proposer's system's
 *     rooted agreement proof once there is one (asked for in the background, a few at a time, kept once found).
 * It is sent again every round while the ledger waits, so a facilitator that missed it, or a committee that changed,
 * costs a round, not the transfer.
 */
import type { Crypto } from '@constellation/crypto'
import { type BlockLimits, encodeBlock } from '@constellation/trustchain'
import { encodeAgreementProof } from '../finality/agreement-proof.js'
import { encodeFinalityPath, type RootedAgreementProof } from '../hierarchy/finality-path.js'
import { proposalKey } from '../ledger/transfer-ledger.js'
import type { SolarSystemState } from '../round/solar-system.js'
import type { ConsensusNetwork, SolarSystemTiming } from './shell-timing.js'
import type { CrossSystemOptions } from './shell-types.js'
import { CHECKPOINT_PROTOCOL, encodeSettlementEvidence, MAX_EVIDENCE_ANSWERS, MAX_EVIDENCE_CREDITS, type SettlementEvidence } from './wire.js'

/** Rooted proofs asked for at once. */
const PROOF_FETCHES = 4

export interface SettlementCourierOptions {
  readonly crypto: Crypto
  readonly self: string
  readonly network: Pick<ConsensusNetwork, 'request'>
  readonly group: { readonly level: number; readonly group: string }
  readonly timing: Pick<SolarSystemTiming, 'requestTimeoutMs'>
  readonly limits: BlockLimits
  readonly crossSystem: CrossSystemOptions
  /** The node's own facilitator side. */
  readonly own: { takeEvidence(evidence: SettlementEvidence): Promise<void> }
  readonly onError: ((error: unknown) => void) | undefined
  running(): boolean
}

export class SettlementCourier {
  readonly #options: SettlementCourierOptions
  /** Rooted proofs found, by the waiting entry's key (dropped once the ledger no longer waits). */
  readonly #proofs = new Map<string, { readonly proof: Uint8Array; readonly paths: Uint8Array[] }>()
  readonly #fetching = new Set<string>()

  constructor(options: SettlementCourierOptions) {
    this.#options = options
  }

  /** A round was applied: sends what `state`'s waiting transfers need to the next round's facilitators. */
  async send(state: SolarSystemState): Promise<void> {
    const { self, crossSystem, limits } = this.#options
    if (!state.members.has(self)) return
    const answers: [Uint8Array, Uint8Array][] = []
    if (crossSystem.answered !== undefined) {
      const open = [...state.ledger.open.values()].filter((entry) => entry.proposer === self && !state.members.has(entry.counterparty))
      for (const entry of open.slice(0, MAX_EVIDENCE_ANSWERS)) {
        const halves = await crossSystem.answered(entry.sequenceNumber).catch(() => undefined)
        if (halves !== undefined) answers.push([encodeBlock(halves.proposal, limits), encodeBlock(halves.agreement, limits)])
      }
    }
    const credits: SettlementEvidence['credits'] = []
    const waiting = [...state.ledger.awaiting.values()].filter((entry) => entry.counterparty === self && !state.members.has(entry.proposer))
    const keys = new Set(waiting.map((entry) => proposalKey(entry.proposer, entry.sequenceNumber)))
    for (const key of this.#proofs.keys()) if (!keys.has(key)) this.#proofs.delete(key)
    for (const entry of waiting) {
      const key = proposalKey(entry.proposer, entry.sequenceNumber)
      const found = this.#proofs.get(key)
      if (found !== undefined) {
        if (credits.length < MAX_EVIDENCE_CREDITS) credits.push(found)
        continue
      }
      const { rootedProofOf } = crossSystem
      if (rootedProofOf === undefined || this.#fetching.has(key) || this.#fetching.size >= PROOF_FETCHES) continue
      this.#fetching.add(key)
      rootedProofOf(entry)
        .then((rooted) => {
          if (rooted !== undefined) this.#proofs.set(key, this.#encode(rooted))
        })
        .catch(() => undefined)
        .finally(() => this.#fetching.delete(key))
    }
    if (answers.length === 0 && credits.length === 0) return
    const evidence: SettlementEvidence = { level: this.#options.group.level, group: this.#options.group.group, answers, credits }
    const bytes = encodeSettlementEvidence(evidence)
    for (const facilitator of state.committee.facilitators) {
      if (!this.#options.running()) return
      if (facilitator === self) this.#options.own.takeEvidence(evidence).catch((error: unknown) => this.#options.onError?.(error))
      // Unanswered is fine: it goes again next round while the ledger waits.
      else this.#options.network.request(facilitator, CHECKPOINT_PROTOCOL, bytes, { timeout: this.#options.timing.requestTimeoutMs }).catch(() => undefined)
    }
  }

  #encode(rooted: RootedAgreementProof): { proof: Uint8Array; paths: Uint8Array[] } {
    return { proof: encodeAgreementProof(rooted.proof, this.#options.limits), paths: rooted.paths.map(encodeFinalityPath) }
  }
}
