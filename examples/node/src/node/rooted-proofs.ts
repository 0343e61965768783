/**
 * Finality up to the root: a transaction's agreement proof, final in its solar system, with the path that shows the
 * root committed the certificate that finalised it (`RootedAgreementProof` from `@constellation/consensus`). Anyone
 * holding the network genesis checks it with `checkRootedAgreementProof` against the root's certificate chain,
 * itself verified from the root's genesis: the solar system's committee need not be known to them.
 *
 * The path comes from a validator of the solar system's parent group: this node itself when it validates it (its
 * own index), otherwise the validators named in the genesis, a few at a time, within a deadline. A path a validator
 * sends is taken only if it is one step up, to a certificate of the parent group whose Merkle root commits this
 * certificate; the root certificate's signatures are the checker's to verify (it holds the root's chain, this node
 * need not). A validator serves paths up to its own level, so this reaches the root when the parent is the root —
 * the two-level hierarchy the devnet and the end-to-end tests run; deeper hierarchies are refused plainly.
 */
import { type AgreementProof, certificateDigest, type FinalityPath, fetchFinalityPath, type RootedAgreementProof } from '@constellation/consensus'
import { verifyMerkleProof } from '@constellation/consensus/hierarchy'
import { type Crypto, toHex } from '@constellation/crypto'
import { type FoundedLevelGroup, foundedLevels, type NetworkGenesis, parentOf } from '../config/network-genesis.js'
import { NodeError, NodeErrorCode } from '../errors.js'
import type { LevelView } from './full-node.js'
import type { NodeNetwork } from './node-parts.js'

/** Validators asked at once; the next few only if none of these had a path. */
const VALIDATORS_AT_ONCE = 3
/** Rounds of asking at most: a request never waits longer than this many answer timeouts. */
const ASKING_ROUNDS = 3
/** Paths kept (one per certificate, each a few kilobytes). */
const MAX_KNOWN_PATHS = 256

export interface RootedProofsOptions {
  readonly crypto: Crypto
  readonly network: NodeNetwork
  readonly genesis: NetworkGenesis
  /** The node's solar system. */
  readonly solarSystem: string
  /** The groups above level 0 this node validates. */
  readonly levels: readonly LevelView[]
  /** How long to wait for one validator's answer. */
  readonly timeoutMs: number
}

export class RootedProofs {
  readonly #options: RootedProofsOptions
  /** The solar system's parent, when it is the root one level up; otherwise why no rooted proof can be built. */
  readonly #parent: FoundedLevelGroup | string
  /** Paths validators gave, by certificate digest: every transfer a round finalised shares its certificate's path. */
  readonly #paths = new Map<string, FinalityPath>()

  constructor(options: RootedProofsOptions) {
    this.#options = options
    const { genesis, solarSystem } = options
    const levels = foundedLevels(genesis)
    const parentName = parentOf(genesis).get(`0/${solarSystem}`)
    const parent = levels.find((group) => group.level === 1 && group.group === parentName)
    if (parent === undefined) this.#parent = `solar system ${solarSystem} is the network's root: its agreement proofs are rooted as they are`
    else if (levels.some((group) => group.level > 1))
      this.#parent = 'rooted proofs reach a root one level above the solar systems; this network has more levels'
    else this.#parent = parent
  }

  /**
   * The proof with the path rooting its certificate. INVALID_REQUEST when the network has no group above the solar
   * system (its own certificates are the root's) or more than one level; NOT_ROOTED while the root has not committed
   * the certificate yet; UNAVAILABLE when no validator answered with a path that holds.
   */
  async prove(proof: AgreementProof): Promise<RootedAgreementProof> {
    const parent = this.#parent
    if (typeof parent === 'string') throw new NodeError(NodeErrorCode.INVALID_REQUEST, parent)
    const { level, group, round } = proof.certificate.result.body
    const own = this.#options.levels.find((view) => view.genesis.level === 1 && view.genesis.group === parent.group)
    const path = own === undefined ? await this.#pathOf(parent, proof) : own.finalityPath(level, group, round)
    if (path === undefined)
      throw new NodeError(NodeErrorCode.NOT_ROOTED, `round ${round} of ${group} is final there but not committed by ${parent.group} yet`, {
        group,
        round,
        root: parent.group,
      })
    return { proof, paths: [path] }
  }

  /** The certificate's path, as a validator gave it before or asked for now. */
  async #pathOf(parent: FoundedLevelGroup, proof: AgreementProof): Promise<FinalityPath | undefined> {
    const key = toHex(certificateDigest(this.#options.crypto, proof.certificate.result))
    const known = this.#paths.get(key)
    if (known !== undefined) return known
    const path = await this.#ask(parent, proof)
    if (path !== undefined) {
      if (this.#paths.size >= MAX_KNOWN_PATHS) this.#paths.delete(this.#paths.keys().next().value as string)
      this.#paths.set(key, path)
    }
    return path
  }

  /** A path from the parent's validators: undefined when those that answered have none yet. */
  async #ask(parent: FoundedLevelGroup, proof: AgreementProof): Promise<FinalityPath | undefined> {
    const { crypto, network, timeoutMs } = this.#options
    const failures: string[] = []
    // A validator that answered it holds no path yet: the root has not committed the certificate (as it sees it).
    let notYet = false
    const validators = parent.validators.slice(0, VALIDATORS_AT_ONCE * ASKING_ROUNDS)
    for (let first = 0; first < validators.length; first += VALIDATORS_AT_ONCE) {
      const asked = validators.slice(first, first + VALIDATORS_AT_ONCE)
      const answers = await Promise.allSettled(
        asked.map((validator) => fetchFinalityPath(crypto, network, validator, proof.certificate, { level: 1, timeoutMs })),
      )
      for (const [i, answer] of answers.entries()) {
        const who = `${asked[i]?.slice(0, 16)}…`
        if (answer.status === 'rejected') {
          failures.push(`${who}: ${(answer.reason as Error).message}`)
          continue
        }
        if (answer.value === undefined) {
          notYet = true
          continue
        }
        const wrong = wrongStep(crypto, answer.value, parent.group)
        if (wrong === undefined) return answer.value
        failures.push(`${who}: ${wrong}`)
      }
    }
    if (notYet) return undefined
    throw new NodeError(NodeErrorCode.UNAVAILABLE, `no validator of ${parent.group} gave a path that holds: ${failures.join('; ')}`)
  }
}

/** Why a validator's path is not one step up to `parent` committing the certificate, or undefined when it is. */
function wrongStep(crypto: Crypto, path: FinalityPath, parent: string): string | undefined {
  const [step, ...more] = path.steps
  if (step === undefined || more.length > 0) return `its path has ${path.steps.length} steps, not 1`
  const { body } = step.certificate.result
  if (body.level !== 1 || body.group !== parent) return `its path steps to ${body.group} (level ${body.level}), not ${parent}`
  if (!verifyMerkleProof(crypto, certificateDigest(crypto, path.certificate.result), step.proof, body.children)) {
    return 'its path does not commit the certificate'
  }
  return undefined
}
