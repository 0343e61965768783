/**
 * Transfers across solar systems, the member side: after each certified round, the evidence its waiting transfers
 * need goes to the next round's facilitators (see `settlement-evidence.ts` for their side, `transfer-ledger.ts` for
 * the protocol):
 *   - its own certified proposals to members of other systems, still open, with the agreements that answered them;
 *   - its own certified agreements to proposals from other systems, still waiting, with the proposer's system's
 *     rooted agreement proof once there is one (asked for in the background, a few at a time, checked against the
 *     root's committees and kept; asked for again if it has not settled after `STALE_PROOF_ROUNDS`).
 * A facilitator answers how many of the pieces it holds; each piece goes to it until it holds them all, then again
 * only after `RESEND_ROUNDS` should the ledger still wait (it may have restarted), and to each new facilitator as the
 * committee changes. A facilitator a round behind, or one that missed the message, costs a round, not the transfer.
 */
import { type Crypto, toHex } from '@constellation/crypto'
import { type BlockLimits, encodeBlock } from '@constellation/trustchain'
import { certificateDigest } from '../round/checkpoint-result.js'
import type { AgreementProof } from '../finality/agreement-proof.js'
import { checkRootedAgreementProof, encodeFinalityPath, type FinalityPath, pathWithoutLeaves } from '../hierarchy/finality-path.js'
import { type AwaitingAgreement, proposalKey } from '../ledger/transfer-ledger.js'
import type { SolarSystemState } from '../round/solar-system.js'
import type { ConsensusNetwork, SolarSystemTiming } from './shell-timing.js'
import type { CrossSystemOptions } from './shell-types.js'
import {
  CHECKPOINT_PROTOCOL,
  decodeEvidenceAnswer,
  encodeSettlementEvidence,
  MAX_CREDITS_PER_CERTIFICATE,
  MAX_EVIDENCE_ANSWERS,
  MAX_EVIDENCE_CREDITS,
  type SettlementEvidence,
} from './wire.js'

/** Rooted proofs asked for at once. */
const PROOF_FETCHES = 4
/** Open proposals and waiting agreements looked at per round at most (the rest wait for these to settle). */
const MAX_PIECES = 256
/** Rounds a rooted proof is kept without settling before it is asked for again. */
const STALE_PROOF_ROUNDS = 64
/** Rounds after which a facilitator that took a piece of evidence is given it again, should the ledger still wait. */
const RESEND_ROUNDS = 16

export interface SettlementCourierOptions {
  readonly crypto: Crypto
  readonly self: string
  readonly network: Pick<ConsensusNetwork, 'request'>
  readonly group: { readonly level: number; readonly group: string }
  readonly timing: Pick<SolarSystemTiming, 'requestTimeoutMs'>
  readonly limits: BlockLimits
  readonly crossSystem: CrossSystemOptions
  /** The node's own facilitator side. */
  readonly own: { takeEvidence(from: string, evidence: SettlementEvidence): Promise<number> }
  readonly onError: ((error: unknown) => void) | undefined
  running(): boolean
}

export class SettlementCourier {
  readonly #options: SettlementCourierOptions
  /**
   * Proofs found, by the waiting entry's key, with the round they were found in: rooted (checked against the root's
   * committees) or, from the proposer's system as this node follows it, plain.
   */
  readonly #proofs = new Map<string, { readonly proof: AgreementProof; readonly paths?: readonly FinalityPath[]; readonly round: number }>()
  readonly #fetching = new Set<string>()
  /** Per piece of evidence (by hash), the facilitators that hold it and the round they said so. */
  readonly #given = new Map<string, Map<string, number>>()

  constructor(options: SettlementCourierOptions) {
    this.#options = options
  }

  /** A round was applied: sends what `state`'s waiting transfers need to the next round's facilitators. */
  async send(state: SolarSystemState): Promise<void> {
    const { self, crossSystem, limits, crypto } = this.#options
    if (!state.members.has(self)) return
    const answers: { readonly key: string; readonly pair: [Uint8Array, Uint8Array] }[] = []
    if (crossSystem.answered !== undefined) {
      const open = [...state.ledger.open.values()].filter((entry) => entry.proposer === self && !state.members.has(entry.counterparty))
      for (const entry of open.slice(0, MAX_PIECES)) {
        const halves = await crossSystem.answered(entry.sequenceNumber).catch(() => undefined)
        if (halves === undefined) continue
        const pair: [Uint8Array, Uint8Array] = [encodeBlock(halves.proposal, limits), encodeBlock(halves.agreement, limits)]
        answers.push({ key: toHex(crypto.sha256(pair[1])), pair })
      }
    }
    const credits: { readonly key: string; readonly proof: AgreementProof; readonly paths?: readonly FinalityPath[] }[] = []
    const waiting = [...state.ledger.awaiting.values()].filter((entry) => entry.counterparty === self && !state.members.has(entry.proposer))
    const keys = new Set(waiting.map((entry) => proposalKey(entry.proposer, entry.sequenceNumber)))
    for (const [key, found] of this.#proofs) {
      // Settled, or not taken for a long while (a proof the facilitators cannot check, say): asked for again.
      if (!keys.has(key) || state.round - found.round > STALE_PROOF_ROUNDS) this.#proofs.delete(key)
    }
    for (const entry of waiting.slice(0, MAX_PIECES)) {
      const key = proposalKey(entry.proposer, entry.sequenceNumber)
      const found = this.#proofs.get(key)
      if (found !== undefined) credits.push({ key: toHex(entry.hash), proof: found.proof, ...(found.paths === undefined ? {} : { paths: found.paths }) })
      else this.#fetch(key, entry, state.round)
    }
    if (answers.length === 0 && credits.length === 0) return
    const live = new Set([...answers.map((a) => a.key), ...credits.map((c) => c.key)])
    for (const key of this.#given.keys()) if (!live.has(key)) this.#given.delete(key)
    for (const facilitator of state.committee.facilitators) {
      if (!this.#options.running()) return
      // Each piece goes to a facilitator until it says it holds it, and again only after a while (it may restart).
      const due = (key: string) => {
        const at = this.#given.get(key)?.get(facilitator)
        return at === undefined || state.round - at >= RESEND_ROUNDS
      }
      const givenAnswers = answers.filter((a) => due(a.key)).slice(0, MAX_EVIDENCE_ANSWERS)
      const grouped = this.#grouped(credits.filter((c) => due(c.key)))
      if (givenAnswers.length === 0 && grouped.keys.length === 0) continue
      const evidence: SettlementEvidence = {
        level: this.#options.group.level,
        group: this.#options.group.group,
        answers: givenAnswers.map((a) => a.pair),
        credits: grouped.credits,
        followedCredits: grouped.followedCredits,
      }
      const pieces = [...givenAnswers.map((a) => a.key), ...grouped.keys]
      // A facilitator that holds all of them is not sent them again; one that holds fewer (it is a round behind,
      // or could not check one) gets them all next round.
      const noteHeld = (held: number) => {
        if (held < pieces.length) return
        for (const key of pieces) {
          const to = this.#given.get(key) ?? new Map<string, number>()
          to.set(facilitator, state.round)
          this.#given.set(key, to)
        }
      }
      if (facilitator === self) {
        this.#options.own.takeEvidence(self, evidence).then(noteHeld, (error: unknown) => this.#options.onError?.(error))
        continue
      }
      this.#options.network
        .request(facilitator, CHECKPOINT_PROTOCOL, encodeSettlementEvidence(evidence), { timeout: this.#options.timing.requestTimeoutMs })
        .then((answer) => noteHeld(decodeEvidenceAnswer(answer).held))
        .catch(() => undefined)
    }
  }

  /**
   * Asks for the proof of a waiting agreement in the background: from the proposer's system as this node follows it
   * (`agreementProofOf`), or rooted (`rootedProofOf`, checked against the root's committees before it is kept: a
   * validator's bad path must not be sent round after round).
   */
  #fetch(key: string, entry: AwaitingAgreement, round: number): void {
    const { agreementProofOf, rootedProofOf, rootCommittee } = this.#options.crossSystem
    if ((agreementProofOf === undefined && rootedProofOf === undefined) || this.#fetching.has(key) || this.#fetching.size >= PROOF_FETCHES) return
    this.#fetching.add(key)
    const found: Promise<{ readonly proof: AgreementProof; readonly paths?: readonly FinalityPath[] } | undefined> =
      agreementProofOf !== undefined
        ? agreementProofOf(entry).then((proof) => (proof === undefined ? undefined : { proof }))
        : (rootedProofOf as NonNullable<typeof rootedProofOf>)(entry).then(async (rooted) => {
            if (rooted === undefined) return undefined
            if (rootCommittee !== undefined && (await checkRootedAgreementProof(this.#options.crypto, rooted, rootCommittee)) !== undefined) return undefined
            return rooted
          })
    found
      .then((proof) => {
        if (proof !== undefined) this.#proofs.set(key, { ...proof, round })
      })
      .catch(() => undefined)
      .finally(() => this.#fetching.delete(key))
  }

  /**
   * Credits grouped by the certificate that finalised them: rooted ones with that certificate's path encoded once per
   * group, the others by the certificate's group and round.
   */
  #grouped(credits: readonly { readonly key: string; readonly proof: AgreementProof; readonly paths?: readonly FinalityPath[] }[]): {
    readonly credits: SettlementEvidence['credits']
    readonly followedCredits: SettlementEvidence['followedCredits']
    readonly keys: readonly string[]
  } {
    const { crypto, limits } = this.#options
    const rooted = new Map<string, { readonly credit: SettlementEvidence['credits'][number]; readonly keys: string[] }>()
    const followed = new Map<string, { readonly credit: SettlementEvidence['followedCredits'][number]; readonly keys: string[] }>()
    for (const { key, proof, paths } of credits) {
      const transfer = { proposal: encodeBlock(proof.proposal, limits), agreement: encodeBlock(proof.agreement, limits), leaf: proof.path }
      const { body } = proof.certificate.result
      const path = paths?.[0]
      const slot =
        path === undefined
          ? groupOf(followed, `${body.group}/${body.round}`, () => ({ group: body.group, round: body.round, transfers: [] }))
          : groupOf(rooted, toHex(certificateDigest(crypto, proof.certificate.result)), () => ({
              path: encodeFinalityPath(pathWithoutLeaves({ ...path, certificate: proof.certificate })),
              transfers: [],
            }))
      if (slot === undefined || slot.credit.transfers.length >= MAX_CREDITS_PER_CERTIFICATE) continue
      slot.credit.transfers.push(transfer)
      slot.keys.push(key)
    }
    return {
      credits: [...rooted.values()].map((g) => g.credit),
      followedCredits: [...followed.values()].map((g) => g.credit),
      keys: [...rooted.values(), ...followed.values()].flatMap((g) => g.keys),
    }
  }
}

/** The group under `key`, made when there is room for another (`MAX_EVIDENCE_CREDITS` per message). */
function groupOf<C>(
  groups: Map<string, { readonly credit: C; readonly keys: string[] }>,
  key: string,
  make: () => C,
): { readonly credit: C; readonly keys: string[] } | undefined {
  const held = groups.get(key)
  if (held !== undefined) return held
  if (groups.size >= MAX_EVIDENCE_CREDITS) return undefined
  const group = { credit: make(), keys: [] }
  groups.set(key, group)
  return group
}
