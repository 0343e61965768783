/**
 * The full node: `createNode(config)` assembles the packages in order — keys -> stores -> network -> trustchain ->
 * consensus -> contracts -> HTTP API — and `close()` takes them down in reverse, each module flushed before the
 * one it depends on closes. One AbortSignal (`node.signal`) ends everything that waits on the node; a signal
 * passed in closes the node when it aborts. If a step fails, what was built so far is closed again before the error
 * is thrown, so a failed start never leaves a locked data dir or a bound port behind.
 */
import { writeFile, rm } from 'node:fs/promises'
import { createSolarSystemNode, type SolarSystemNode } from '@constellation/consensus'
import { countingCrypto, type Crypto, equalBytes, type KeyPair, loadCrypto, loadKeyFile, toHex } from '@constellation/crypto'
import { createLibp2pNetwork, type Libp2pNetwork, systemClock as networkClock } from '@constellation/gossip'
import {
  blockHash,
  type BlockStore,
  createGenesisBlock,
  createNetworkMessenger,
  createTrustChainNode,
  openLevelBlockStore,
  type TrustChainNode,
} from '@constellation/trustchain'
import { type NetworkGenesis, memberOf, readNetworkGenesis, solarSystemOf } from '../config/network-genesis.js'
import { dataPaths, type NodeConfig } from '../config/node-config.js'
import { NodeError, NodeErrorCode } from '../errors.js'
import { createLogger, errorFields, type Logger } from '../log/logger.js'
import { NodeMetrics } from '../metrics/node-metrics.js'
import { type CertificateJournal, openCertificateJournal } from './certificate-journal.js'
import { FinalityWatcher } from './finality-watcher.js'
import { type TrackedTransaction, type TransactionTotals, TransactionTracker } from './transaction-tracker.js'

/** Rounds a restarted node sits out past its last stored certificate (see `sitOutThroughRound`): the certificate of
 * the round it was in may have been applied but not yet written, and it may have been facilitating the next. */
const SIT_OUT_MARGIN = 3
/** Heartbeats of Gossipsub on a local network: meshes form in a few hundred milliseconds after peers connect. */
const GOSSIP_HEARTBEAT_MS = 200
/**
 * Members checkpoint this long after each certificate (see `checkpointDelayMs`). Without it a small local network
 * runs a dozen rounds a second and spends its CPU on consensus and on crawling checkpoint blocks; with it, in the
 * 4-node smoke run in one process, transfers went from 19 to 43 agreed per second, and finality (about two
 * rounds) stays near a second.
 */
const DEFAULT_CHECKPOINT_DELAY_MS = 400

/** A module of the node that runs beside the core and closes before it (the contracts host, the HTTP API). */
export interface NodeModule {
  close(): Promise<void>
  /** What the module adds to `<dataDir>/node.json` (the API's URL, say) for scripts that look for a running node. */
  describe?(): Record<string, unknown>
}

export interface NodeOptions {
  /** Opens an encrypted key file. */
  readonly passphrase?: string
  /** Default: pino to `<dataDir>/node.log` at the configured level. */
  readonly logger?: Logger
  /** Closes the node when it aborts. */
  readonly signal?: AbortSignal
  /**
   * Modules started after the core, in order, and closed before it in reverse (the HTTP API is one: see
   * api/api-server.ts); each gets the running node.
   */
  readonly modules?: readonly ((node: FullNode) => Promise<NodeModule>)[]
}

export interface NodeStatus {
  readonly id: string
  readonly group: string
  readonly round: number
  readonly facilitators: readonly string[]
  readonly facilitating: boolean
  readonly chainHeight: number
  readonly balance: number
  readonly peers: number
  readonly listen: readonly string[]
  readonly transactions: TransactionTotals
  readonly uptimeMs: number
}

export interface FullNode {
  /** Hex public key: the node id on every layer. */
  readonly id: string
  readonly publicKey: Uint8Array
  readonly config: NodeConfig
  readonly genesis: NetworkGenesis
  readonly crypto: Crypto
  readonly store: BlockStore
  readonly network: Libp2pNetwork
  readonly chain: TrustChainNode
  readonly consensus: SolarSystemNode
  readonly transactions: TransactionTracker
  readonly metrics: NodeMetrics
  readonly logger: Logger
  /** Aborted when the node starts closing. */
  readonly signal: AbortSignal
  /** The key pair, for modules that sign as this node (the contracts host). */
  readonly keyPair: KeyPair
  /**
   * Calls `listener` with the own chain's new height each time a block of this node's is stored: a proposal or
   * agreement of a delivered transaction, or a checkpoint. Returns the unsubscribe.
   */
  onChainGrowth(listener: (height: number) => void): () => void
  /** Proposes a value transfer; resolves once the counterparty's agreement is stored (finality follows later). */
  transfer(to: Uint8Array, amount: number): Promise<TrackedTransaction>
  status(): NodeStatus
  close(): Promise<void>
}

export async function createNode(config: NodeConfig, options: NodeOptions = {}): Promise<FullNode> {
  const paths = dataPaths(config.dataDir)
  const logger = options.logger ?? createLogger({ level: config.log.level, file: paths.log })
  const log = (module: string) => logger.child({ module })
  const opened: (() => Promise<void>)[] = []
  const closeOpened = async () => {
    for (const close of opened.splice(0).reverse()) await close().catch((error: unknown) => logger.error(errorFields(error), 'closing after a failed start'))
  }
  try {
    return await assemble(config, options, logger, log, opened, closeOpened)
  } catch (error) {
    await closeOpened()
    if (options.logger === undefined) logger.flush()
    throw error
  }
}

async function assemble(
  config: NodeConfig,
  options: NodeOptions,
  logger: Logger,
  log: (module: string) => Logger,
  opened: (() => Promise<void>)[],
  closeOpened: () => Promise<void>,
): Promise<FullNode> {
  const paths = dataPaths(config.dataDir)
  const startedAt = Date.now()

  // ---- keys ----
  // Every signature the node makes or checks goes through this one Crypto, so the metrics can count them.
  const counting = countingCrypto(await loadCrypto())
  const crypto = counting.crypto
  let keyPair: KeyPair
  try {
    keyPair = await loadKeyFile(paths.key, { crypto, ...(options.passphrase === undefined ? {} : { passphrase: options.passphrase }) })
  } catch (error) {
    if ((error as { code?: unknown }).code === 'KEYSTORE_NOT_FOUND' || (error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NodeError(NodeErrorCode.NOT_INITIALISED, `no key in ${config.dataDir}: run \`constellation init\` first`, {}, { cause: error })
    }
    throw error
  }
  const id = toHex(keyPair.publicKey)
  const genesis = await readNetworkGenesis(config.genesisFile)
  const member = memberOf(genesis, keyPair.publicKey)
  if (member === undefined) throw new NodeError(NodeErrorCode.NOT_A_MEMBER, `node ${id.slice(0, 16)}… is not a member of the network in ${config.genesisFile}`)
  const solarSystem = solarSystemOf(genesis)

  // ---- stores ----
  let store: BlockStore
  try {
    store = await openLevelBlockStore({ crypto, location: paths.chain })
  } catch (error) {
    if (String((error as { code?: unknown }).code).includes('LOCKED') || /lock/i.test(String((error as Error).cause ?? ''))) {
      throw new NodeError(NodeErrorCode.DATA_DIR_LOCKED, `${config.dataDir} is in use by another node`, {}, { cause: error })
    }
    throw error
  }
  opened.push(() => store.close())
  const journal: CertificateJournal = await openCertificateJournal(paths.consensus)
  opened.push(() => journal.close())
  if ((await store.latest(keyPair.publicKey)) === undefined) {
    // A fresh chain starts with the balance the genesis gives this member, at the genesis time.
    await store.write({ blocks: [createGenesisBlock({ crypto, keyPair }, { balance: member.balance, timestamp: genesis.timestamp })] })
  }
  const restore = await journal.certificates()
  const sitOutThroughRound = journal.started ? restore.length + SIT_OUT_MARGIN : 0
  log('stores').info({ restoredRounds: restore.length, sitOutThroughRound }, 'stores open')

  // ---- network ----
  const network = createLibp2pNetwork({
    crypto,
    keyPair,
    listen: config.p2p.listen,
    bootstrap: config.p2p.bootstrap,
    gossip: { heartbeatIntervalMs: GOSSIP_HEARTBEAT_MS },
  })
  await network.start()
  opened.push(() => network.stop())
  log('network').info({ listen: network.listenAddresses() }, 'network up')

  // ---- modules that report failures ----
  const transactions = new TransactionTracker()
  let consensus: SolarSystemNode | undefined
  let chain: TrustChainNode | undefined
  const metrics = new NodeMetrics({
    round: () => consensus?.history.round ?? 0,
    roundsFacilitated: () => consensus?.stats.roundsFacilitated ?? 0,
    framesSent: () => consensus?.stats.framesSent ?? 0,
    framesFailed: () => consensus?.stats.framesFailed ?? 0,
    certificatesRejected: () => consensus?.stats.certificatesRejected ?? 0,
    peers: () => network.peers().length,
    chainHeight: () => chain?.head().sequenceNumber ?? 0,
    awaitingFinality: () => transactions.totals.awaitingFinality,
    signatureCounts: () => counting.counts(),
    networkTraffic: () => network.traffic(),
  })
  const reporter = (module: string) => {
    const moduleLog = log(module)
    return (error: unknown) => {
      metrics.errors.inc({ module })
      moduleLog.warn(errorFields(error), 'module error')
    }
  }

  // ---- trustchain ----
  chain = createTrustChainNode({
    crypto,
    keyPair,
    store,
    // Blocks go to counterparties and crawlers only: no node verifies every block of the network.
    messenger: createNetworkMessenger(network, { broadcasts: false }),
    seed: Number.parseInt(id.slice(0, 8), 16),
    onError: reporter('trustchain'),
  })
  await chain.start()
  const trustchain = chain
  opened.push(() => trustchain.stop())

  // ---- own chain growth, for listeners (the explorer's live events) ----
  const growthListeners = new Set<(height: number) => void>()
  // A listener's failure is logged and goes no further: it must not fail the checkpoint or the trustchain effect
  // that reported the growth.
  const growthLog = log('node')
  const grew = (sequenceNumber: number) => {
    const height = Math.max(sequenceNumber, trustchain.head().sequenceNumber)
    for (const listener of growthListeners) {
      try {
        listener(height)
      } catch (error) {
        growthLog.error(errorFields(error), 'a chain-growth listener failed')
      }
    }
  }
  trustchain.onTransaction(({ proposal, agreement }) => {
    const own = equalBytes(proposal.publicKey, keyPair.publicKey) ? proposal : equalBytes(agreement.publicKey, keyPair.publicKey) ? agreement : undefined
    if (own !== undefined) grew(own.sequenceNumber)
  })

  // ---- consensus ----
  consensus = createSolarSystemNode({
    crypto,
    keyPair,
    network,
    clock: networkClock,
    // The engine writes the checkpoints; this node hears of each one it stored.
    chain: {
      async checkpoint(options) {
        const block = await trustchain.checkpoint(options)
        grew(block.sequenceNumber)
        return block
      },
      crawl: (peer, publicKey, from, to) => trustchain.crawl(peer, publicKey, from, to),
    },
    store,
    genesis: solarSystem.genesis,
    rules: solarSystem.rules,
    timing: { checkpointDelayMs: DEFAULT_CHECKPOINT_DELAY_MS, ...config.consensus },
    restore,
    sitOutThroughRound,
    onError: reporter('consensus'),
  })
  const solar = consensus
  const consensusLog = log('consensus')
  // Certificates go to the journal in the order they are applied; a failed write is reported, the node runs on.
  solar.onCertificate((certificate, state) => {
    journal.append(certificate).catch(reporter('journal'))
    consensusLog.debug({ round: state.round, checkpoints: certificate.result.body.checkpoints.length }, 'certified')
  })
  await journal.markStarted()
  await solar.start()
  opened.push(() => solar.stop())
  consensusLog.info({ round: solar.history.round, facilitators: solar.state.committee.facilitators.length }, 'consensus running')

  const watcher = new FinalityWatcher({
    consensus: solar,
    onFinal: (tracked, _proof, round) => {
      const at = Date.now()
      transactions.final(tracked, round, at)
      metrics.transactionsFinal.inc()
      metrics.finalityLatency.observe((at - tracked.submittedAt) / 1000)
    },
    onError: reporter('finality'),
  })
  opened.push(async () => watcher.close())

  const controller = new AbortController()
  let closing: Promise<void> | undefined
  const node: FullNode = {
    id,
    publicKey: keyPair.publicKey,
    keyPair,
    config,
    genesis,
    crypto,
    store,
    network,
    chain: trustchain,
    consensus: solar,
    transactions,
    metrics,
    logger,
    signal: controller.signal,
    async transfer(to, amount) {
      if (controller.signal.aborted) throw new NodeError(NodeErrorCode.NODE_CLOSED, 'the node is closing')
      const submittedAt = Date.now()
      transactions.submitted()
      metrics.transactionsSubmitted.inc()
      try {
        const halves = await trustchain.propose(to, { transfer: amount })
        const tracked = transactions.agreed(toHex(blockHash(crypto, halves.proposal)), halves, submittedAt, Date.now())
        metrics.transactionsAgreed.inc()
        watcher.watch(tracked)
        return tracked
      } catch (error) {
        transactions.failed()
        metrics.transactionsFailed.inc()
        throw error
      }
    },
    onChainGrowth(listener) {
      growthListeners.add(listener)
      return () => growthListeners.delete(listener)
    },
    status() {
      const state = solar.state
      return {
        id,
        group: genesis.group,
        round: solar.history.round,
        facilitators: state.committee.facilitators,
        facilitating: solar.facilitatorRound !== undefined,
        chainHeight: trustchain.head().sequenceNumber,
        balance: trustchain.head().balance,
        peers: network.peers().length,
        listen: network.listenAddresses(),
        transactions: transactions.totals,
        uptimeMs: Date.now() - startedAt,
      }
    },
    close() {
      closing ??= (async () => {
        controller.abort(new NodeError(NodeErrorCode.NODE_CLOSED, 'the node closed'))
        await closeOpened()
        await rm(paths.runtime, { force: true })
        logger.info('closed')
        if (options.logger === undefined) logger.flush()
      })()
      return closing
    },
  }

  // ---- modules: contracts, HTTP API ----
  const runtime: Record<string, unknown> = { id, pid: process.pid, listen: network.listenAddresses() }
  for (const start of options.modules ?? []) {
    const module = await start(node)
    opened.push(() => module.close())
    Object.assign(runtime, module.describe?.())
  }
  if (options.signal !== undefined) {
    if (options.signal.aborted) {
      await node.close()
      throw new NodeError(NodeErrorCode.NODE_CLOSED, 'aborted while starting')
    }
    options.signal.addEventListener('abort', () => void node.close(), { once: true })
  }
  await writeFile(paths.runtime, `${JSON.stringify(runtime)}\n`)
  logger.info({ id, round: solar.history.round }, 'node started')
  return node
}

