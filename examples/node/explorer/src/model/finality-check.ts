/**
 * Checks a transaction's finality in the page instead of trusting the node: from the network genesis the node
 * names (whose fingerprint the user compares with the published one), rebuild the solar system's certificate chain
 * from round 1 — each certificate signed by the committee the previous one handed over — then check the agreement
 * proof against that chain and that its two halves are the transaction shown: every field the page shows of it
 * (parties, amount, both halves), not only their hashes, since all of them come from the node.
 *
 * The node is only a source of bytes (`FinalitySource`): a lie shows as a failed check with its reason. The verified
 * history is kept for the page's lifetime and extended for later transactions, not rebuilt from round 1. Checks run
 * a few certificates at a time with a pause between, so a long chain does not freeze the page.
 */
import {
  type AgreementProof,
  type CertificateHistory,
  type CheckpointCertificate,
  type SolarSystemGenesis,
  checkAgreementProof,
  committeesOf,
  decodeAgreementProof,
  decodeCertificate,
  resultHash,
  verifyCertificate,
  verifyCertificateChain,
} from '@constellation/consensus'
import { type Crypto, equalBytes, fromHex, toHex } from '@constellation/crypto'
import { blockHash } from '@constellation/trustchain'
import { type ProofSummary, proofSummary } from '../../../src/api/views/agreement-proof-view.js'
import { type TransactionView, transactionView } from '../../../src/api/views/transaction-view.js'
import {
  foundedSolarSystems,
  genesisFingerprint,
  type NetworkGenesis,
  NetworkGenesisCodec,
  solarSystemGenesisOf,
} from '../../../src/config/network-genesis-form.js'

/** Where the bytes come from: the node's GET /v1/genesis and GET /v1/consensus/rounds, as JSON. */
export interface FinalitySource {
  genesis(): Promise<{ readonly genesis: unknown; readonly fingerprint: string }>
  rounds(from: number, limit: number): Promise<{ readonly latestRound: number; readonly rounds: readonly { readonly round: number; readonly hex: string }[] }>
}

/** The transaction as the page shows it (the node's view of it; `id` is the one the page was opened for). */
export type ShownTransaction = Pick<TransactionView, 'id' | 'from' | 'to' | 'amount' | 'proposal' | 'agreement'>

/** The fields of a `ShownTransaction` the check compares with the proof's halves, in the order it names them. */
const SHOWN_FIELDS = ['from', 'to', 'amount', 'proposal', 'agreement'] as const

/** Deep equality of JSON values (object keys in any order). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return false
  const aKeys = Object.keys(a)
  const bRecord = b as Record<string, unknown>
  return aKeys.length === Object.keys(b).length && aKeys.every((key) => key in bRecord && sameJson((a as Record<string, unknown>)[key], bRecord[key]))
}

export type FinalityVerdict =
  | {
      readonly verified: true
      /** Certificates checked from the genesis on (rounds 1 to this). */
      readonly certificates: number
      /** The fingerprint of the genesis they were checked from, computed here. */
      readonly fingerprint: string
      /** Ed25519 signatures checked for this verdict: the chain's (so far) and the proof's. */
      readonly signatures: number
      /** What the verified proof contains, summarised here (the page shows this, not the node's summary). */
      readonly summary: ProofSummary
    }
  | { readonly verified: false; readonly reason: string }

export interface FinalityProgress {
  readonly certificates: number
  readonly of: number
}

/** Most certificates one page of GET /v1/consensus/rounds returns. */
const ROUNDS_PER_REQUEST = 100
/** Certificates checked between pauses: a few tens of milliseconds of noble's Ed25519 in a browser. */
const CERTIFICATES_PER_SLICE = 8
/**
 * Certificates one check verifies at most beyond what the page verified before. The chain is checked from the
 * genesis, so the work grows with the network's age: past this (minutes of a browser's CPU), the page says so
 * instead of starting work it would not finish.
 */
export const DEFAULT_MAX_CERTIFICATES_CHECKED = 5_000

/** Thrown inside the check to end it with a reason; anything else thrown is reported with its message. */
class CheckFailure extends Error {}

const pause = () => new Promise<void>((resolve) => setTimeout(resolve, 0))

/** `crypto`, counting the signatures it checks. */
function countingCrypto(crypto: Crypto): { readonly crypto: Crypto; readonly count: () => number } {
  let checked = 0
  const counted: Crypto = {
    backend: crypto.backend,
    generateKeyPair: () => crypto.generateKeyPair(),
    keyPairFromSeed: (seed) => crypto.keyPairFromSeed(seed),
    sign: (message, keyPair) => crypto.sign(message, keyPair),
    verify: (signature, message, publicKey) => {
      checked++
      return crypto.verify(signature, message, publicKey)
    },
    verifyMany: (items) => {
      checked += items.length
      return crypto.verifyMany(items)
    },
    sha256: (data) => crypto.sha256(data),
  }
  return { crypto: counted, count: () => checked }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

export class FinalityChecker {
  readonly #crypto: Crypto
  readonly #count: () => number
  readonly #source: FinalitySource
  #genesis: Promise<{ readonly genesis: NetworkGenesis; readonly fingerprint: string }> | undefined
  #history: CertificateHistory | undefined
  /** Signatures checked for the certificates in `#history`. */
  #chainSignatures = 0
  /** Checks run one after another: they share the history. */
  #queue: Promise<unknown> = Promise.resolve()

  readonly #maxCertificates: number

  constructor(crypto: Crypto, source: FinalitySource, options: { readonly maxCertificates?: number } = {}) {
    const counting = countingCrypto(crypto)
    this.#crypto = counting.crypto
    this.#count = counting.count
    this.#source = source
    this.#maxCertificates = options.maxCertificates ?? DEFAULT_MAX_CERTIFICATES_CHECKED
  }

  /** The last round verified so far (0 before any). */
  get verifiedRound(): number {
    return this.#history?.round ?? 0
  }

  /** Whether `proofHex` (GET /v1/transactions/:id/proof's `proof`) proves `transaction` final, and why not. */
  verify(transaction: ShownTransaction, proofHex: string, onProgress?: (progress: FinalityProgress) => void): Promise<FinalityVerdict> {
    const run = this.#queue.then(() => this.#verify(transaction, proofHex, onProgress))
    this.#queue = run.catch(() => undefined)
    return run
  }

  async #verify(transaction: ShownTransaction, proofHex: string, onProgress?: (progress: FinalityProgress) => void): Promise<FinalityVerdict> {
    try {
      const { genesis: network, fingerprint } = await this.#trustedGenesis()
      const proof = this.#decodeProof(proofHex)
      // The solar system whose certificate closes the proof: the node serves that system's rounds (its own).
      const { group } = proof.certificate.result.body
      if (!foundedSolarSystems(network).some((system) => system.group === group)) throw new CheckFailure(`the genesis founds no solar system ${group}`)
      const genesis = solarSystemGenesisOf(network, group)
      this.#checkHalves(proof, transaction)
      const closing = proof.certificate.result.body.round
      if (closing - this.verifiedRound > this.#maxCertificates) {
        throw new CheckFailure(
          `the proof is of round ${closing}: checking the ${closing - this.verifiedRound} certificates from the genesis to it is more than this page does (${this.#maxCertificates} at most); check it with the consensus package's verifyAgreementProof`,
        )
      }
      const history = await this.#historyThrough(genesis, closing, onProgress)
      const before = this.#count()
      const reason = await checkAgreementProof(this.#crypto, proof, committeesOf(history))
      if (reason !== undefined) throw new CheckFailure(`the agreement proof does not hold: ${reason}`)
      this.#checkOnChain(proof, history)
      const signatures = this.#chainSignatures + this.#count() - before
      return { verified: true, certificates: history.round, fingerprint, signatures, summary: proofSummary(this.#crypto, proof) }
    } catch (error) {
      return { verified: false, reason: messageOf(error) }
    }
  }

  #trustedGenesis() {
    this.#genesis ??= this.#source.genesis().then(({ genesis, fingerprint }) => {
      const decoded = NetworkGenesisCodec.decode(genesis)
      if (decoded._tag === 'Left') throw new CheckFailure('the node answered a genesis that is not a network genesis')
      const computed = genesisFingerprint(this.#crypto, decoded.right)
      if (computed !== fingerprint) throw new CheckFailure(`the node names fingerprint ${fingerprint} for a genesis whose fingerprint is ${computed}`)
      return { genesis: decoded.right, fingerprint: computed }
    })
    // A node that could not answer is asked again next time.
    this.#genesis.catch(() => (this.#genesis = undefined))
    return this.#genesis
  }

  #decodeProof(proofHex: string): AgreementProof {
    try {
      return decodeAgreementProof(this.#crypto, fromHex(proofHex))
    } catch (error) {
      throw new CheckFailure(`the agreement proof does not decode: ${messageOf(error)}`)
    }
  }

  #checkHalves(proof: AgreementProof, transaction: ShownTransaction): void {
    const proposal = toHex(blockHash(this.#crypto, proof.proposal))
    if (proposal !== transaction.id || proposal !== transaction.proposal.hash) {
      throw new CheckFailure(`the proof is about proposal ${proposal.slice(0, 16)}…, not this transaction's ${transaction.id.slice(0, 16)}…`)
    }
    const agreement = toHex(blockHash(this.#crypto, proof.agreement))
    if (transaction.agreement === null) throw new CheckFailure('the node shows no agreement half for this transaction, yet sent a proof')
    if (agreement !== transaction.agreement.hash) {
      throw new CheckFailure(`the proof's agreement is ${agreement.slice(0, 16)}…, not this transaction's ${transaction.agreement.hash.slice(0, 16)}…`)
    }
    // The hashes match, but the page shows the node's JSON beside them: each shown field must be the proof's.
    const proven = transactionView(this.#crypto, { id: proposal, status: 'final', proposal: proof.proposal, agreement: proof.agreement })
    const differs = SHOWN_FIELDS.find((field) => !sameJson(transaction[field], proven[field]))
    if (differs !== undefined) throw new CheckFailure(`the node shows a ${differs} that is not the one of the proof's transaction`)
  }

  /**
   * The proof's certificate is the chain's own, not merely signed by the right committee: a committee that signed
   * two results for one round would otherwise prove a transfer the verified chain never finalised.
   */
  #checkOnChain(proof: AgreementProof, history: CertificateHistory): void {
    const { body } = proof.certificate.result
    const certified = history.resultHashOf(body.round)
    if (certified === undefined || !equalBytes(certified, resultHash(this.#crypto, body))) {
      throw new CheckFailure(`the proof's certificate of round ${body.round} is not the one the verified chain holds for that round`)
    }
  }

  /** The verified history through `round`, extended from what was verified before. */
  async #historyThrough(genesis: SolarSystemGenesis, round: number, onProgress?: (progress: FinalityProgress) => void): Promise<CertificateHistory> {
    while (this.verifiedRound < round) {
      const from = this.verifiedRound + 1
      const page = await this.#source.rounds(from, Math.min(ROUNDS_PER_REQUEST, round - from + 1))
      if (page.rounds[0]?.round !== from) {
        throw new CheckFailure(`the proof is of round ${round}, but the node answered no certificate for round ${from} (it holds up to ${page.latestRound})`)
      }
      const certificates = page.rounds.filter((entry) => entry.round <= round).map((entry) => this.#decodeCertificate(entry.round, entry.hex))
      for (let start = 0; start < certificates.length; start += CERTIFICATES_PER_SLICE) {
        await this.#extend(genesis, certificates.slice(start, start + CERTIFICATES_PER_SLICE))
        onProgress?.({ certificates: this.verifiedRound, of: round })
        await pause()
      }
    }
    return this.#history as CertificateHistory
  }

  #decodeCertificate(round: number, hex: string): CheckpointCertificate {
    try {
      return decodeCertificate(fromHex(hex))
    } catch (error) {
      throw new CheckFailure(`the certificate of round ${round} does not decode: ${messageOf(error)}`)
    }
  }

  /** Verifies `certificates` as the next rounds: the first ones from the genesis, later ones on the history. */
  async #extend(genesis: SolarSystemGenesis, certificates: readonly CheckpointCertificate[]): Promise<void> {
    const before = this.#count()
    try {
      if (this.#history === undefined) {
        this.#history = await verifyCertificateChain(this.#crypto, genesis, certificates)
      } else {
        for (const certificate of certificates) {
          await verifyCertificate(this.#crypto, certificate, this.#committeeForNext(this.#history))
          this.#history.append(this.#crypto, certificate)
        }
      }
    } catch (error) {
      throw new CheckFailure(`the certificate chain does not hold after round ${this.verifiedRound}: ${messageOf(error)}`)
    }
    this.#chainSignatures += this.#count() - before
  }

  #committeeForNext(history: CertificateHistory) {
    const committee = history.committeeFor(history.round + 1)
    if (committee === undefined) throw new CheckFailure(`no committee for round ${history.round + 1}`)
    return committee
  }
}
