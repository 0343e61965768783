/**
 * The syncing side of a validator's services: what a node that holds little (a light client, a member back from
 * sleep, a validator that starts late) asks a validator over request/response, and how it checks the answers.
 * Nothing a validator sends is trusted: a history is rebuilt certificate by certificate from the genesis the
 * asker already trusts, and a finality path must root the very certificate asked about.
 */
import { type Crypto, equalBytes } from '@constellation/crypto'
import { ConsensusError, ConsensusErrorCode } from '../errors.js'
import type { AgreementProof } from '../finality/agreement-proof.js'
import { encodeMembershipRequest, type MembershipRequest } from '../membership/membership-request.js'
import { CertificateHistory } from '../finality/certificate-history.js'
import { decodeFinalityPath, type FinalityPath, type RootedAgreementProof } from '../hierarchy/finality-path.js'
import { type BatchVerifier, type CheckpointCertificate, verifyCertificate } from '../round/certificate.js'
import type { Committee } from '../round/committee.js'
import { certificateDigest } from '../round/checkpoint-result.js'
import type { SolarSystemGenesis } from '../round/solar-system.js'
import { requestCertificateRange } from './certificate-range.js'
import type { ConsensusNetwork } from './shell-timing.js'
import { decodeFinalityPathAnswer, encodeFinalityPathRequest, levelProtocols, MAX_CERTIFICATES_PER_RESPONSE } from './wire.js'

export type ValidatorClientNetwork = Pick<ConsensusNetwork, 'request' | 'limits'>

export interface ValidatorRequestOptions {
  /** The level the validator runs (its services' protocols carry it). */
  readonly level: number
  /** Timeout of one request (default: the network's). */
  readonly timeoutMs?: number
  readonly verifier?: BatchVerifier
}

/**
 * A group's certified history as the validator holds it, rebuilt from `genesis` and checked certificate by
 * certificate as it arrives: INVALID_CERTIFICATE (INVALID_INPUT for one that does not extend the history) when
 * the validator sends one that does not check out.
 */
export async function fetchCertifiedHistory(
  crypto: Crypto,
  network: ValidatorClientNetwork,
  validator: string,
  genesis: SolarSystemGenesis,
  options: ValidatorRequestOptions,
): Promise<CertificateHistory> {
  const protocol = levelProtocols(options.level).certificates
  const timeout = options.timeoutMs ?? network.limits.requestTimeoutMs
  const history = new CertificateHistory(crypto, genesis)
  for (;;) {
    const request = { level: genesis.level, group: genesis.group, from: history.round + 1, count: MAX_CERTIFICATES_PER_RESPONSE }
    const got = await requestCertificateRange(network, validator, protocol, request, timeout)
    if (got.length === 0) return history
    // Checked batch by batch, so a validator that forges is caught at its first forgery, not after it sent a flood.
    for (const certificate of got) {
      await verifyCertificate(crypto, certificate, history.committeeFor(history.round + 1) as Committee, options.verifier)
      history.append(crypto, certificate)
    }
  }
}

/**
 * The finality path of `certificate` from the validator, up to the highest level it knows; undefined while no level
 * above has committed it. The path is decoded and must start at `certificate`; what it proves is for
 * `checkFinalityPath` (or `checkRootedAgreementProof`) to say.
 */
export async function fetchFinalityPath(
  crypto: Crypto,
  network: ValidatorClientNetwork,
  validator: string,
  certificate: CheckpointCertificate,
  options: ValidatorRequestOptions,
): Promise<FinalityPath | undefined> {
  const { level, group, round } = certificate.result.body
  const answer = await network.request(validator, levelProtocols(options.level).finalityPath, encodeFinalityPathRequest({ level, group, round }), {
    timeout: options.timeoutMs ?? network.limits.requestTimeoutMs,
  })
  const bytes = decodeFinalityPathAnswer(answer, network.limits.maxMessageBytes)
  if (bytes === undefined) return undefined
  const path = decodeFinalityPath(bytes)
  if (!equalBytes(certificateDigest(crypto, path.certificate.result), certificateDigest(crypto, certificate.result))) {
    throw new ConsensusError(ConsensusErrorCode.INVALID_CERTIFICATE, `the validator's path starts at another certificate for round ${round} of ${group}`, {
      group,
      round,
    })
  }
  return path
}

/**
 * A transaction's agreement proof with the path that roots its certificate, fetched from the validator; undefined
 * while the certificate is not committed above yet. Check it with `checkRootedAgreementProof`.
 */
export async function fetchRootedAgreementProof(
  crypto: Crypto,
  network: ValidatorClientNetwork,
  validator: string,
  proof: AgreementProof,
  options: ValidatorRequestOptions,
): Promise<RootedAgreementProof | undefined> {
  const path = await fetchFinalityPath(crypto, network, validator, proof.certificate, options)
  return path === undefined ? undefined : { proof, paths: [path] }
}

/** Hands a signed join or leave to a root validator (`LevelNode` with `membership`); it proposes it when it facilitates. */
export async function submitMembershipRequest(
  network: ValidatorClientNetwork,
  validator: string,
  request: MembershipRequest,
  options: Pick<ValidatorRequestOptions, 'level' | 'timeoutMs'>,
): Promise<void> {
  await network.request(validator, levelProtocols(options.level).membership, encodeMembershipRequest(request), {
    timeout: options.timeoutMs ?? network.limits.requestTimeoutMs,
  })
}
