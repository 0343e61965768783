/**
 * The node as a contract caller: the contracts package's `createCaller` under the node's caller key, its chain in
 * the node's `BlockStore`. One call at a time, so the caller's chain grows one settled step after another.
 *
 * Durability: a proposal is stored through the node's ledger before it leaves the node, so a restart never signs a
 * second block at a sequence number a host may already hold (that would be a fork, provable against this node).
 * A deploy is checked by the host (`checkDeploy`) before it is stored or sent: a deploy the host would refuse
 * leaves no block behind. If a call fails before its proposal was stored, the caller is rebuilt from the stored
 * head, which drops the proposal that never left the node. The host's agreement is checked (signed by the host,
 * linked to the proposal) and, from another node, stored too after crawling the host's chain up to it, best
 * effort: the pair is durable at the host either way.
 */
import { blockHash, type HalfBlock, readChainHead, TrustChainErrorCode } from '@constellation/trustchain'
import { equalBytes, fromHex, type KeyPair, toHex } from '@constellation/crypto'
import { type ContractCaller, type ContractDefinition, createCaller, type Invocation } from '@constellation/contracts'
import { NodeError, NodeErrorCode } from '../errors.js'
import type { Logger } from '../log/logger.js'
import { type HostingComponents, openOwnChain } from './contract-hosting.js'
import type { DeployingEndpoint } from './remote-host.js'

/** A host chain this node crawls to store an agreement, at most (beyond, the agreement stays at its host only). */
const MAX_AGREEMENT_CRAWL = 1_000
const CHUNK = 100

export interface ContractCalling {
  readonly publicKey: Uint8Array
  deploy(host: DeployingEndpoint, definition: ContractDefinition<unknown, unknown, unknown>): Promise<{ id: string; proposal: HalfBlock; agreement: HalfBlock }>
  invoke(host: DeployingEndpoint, contract: string, input: unknown): Promise<Invocation<unknown>>
}

export async function startContractCalling(
  components: HostingComponents,
  options: { readonly keyPair: KeyPair; readonly log: Logger },
): Promise<ContractCalling> {
  const { crypto, store, chain } = components
  const { keyPair, log } = options
  const newCaller = async (): Promise<ContractCaller> =>
    createCaller({ crypto, keyPair, head: await readChainHead(crypto, store, keyPair.publicKey), blockLimits: chain.ledger.limits })
  await openOwnChain(components, keyPair)
  let caller = await newCaller()

  async function storeOwn(proposal: HalfBlock): Promise<void> {
    const [outcome] = await chain.ledger.ingest([proposal])
    if (outcome === undefined || outcome.status === 'rejected') throw outcome?.error ?? new NodeError(NodeErrorCode.REJECTED, 'the proposal was not stored')
  }

  /** Checks the host's agreement to `proposal` and, from another node, stores it (crawling the host's chain first). */
  async function keepAgreement(host: DeployingEndpoint, proposal: HalfBlock, agreement: HalfBlock): Promise<void> {
    const linked =
      equalBytes(agreement.publicKey, host.publicKey) &&
      equalBytes(agreement.linkPublicKey, proposal.publicKey) &&
      agreement.linkSequenceNumber === proposal.sequenceNumber
    if (!linked || !crypto.verify(agreement.signature, blockHash(crypto, agreement), agreement.publicKey)) {
      throw new NodeError(NodeErrorCode.REJECTED, 'the host answered with a block that is not its signed agreement to the proposal')
    }
    if (host.node === undefined) return // this node's host stored the pair itself
    let [outcome] = await chain.ledger.ingest([agreement])
    if (outcome?.status === 'rejected' && outcome.error.code === TrustChainErrorCode.MISSING_DEPENDENCY) {
      const have = (await store.latest(agreement.publicKey))?.sequenceNumber ?? 0
      if (agreement.sequenceNumber - have <= MAX_AGREEMENT_CRAWL) {
        for (let from = have + 1; from < agreement.sequenceNumber; from += CHUNK) {
          await chain.crawl(fromHex(host.node), agreement.publicKey, from, Math.min(agreement.sequenceNumber - 1, from + CHUNK - 1))
        }
        ;[outcome] = await chain.ledger.ingest([agreement])
      }
    }
    if (outcome?.status === 'rejected') {
      if (outcome.error.code === TrustChainErrorCode.INVALID_BLOCK)
        throw new NodeError(NodeErrorCode.REJECTED, `the host's agreement is invalid: ${outcome.error.message}`)
      log.warn({ host: toHex(host.publicKey), sequenceNumber: agreement.sequenceNumber, code: outcome.error.code }, 'agreement kept at its host only')
    }
  }

  /** The host, with each proposal stored before it is sent and each agreement checked (and kept) when it comes. */
  function storingFirst(host: DeployingEndpoint): DeployingEndpoint {
    return {
      node: host.node,
      publicKey: host.publicKey,
      get price() {
        return host.price
      },
      checkDeploy: (payload) => host.checkDeploy(payload),
      async deploy(proposal) {
        await host.checkDeploy(proposal.payload)
        await storeOwn(proposal)
        const agreement = await host.deploy(proposal)
        await keepAgreement(host, proposal, agreement)
        return agreement
      },
      quote: (request) => host.quote(request),
      async countersign(proposal) {
        await storeOwn(proposal)
        const answer = await host.countersign(proposal)
        await keepAgreement(host, proposal, answer.agreement)
        return answer
      },
    }
  }

  let queue: Promise<unknown> = Promise.resolve()
  function oneAtATime<T>(call: () => Promise<T>): Promise<T> {
    const run = queue.then(call, call).catch(async (error: unknown) => {
      // The stored head is the truth: a proposal that failed before it was stored never left this node.
      caller = await newCaller().catch(() => caller)
      throw error
    })
    queue = run.catch(() => undefined)
    return run
  }

  return {
    publicKey: keyPair.publicKey,
    deploy: (host, definition) => oneAtATime(() => caller.deploy(storingFirst(host), definition)),
    invoke: (host, contract, input) => oneAtATime(() => caller.invoke(storingFirst(host), contract, input)),
  }
}
