/**
 * The node as a contract host: the contracts package's `ContractHost` under the node's host key, its chain kept in
 * the node's LevelDB `BlockStore` through the node's ledger (so every deploy and invoke pair is stored atomically
 * before the host commits, is visible through the API and is served to crawlers by the node's TrustChain engine,
 * which answers crawls for any chain in the store).
 *
 * Start-up: the host chain opens with a genesis block (balance 0) the first time; after that the host is rebuilt
 * from its own stored agreements (`host.restore`: every deploy re-registered, every invocation replayed to its
 * recorded state hash), so a restart keeps the deployed contracts and their committed state without a second copy
 * of the state on disk. Before a host step on a proposal from another node, the caller's chain up to that
 * proposal is crawled from the node that sent it, so the ledger can check the proposal (and its payment).
 */
import { type Crypto, fromHex, type KeyPair, toHex } from '@constellation/crypto'
import {
  type AsyncExecutor,
  type ContractHost,
  createContractHost,
  type DeployedContract,
  DEPLOY_KIND,
  DeployPayloadCodec,
  type InvokePayload,
  type InvokeRequest,
  type JsonValue,
  type SlaFigures,
} from '@constellation/contracts'
import { type BlockStore, createGenesisBlock, type HalfBlock, isAgreement, readChainHead, type AnchoredNode } from '@constellation/trustchain'
import { NodeError, NodeErrorCode } from '../errors.js'
import type { Logger } from '../log/logger.js'

/** Blocks read, or crawled, per step: trustchain serves at most 100 per crawl answer. */
const CHUNK = 100
/** How much of a caller's chain a host crawls before one of its proposals, at most. */
const MAX_CRAWL_BLOCKS = 10_000

/** What hosting needs of the node. */
export interface HostingComponents {
  readonly crypto: Crypto
  readonly store: BlockStore
  readonly chain: Pick<AnchoredNode, 'ledger' | 'crawl'>
}

export interface ContractHosting {
  readonly publicKey: Uint8Array
  readonly price: number
  /** Hex ids of the hosted contracts, in deploy order. */
  ids(): readonly string[]
  contract(id: string): Readonly<DeployedContract> | undefined
  state(id: string): JsonValue
  /** Latency and success figures of recent invocations, and the price: what clients pick hosts by. */
  sla(): SlaFigures
  checkDeploy(payload: unknown): Promise<string>
  /** `from`: the node (hex id) that sent the proposal, to crawl the proposer's chain from; undefined for this node. */
  deploy(proposal: HalfBlock, from?: string): Promise<HalfBlock>
  quote(request: InvokeRequest): Promise<InvokePayload>
  countersign(proposal: HalfBlock, from?: string): Promise<{ agreement: HalfBlock; proposals: HalfBlock[] }>
  close(): Promise<void>
}

/** Stores a genesis block (balance 0) for a chain this node authors, the first time; returns the chain's head. */
export async function openOwnChain(components: HostingComponents, keyPair: KeyPair) {
  const { crypto, store, chain } = components
  if ((await store.latest(keyPair.publicKey)) === undefined) {
    const [outcome] = await chain.ledger.ingest([createGenesisBlock({ crypto, keyPair }, { balance: 0, timestamp: Date.now() })])
    if (outcome?.status === 'rejected') throw outcome.error
  }
  return readChainHead(crypto, store, keyPair.publicKey)
}

export async function startContractHosting(
  components: HostingComponents,
  options: { readonly keyPair: KeyPair; readonly price: number; readonly executor: AsyncExecutor; readonly log: Logger },
): Promise<ContractHosting> {
  const { store, chain } = components
  const { keyPair, log } = options
  const head = await openOwnChain(components, keyPair)
  const host: ContractHost = createContractHost({
    crypto: components.crypto,
    keyPair,
    executor: options.executor,
    price: options.price,
    ledger: chain.ledger,
    head,
    blockLimits: chain.ledger.limits,
  })
  const ids: string[] = []
  try {
    for (let from = 1; from <= head.sequenceNumber; from += CHUNK) {
      const agreements = (await store.range(keyPair.publicKey, from, Math.min(head.sequenceNumber, from + CHUNK - 1))).filter(isAgreement)
      await host.restore(agreements)
      for (const block of agreements) if (DeployPayloadCodec.is(block.payload) && block.payload.kind === DEPLOY_KIND) ids.push(toHex(block.payload.contract))
    }
  } catch (error) {
    await host.close()
    throw error
  }
  log.info({ host: toHex(keyPair.publicKey), contracts: ids.length, chainHeight: head.sequenceNumber }, 'contracts restored')

  /** Crawls the proposer's chain up to the block before `proposal` from the node that sent it. */
  async function knowProposer(proposal: HalfBlock, from: string | undefined): Promise<void> {
    if (from === undefined) return
    let next = ((await store.latest(proposal.publicKey))?.sequenceNumber ?? 0) + 1
    if (proposal.sequenceNumber - next > MAX_CRAWL_BLOCKS) {
      throw new NodeError(
        NodeErrorCode.REJECTED,
        `the proposer's chain is ${proposal.sequenceNumber - next} blocks ahead of what this host knows; more than ${MAX_CRAWL_BLOCKS} are not fetched for one call`,
      )
    }
    while (next < proposal.sequenceNumber) {
      const outcomes = await chain.crawl(fromHex(from), proposal.publicKey, next, Math.min(proposal.sequenceNumber - 1, next + CHUNK - 1))
      const taken = outcomes.filter((outcome) => outcome.status !== 'rejected').length
      // Nothing more to be had: the ledger then names what is missing when it refuses the proposal.
      if (taken === 0) return
      next += taken
    }
  }

  return {
    publicKey: keyPair.publicKey,
    price: host.price,
    ids: () => ids,
    contract: (id) => host.contract(id),
    state: (id) => host.state(id),
    sla: () => host.sla(),
    checkDeploy: (payload) => host.checkDeploy(payload),
    async deploy(proposal, from) {
      await knowProposer(proposal, from)
      const agreement = await host.deploy(proposal)
      ids.push(toHex((proposal.payload as { contract: Uint8Array }).contract))
      return agreement
    },
    quote: (request) => host.quote(request),
    async countersign(proposal, from) {
      await knowProposer(proposal, from)
      return host.countersign(proposal)
    },
    close: () => host.close(),
  }
}
