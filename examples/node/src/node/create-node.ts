/**
 * The full node: `createNode(config)` assembles the packages in order — keys -> stores -> network -> trustchain ->
 * consensus -> contracts -> HTTP API — and `close()` takes them down in reverse, each module flushed before the
 * one it depends on closes. One AbortSignal (`node.signal`) ends everything that waits on the node; a signal
 * passed in closes the node when it aborts. If a step fails, what was built so far is closed again before the error
 * is thrown, so a failed start never leaves a locked data dir or a bound port behind.
 *
 * Each part can be replaced (`parts`: the store, the journals, the network, the clock, the election rules, the key
 * and the genesis; see node-parts.ts), and each module declares what it needs (full-node.ts): the key stays with
 * the parts that sign — the chain, the consensus, the network and the modules that declare `signs` — and never
 * reaches the HTTP API.
 */
import { rm, writeFile } from 'node:fs/promises'
import { createSolarSystemNode, type SolarSystemNode } from '@constellation/consensus'
import { countingCrypto, type Crypto, type KeyPair, loadCrypto, loadKeyFile, toHex } from '@constellation/crypto'
import { systemClock } from '@constellation/interface'
import { type AnchoredSigningPolicy, blockHash, type CertifiedAnchors, createAnchoredNode, createGenesisBlock } from '@constellation/trustchain'
import { decodeWith } from '../config/codecs.js'
import { checkGenesis, NetworkGenesisCodec, readNetworkGenesis, solarSystemOf } from '../config/network-genesis.js'
import { dataPaths, type NodeConfig } from '../config/node-config.js'
import { NodeError, NodeErrorCode } from '../errors.js'
import { createLogger, errorFields, type Logger } from '../log/logger.js'
import { NodeMetrics } from '../metrics/node-metrics.js'
import { CommitteeLinks } from './committee-links.js'
import { fileJournals, levelStore, libp2pNetwork } from './default-parts.js'
import { FinalityRecorder } from './finality-recorder.js'
import type { ConsensusView, FullNode, LevelView, NetworkView, NodeModuleFactory } from './full-node.js'
import { IdempotencyKeys, MAX_REMEMBERED_KEYS } from './idempotency.js'
import { startLevelGroup } from './level-group.js'
import { OtherSystems } from './other-systems.js'
import { RootedProofs } from './rooted-proofs.js'
import { ListenerSet } from './listener-set.js'
import type { NodeParts } from './node-parts.js'
import { roleNames, rolesOf } from './node-roles.js'
import { StallMonitor } from './stall-monitor.js'
import { DEFAULT_STALL_AFTER_MS } from './stall-watch.js'
import { TransactionTracker } from './transaction-tracker.js'
import { TransferDesk } from './transfer-desk.js'
import { UNRECORDED_SCAN_BLOCKS, unrecordedFinality } from './unrecorded-finality.js'

/**
 * Members checkpoint this long after each certificate (see `checkpointDelayMs`): a round every few hundred
 * milliseconds batches the transfers of that time into one stretch per member, while finality (a round or two)
 * stays well under a second.
 */
const DEFAULT_CHECKPOINT_DELAY_MS = 200
/**
 * How long a transfer request waits for the counterparty's answer before it reports the transfer pending. An answer
 * takes milliseconds on a working network; a counterparty that is down gets its proposal again in the background.
 */
const ANSWER_TIMEOUT_MS = 2_000

export interface NodeOptions {
  /** Opens an encrypted key file. */
  readonly passphrase?: string
  /** Default: pino to `<dataDir>/node.log` at the configured level. */
  readonly logger?: Logger
  /** Closes the node when it aborts. */
  readonly signal?: AbortSignal
  /**
   * Modules started after the core, in order, and closed before it in reverse (the HTTP API is one: see
   * api/api-server.ts); each gets the running node, and those that declare `signs` its key and network too.
   */
  readonly modules?: readonly NodeModuleFactory[]
  /**
   * Whether to countersign a transfer proposed to this node that its proposer can pay (default: every one). A
   * refused transfer is answered with a signed refusal: its proposer voids it, nothing moves.
   */
  readonly shouldSign?: AnchoredSigningPolicy
  /** Parts to use in place of the full node's (see node-parts.ts). */
  readonly parts?: NodeParts
}

export async function createNode(config: NodeConfig, options: NodeOptions = {}): Promise<FullNode> {
  const paths = dataPaths(config.dataDir)
  const logger = options.logger ?? createLogger({ level: config.log.level, file: paths.log })
  const opened: (() => Promise<void>)[] = []
  const closeOpened = async () => {
    for (const close of opened.splice(0).reverse()) await close().catch((error: unknown) => logger.error(errorFields(error), 'closing after a failed start'))
  }
  try {
    return await assemble(config, options, logger, opened, closeOpened)
  } catch (error) {
    await closeOpened()
    if (options.logger === undefined) logger.flush()
    throw error
  }
}

async function openKeyPair(config: NodeConfig, crypto: Crypto, passphrase: string | undefined): Promise<KeyPair> {
  try {
    return await loadKeyFile(dataPaths(config.dataDir).key, { crypto, ...(passphrase === undefined ? {} : { passphrase }) })
  } catch (error) {
    if ((error as { code?: unknown }).code === 'KEYSTORE_NOT_FOUND' || (error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NodeError(NodeErrorCode.NOT_INITIALISED, `no key in ${config.dataDir}: run \`constellation init\` first`, {}, { cause: error })
    }
    throw error
  }
}

async function assemble(
  config: NodeConfig,
  options: NodeOptions,
  logger: Logger,
  opened: (() => Promise<void>)[],
  closeOpened: () => Promise<void>,
): Promise<FullNode> {
  const parts = options.parts ?? {}
  const paths = dataPaths(config.dataDir)
  const log = (module: string) => logger.child({ module })
  const clock = parts.clock ?? systemClock
  const startedAt = clock.now()

  // ---- keys ----
  // Every signature the node makes or checks goes through this one Crypto, so the metrics can count them.
  const counting = countingCrypto(await loadCrypto())
  const crypto = counting.crypto
  const keyPair = parts.keyPair ?? (await openKeyPair(config, crypto, options.passphrase))
  const id = toHex(keyPair.publicKey)
  // A genesis given in code is checked as the file would be: the same codec, the same rules.
  const genesis =
    parts.genesis === undefined
      ? await readNetworkGenesis(config.genesisFile)
      : checkGenesis(decodeWith(NetworkGenesisCodec, parts.genesis, NodeErrorCode.INVALID_GENESIS, 'genesis'))
  const roles = rolesOf(genesis, keyPair.publicKey)
  if (roles === undefined) {
    throw new NodeError(NodeErrorCode.NOT_A_MEMBER, `node ${id.slice(0, 16)}… is not a member of the network in ${config.genesisFile}`)
  }
  const solarSystem = solarSystemOf(genesis, roles.solarSystem)
  const rules = parts.rules?.({ genesis, fromGenesis: solarSystem.rules }) ?? solarSystem.rules

  // ---- stores ----
  const store = await (parts.store ?? levelStore())({ crypto, dataDir: config.dataDir })
  opened.push(() => store.close())
  const journals = await (parts.journals ?? fileJournals())({ dataDir: config.dataDir })
  const journal = journals.certificates
  opened.push(() => journal.close())
  const roundJournal = journals.rounds
  opened.push(async () => roundJournal.close?.())
  if ((await store.latest(keyPair.publicKey)) === undefined) {
    // A fresh chain starts with the balance the genesis gives this member, at the genesis time.
    await store.write({ blocks: [createGenesisBlock({ crypto, keyPair }, { balance: roles.balance, timestamp: genesis.timestamp })] })
  }
  const restore = await journal.certificates()
  const { sitOutThroughRound } = journals
  log('stores').info({ restoredRounds: restore.length, ...journals.opened, sitOutThroughRound }, 'stores open')

  // ---- network ----
  // The consensus, once assembled below: peers learnt through peer exchange that are facilitators of the current
  // committee are connected to at once, so facilitators reach each other directly (others are dialled on first use).
  let committeeOf: SolarSystemNode | undefined
  // The groups above level 0 this node validates, once started: their committees are connected to at once too.
  const levels: LevelView[] = []
  const network = await (parts.network ?? libp2pNetwork(config.p2p))({
    crypto,
    keyPair,
    isFacilitator: (peer) =>
      (committeeOf?.state.committee.facilitators.includes(peer) ?? false) || levels.some((level) => level.state.committee.facilitators.includes(peer)),
  })
  await network.start()
  opened.push(() => network.stop())
  const listenAddresses = () => network.listenAddresses?.() ?? []
  log('network').info({ listen: listenAddresses() }, 'network up')
  // What modules may read of the network: a view, so that none of them reaches the transport (or its key) through it.
  const networkView: NetworkView = {
    peerId: network.peerId,
    peers: () => network.peers(),
    listenAddresses,
    advertOf: (peer) => network.advertOf(peer),
    traffic: () => network.traffic(),
  }

  // ---- trustchain and consensus ----
  const transactions = new TransactionTracker()
  // Assembled below; the metrics read them once they exist.
  let consensus: SolarSystemNode | undefined
  let stall: StallMonitor | undefined
  // The chain checks proposals against the consensus's certified anchors, and the consensus checkpoints the chain:
  // the anchors are read through this holder, set once the consensus exists (before either starts).
  let anchorsOf: SolarSystemNode | undefined
  const metrics = new NodeMetrics({
    round: () => consensus?.history.round ?? 0,
    stalled: () => (stall?.status().stalled === true ? 1 : 0),
    lastCertificateAgeSeconds: () => stall?.status().lastCertificateAgeSeconds ?? 0,
    roundsFacilitated: () => consensus?.stats.roundsFacilitated ?? 0,
    framesSent: () => consensus?.stats.framesSent ?? 0,
    framesFailed: () => consensus?.stats.framesFailed ?? 0,
    certificatesRejected: () => consensus?.stats.certificatesRejected ?? 0,
    peers: () => network.peers().length,
    chainHeight: () => chain.head().sequenceNumber,
    awaitingFinality: () => transactions.totals.awaitingFinality,
    signatureCounts: () => counting.counts(),
    networkTraffic: () => network.traffic(),
    levels: () =>
      levels.map((level) => ({
        level: level.genesis.level,
        group: level.genesis.group,
        round: level.state.round,
        roundsFacilitated: level.stats.roundsFacilitated,
        certificatesRejected: level.stats.certificatesRejected,
        childCertificates: level.stats.childCertificates,
      })),
  })
  const reporter = (module: string) => {
    const moduleLog = log(module)
    return (error: unknown) => {
      metrics.errors.inc({ module })
      moduleLog.warn(errorFields(error), 'module error')
    }
  }
  // The other solar systems, followed so that transfers with their members check and settle (none with one system).
  const others = OtherSystems.of({
    crypto,
    network,
    clock,
    genesis,
    solarSystem: roles.solarSystem,
    publicKey: keyPair.publicKey,
    store,
    rulesOf: (fromGenesis) => parts.rules?.({ genesis, fromGenesis }) ?? fromGenesis,
    onError: reporter('hierarchy'),
  })
  const ownAnchors: CertifiedAnchors = {
    round: () => anchorsOf?.state.round ?? 0,
    anchorOf: (publicKey) => anchorsOf?.anchors().anchorOf(publicKey),
  }
  const rooted = new RootedProofs({ crypto, network, genesis, solarSystem: roles.solarSystem, levels, timeoutMs: ANSWER_TIMEOUT_MS })
  const chain = createAnchoredNode({
    crypto,
    keyPair,
    store,
    network,
    clock,
    anchors: others?.anchors(ownAnchors) ?? ownAnchors,
    answerTimeoutMs: ANSWER_TIMEOUT_MS,
    ...(options.shouldSign === undefined ? {} : { shouldSign: options.shouldSign }),
    onError: reporter('trustchain'),
  })
  // The own chain's growth, for listeners (the explorer's live events).
  const growth = new ListenerSet<number>(log('node'), 'chain-growth')
  const grew = () => growth.emit(chain.head().sequenceNumber)
  const { stallReportAfterMs = DEFAULT_STALL_AFTER_MS, idleCheckpointRounds, ...consensusTiming } = config.consensus
  const solar = createSolarSystemNode({
    crypto,
    keyPair,
    network,
    clock,
    // The chain writes the checkpoints; this node hears of each one it stored.
    chain: {
      async checkpoint(request) {
        const block = await chain.checkpoint(request)
        grew()
        return block
      },
      stretch: (after) => chain.stretch(after),
      proposalOf: (agreement) => store.get(agreement.linkPublicKey, agreement.linkSequenceNumber),
      onGrown: (listener) => chain.onGrown(() => listener()),
    },
    genesis: solarSystem.genesis,
    rules,
    timing: { checkpointDelayMs: DEFAULT_CHECKPOINT_DELAY_MS, ...consensusTiming },
    restore,
    roundJournal,
    sitOutThroughRound,
    ...(idleCheckpointRounds === undefined ? {} : { idleCheckpointRounds }),
    ...(others === undefined ? {} : { crossSystem: others.crossSystem() }),
    onError: reporter('consensus'),
  })
  consensus = solar
  anchorsOf = solar
  committeeOf = solar
  const consensusLog = log('consensus')
  await chain.start()
  opened.push(() => chain.stop())

  // ---- what this node knows of its transactions ----
  const keys = new IdempotencyKeys(crypto)
  const recent = await chain.stretch(Math.max(0, chain.head().sequenceNumber - MAX_REMEMBERED_KEYS))
  keys.learn(recent)
  const unrecorded = await unrecordedFinality(crypto, store, journal, recent.slice(-UNRECORDED_SCAN_BLOCKS))
  const finality = new FinalityRecorder({ crypto, clock, consensus: solar, journal, transactions, metrics, unrecorded, onJournalError: reporter('journal') })
  const finalityLog = log('finality')
  solar.onFinalised((finalised) => {
    try {
      finality.noteFinalised(finalised)
    } catch (error) {
      finalityLog.error(errorFields(error), 'noting finalised transfers failed')
    }
  })
  const links = new CommitteeLinks(network, log('network'))
  const monitor = new StallMonitor({ clock, stallAfterMs: stallReportAfterMs, consensus: solar, network, log: consensusLog })
  stall = monitor
  monitor.start()
  opened.push(async () => monitor.stop())
  // Certificates go to the journal in the order they are applied; a failed write is reported, the node runs on.
  solar.onCertificate((certificate, state) => {
    monitor.certified(state.round)
    links.connect(state.committee.facilitators)
    journal.append(certificate).catch(reporter('journal'))
    consensusLog.debug({ round: state.round, checkpoints: certificate.result.body.checkpoints.length }, 'certified')
  })
  // Transactions this node agreed to as counterparty are tracked too: they become final like its own.
  chain.onAgreed(({ proposal, agreement }) => {
    transactions.incoming(toHex(blockHash(crypto, proposal)), proposal, agreement, clock.now())
    grew()
  })
  // Own proposals answered after their `transfer` call said pending.
  chain.onSettled((settled) => {
    const tracked = transactions.get(toHex(blockHash(crypto, settled.proposal)))
    if (tracked === undefined) return
    if (settled.status === 'agreed') finality.noteAgreed(tracked, settled.agreement)
    else transactions.refused(tracked, { block: settled.void, code: settled.code, reason: settled.reason })
    grew()
  })
  await journal.markStarted()
  if (others !== undefined) {
    others.start()
    opened.push(() => others.stop())
  }
  await solar.start()
  opened.push(() => solar.stop())
  finality.recordRestored()
  links.connect(solar.state.committee.facilitators)
  consensusLog.info({ round: solar.history.round, facilitators: solar.state.committee.facilitators.length }, 'consensus running')

  // ---- the groups above level 0 this node validates ----
  for (const group of roles.validates) {
    const level = await startLevelGroup(group, { crypto, keyPair, network, clock, log, onError: reporter('hierarchy') })
    opened.push(() => level.node.stop())
    levels.push(level.view)
  }

  // What modules may read of the consensus: a view, so that none of them reaches a facilitator round (or its key).
  const consensusView: ConsensusView = {
    get state() {
      return solar.state
    },
    get history() {
      return solar.history
    },
    facilitating: () => solar.facilitatorRound !== undefined,
    onCertificate: (listener) => solar.onCertificate(listener),
  }
  const desk = new TransferDesk({ crypto, clock, publicKey: keyPair.publicKey, store, chain, keys, transactions, finality, metrics })
  const controller = new AbortController()
  let closing: Promise<void> | undefined
  const node: FullNode = {
    id,
    publicKey: keyPair.publicKey,
    config,
    genesis,
    rules,
    clock,
    crypto,
    store,
    network: networkView,
    chain,
    consensus: consensusView,
    roles,
    levels,
    followed: others === undefined ? [] : [...others.systems.values(), others.root],
    journal,
    transactions,
    metrics,
    logger,
    signal: controller.signal,
    async transfer(requests) {
      if (controller.signal.aborted) return requests.map(() => ({ kind: 'rejected', reason: 'CLOSED', message: 'the node is closing' }) as const)
      const results = await desk.transfer(requests)
      grew()
      return results
    },
    finalRound: (halves) => finality.finalRound(halves),
    agreementProof: (halves) => finality.agreementProof(halves),
    rootedProof: async (halves) => rooted.prove(await finality.agreementProof(halves)),
    onStall: (listener) => monitor.onStall(listener),
    onChainGrowth: (listener) => growth.add(listener),
    status() {
      const state = solar.state
      return {
        id,
        group: roles.solarSystem,
        roles: roleNames(roles),
        levels: levels.map((level) => ({
          level: level.genesis.level,
          group: level.genesis.group,
          round: level.state.round,
          facilitating: level.facilitating(),
        })),
        round: solar.history.round,
        facilitators: state.committee.facilitators,
        facilitating: solar.facilitatorRound !== undefined,
        chainHeight: chain.head().sequenceNumber,
        balance: chain.head().balance,
        available: chain.available(),
        peers: network.peers().length,
        listen: listenAddresses(),
        transactions: transactions.totals,
        uptimeMs: clock.now() - startedAt,
        consensus: monitor.status(),
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
  const runtime: Record<string, unknown> = { id, pid: process.pid, listen: listenAddresses() }
  for (const start of options.modules ?? []) {
    // Only a module that declares it signs as this node gets the key (and the network it signs on).
    const module = typeof start === 'function' ? await start(node) : await start.start(node, { keyPair, network })
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
