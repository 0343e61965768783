/**
 * Finality up to the root: a transaction's agreement proof, final in its solar system, with the path that shows the
 * root committed the certificate that finalised it (`RootedAgreementProof` from `@constellation/consensus`). Anyone
 * holding the network genesis checks it with `checkRootedAgreementProof` against the root's certificate chain,
 * itself verified from the root's genesis: the solar system's committee need not be known to them.
 *
 * The path comes from a validator of the solar system's parent group: this node itself when it validates it (its
 * own index), otherwise the validators named in the genesis in turn, until one answers with a path. A validator
 * serves paths up to its own level, so this reaches the root when the parent is the root — the two-level hierarchy
 * the devnet and the end-to-end tests run; deeper hierarchies need one validator per level and are refused plainly.
 */
import { type AgreementProof, type FinalityPath, fetchFinalityPath, type RootedAgreementProof } from '@constellation/consensus'
import type { Crypto } from '@constellation/crypto'
import { foundedLevels, type NetworkGenesis } from '../config/network-genesis.js'
import { NodeError, NodeErrorCode } from '../errors.js'
import type { LevelView } from './full-node.js'
import type { NodeNetwork } from './node-parts.js'

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

  constructor(options: RootedProofsOptions) {
    this.#options = options
  }

  /**
   * The proof with the path rooting its certificate. INVALID_REQUEST when the network has no group above the solar
   * system (its own certificates are the root's) or more than one level; NOT_ROOTED while the root has not committed
   * the certificate yet; UNAVAILABLE when no validator could be asked.
   */
  async prove(proof: AgreementProof): Promise<RootedAgreementProof> {
    const { crypto, network, genesis, solarSystem, levels, timeoutMs } = this.#options
    const founded = foundedLevels(genesis)
    const parent = founded.find((group) => group.level === 1 && group.children.includes(solarSystem))
    if (parent === undefined) {
      throw new NodeError(NodeErrorCode.INVALID_REQUEST, `solar system ${solarSystem} is the network's root: its agreement proofs are rooted as they are`)
    }
    if (founded.some((group) => group.level > 1)) {
      throw new NodeError(NodeErrorCode.INVALID_REQUEST, 'rooted proofs reach a root one level above the solar systems; this network has more levels')
    }
    const { level, group, round } = proof.certificate.result.body
    const own = levels.find((view) => view.genesis.level === 1 && view.genesis.group === parent.group)
    if (own !== undefined) {
      const path = own.finalityPath(level, group, round)
      if (path === undefined) throw notRooted(group, round, parent.group)
      return { proof, paths: [path] }
    }
    let path: FinalityPath | undefined
    let answered = false
    const failures: string[] = []
    for (const validator of parent.validators) {
      try {
        path = await fetchFinalityPath(crypto, network, validator, proof.certificate, { level: 1, timeoutMs })
        answered = true
        if (path !== undefined) return { proof, paths: [path] }
      } catch (error) {
        failures.push(`${validator.slice(0, 16)}…: ${(error as Error).message}`)
      }
    }
    if (!answered) throw new NodeError(NodeErrorCode.UNAVAILABLE, `no validator of ${parent.group} answered: ${failures.join('; ')}`)
    throw notRooted(group, round, parent.group)
  }
}

function notRooted(group: string, round: number, root: string): NodeError {
  return new NodeError(NodeErrorCode.NOT_ROOTED, `round ${round} of ${group} is final there but not committed by ${root} yet`, { group, round, root })
}
