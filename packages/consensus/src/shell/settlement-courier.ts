/**
 * Transfers across solar systems, the member side: after each certified round, the evidence its waiting transfers
 * need goes to the next round's facilitators (see `settlement-evidence.ts` for their side, `transfer-ledger.ts` for
 * the protocol):
 *   - its own certified proposals to members of other systems, still open, with the agreements that answered them;
 *   - its own certified agreements to proposals from other systems, still waiting, with the proposer's system's
 *     rooted agreement proof once there is one (asked for in the background, a few at a time, checked against the
 *     root's committees and kept; asked for again if it has not settled after `STALE_PROOF_ROUNDS`).
 * A facilitator answers which pieces it holds; each piece goes to it until it holds it, then again only after
 * `RESEND_ROUNDS` should the ledger still wait (it may have restarted); one it did not take goes again after 1, 2, 4,
 * … rounds (it was a round behind, or cannot check it); and each goes to each new facilitator as the committee
 * changes. Entries whose answer or proof is not there yet are looked for again after `RETRY_ROUNDS`, so they never
 * keep the ones behind them waiting.
 */
import { type Crypto, toHex } from '@constellation/crypto'
import { type BlockLimits, blockHash, encodeBlock } from '@constellation/trustchain'
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
/** Answers and credits sent per round at most (the rest go as these settle). */
const MAX_PIECES = 256
/** Open proposals whose answer is looked up in the store per round at most. */
const MAX_LOOKUPS = 1_024
/** Rounds before an answer or a proof that was not there is looked for again. */
const RETRY_ROUNDS = 2
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
  readonly own: { takeEvidence(from: string, evidence: SettlementEvidence): Promise<readonly boolean[]> }
  /** Bytes of one network message at most (rooted credits are packed within half of it). */
  readonly maxMessageBytes: number
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
  /** When each waiting entry's proof, or each open proposal's answer, was last looked for and not found. */
  readonly #missed = new Map<string, number>()
  /** Per piece of evidence (by hash) and facilitator: the round it was last given, whether it held it, how often not. */
  readonly #given = new Map<string, Map<string, { round: number; held: boolean; refusals: number }>>()

  constructor(options: SettlementCourierOptions) {
    this.#options = options
  }

  /** A round was applied: sends what `state`'s waiting transfers need to the next round's facilitators. */
  async send(state: SolarSystemState): Promise<void> {
    const { self, crossSystem, limits, crypto } = this.#options
    if (!state.members.has(self)) return
    // Looked for again only after a few rounds, so that entries that cannot be settled yet (their answer or proof
    // not there) do not keep the ones behind them from being looked at.
    const lookable = (key: string) => state.round - (this.#missed.get(key) ?? Number.NEGATIVE_INFINITY) >= RETRY_ROUNDS
    const answers: { readonly key: string; readonly pair: [Uint8Array, Uint8Array] }[] = []
    const open = [...state.ledger.open.values()].filter((entry) => entry.proposer === self && !state.members.has(entry.counterparty))
    const waiting = [...state.ledger.awaiting.values()].filter((entry) => entry.counterparty === self && !state.members.has(entry.proposer))
    const live = new Set([...open, ...waiting].map((entry) => proposalKey(entry.proposer, entry.sequenceNumber)))
    for (const key of this.#missed.keys()) if (!live.has(key)) this.#missed.delete(key)
    if (crossSystem.answered !== undefined) {
      let lookups = 0
      for (const entry of open) {
        const key = proposalKey(entry.proposer, entry.sequenceNumber)
        if (answers.length >= MAX_PIECES || lookups >= MAX_LOOKUPS) break
        if (!lookable(key)) continue
        lookups++
        const halves = await crossSystem.answered(entry.sequenceNumber).catch(() => undefined)
        if (halves === undefined) {
          this.#missed.set(key, state.round)
          continue
        }
        const pair: [Uint8Array, Uint8Array] = [encodeBlock(halves.proposal, limits), encodeBlock(halves.agreement, limits)]
        // Keyed by the agreement's hash, as credits are.
        answers.push({ key: toHex(blockHash(crypto, halves.agreement)), pair })
      }
    }
    const credits: { readonly key: string; readonly proof: AgreementProof; readonly paths?: readonly FinalityPath[] }[] = []
    for (const [key, found] of this.#proofs) {
      // Settled, or not taken for a long while (a proof the facilitators cannot check, say): asked for again.
      if (!live.has(key) || state.round - found.round > STALE_PROOF_ROUNDS) this.#proofs.delete(key)
    }
    for (const entry of waiting) {
      if (credits.length >= MAX_PIECES) break
      const key = proposalKey(entry.proposer, entry.sequenceNumber)
      const found = this.#proofs.get(key)
      if (found !== undefined) credits.push({ key: toHex(entry.hash), proof: found.proof, ...(found.paths === undefined ? {} : { paths: found.paths }) })
      else if (lookable(key)) this.#fetch(key, entry, state.round)
    }
    const pieceKeys = new Set([...answers.map((a) => a.key), ...credits.map((c) => c.key)])
    for (const key of this.#given.keys()) if (!pieceKeys.has(key)) this.#given.delete(key)
    if (pieceKeys.size === 0) return
    for (const facilitator of state.committee.facilitators) {
      if (!this.#options.running()) return
      // Each piece goes to a facilitator until it holds it (again after `RESEND_ROUNDS`, in case it restarted); one it
      // did not take (a round behind, or it cannot check it) goes again after 1, 2, 4, … rounds.
      const due = (key: string) => {
        const given = this.#given.get(key)?.get(facilitator)
        if (given === undefined) return true
        const wait = given.held ? RESEND_ROUNDS : Math.min(RESEND_ROUNDS, 2 ** (given.refusals - 1))
        return state.round - given.round >= wait
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
      const noteHeld = (held: readonly boolean[]) => {
        pieces.forEach((key, i) => {
          const to = this.#given.get(key) ?? new Map<string, { round: number; held: boolean; refusals: number }>()
          const refusals = held[i] === true ? 0 : (to.get(facilitator)?.refusals ?? 0) + 1
          to.set(facilitator, { round: state.round, held: held[i] === true, refusals })
          this.#given.set(key, to)
        })
      }
      if (facilitator === self) {
        this.#options.own.takeEvidence(self, evidence).then(noteHeld, (error: unknown) => this.#options.onError?.(error))
        continue
      }
      let bytes: Uint8Array
      try {
        bytes = encodeSettlementEvidence(evidence)
      } catch (error) {
        // Within the byte budget it fits; should it not, the others still get theirs.
        this.#options.onError?.(error)
        continue
      }
      this.#options.network
        .request(facilitator, CHECKPOINT_PROTOCOL, bytes, { timeout: this.#options.timing.requestTimeoutMs })
        .then((answer) => noteHeld(decodeEvidenceAnswer(answer, pieces.length)))
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
        else this.#missed.set(key, round)
      })
      .catch(() => this.#missed.set(key, round))
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
    // Rooted credits carry their certificate's path: within half a network message, so that the evidence fits one.
    let budget = this.#options.maxMessageBytes / 2
    const followed = new Map<string, { readonly credit: SettlementEvidence['followedCredits'][number]; readonly keys: string[] }>()
    for (const { key, proof, paths } of credits) {
      const transfer = { proposal: encodeBlock(proof.proposal, limits), agreement: encodeBlock(proof.agreement, limits), leaf: proof.path }
      const { body } = proof.certificate.result
      const path = paths?.[0]
      const slot =
        path === undefined
          ? groupOf(followed, `${body.group}/${body.round}`, () => ({ group: body.group, round: body.round, transfers: [] }))
          : groupOf(rooted, toHex(certificateDigest(crypto, proof.certificate.result)), () => {
              const encoded = encodeFinalityPath(pathWithoutLeaves({ ...path, certificate: proof.certificate }))
              if (encoded.length > budget) return undefined
              budget -= encoded.length
              return { path: encoded, transfers: [] }
            })
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

/** The group under `key`, made when there is room for another (`MAX_EVIDENCE_CREDITS` per message, and `make`'s say). */
function groupOf<C>(
  groups: Map<string, { readonly credit: C; readonly keys: string[] }>,
  key: string,
  make: () => C | undefined,
): { readonly credit: C; readonly keys: string[] } | undefined {
  const held = groups.get(key)
  if (held !== undefined) return held
  if (groups.size >= MAX_EVIDENCE_CREDITS) return undefined
  const credit = make()
  if (credit === undefined) return undefined
  const group = { credit, keys: [] }
  groups.set(key, group)
  return group
}
