/**
 * The full node: `createNode(config)` assembles the packages in order — keys -> stores -> network -> trustchain ->
 * consensus -> contracts -> HTTP API — and `close()` takes them down in reverse, each module flushed before the
 * one it depends on closes. One AbortSignal (`node.signal`) ends everything that waits on the node; a signal
 * passed in closes the node when it aborts. If a step fails, what was built so far is closed again before the error
 * is thrown, so a failed start never leaves a locked data dir or a bound port behind.
 */
import { writeFile, rm } from 'node:fs/promises'
import {
  type AgreementProof,
  ConsensusError,
  ConsensusErrorCode,
  createSolarSystemNode,
  type FinalisedRound,
  type SolarSystemNode,
  type TransactionHalves,
} from '@constellation/consensus'
import { countingCrypto, type Crypto, equalBytes, fromHex, type KeyPair, loadCrypto, loadKeyFile, toHex } from '@constellation/crypto'
import { createLibp2pNetwork, type Libp2pNetwork, systemClock as networkClock } from '@constellation/gossip'
import {
  type AnchoredNode,
  type AnchoredSigningPolicy,
  blockHash,
  type BlockStore,
  createAnchoredNode,
  createGenesisBlock,
  type HalfBlock,
  isProposal,
  openLevelBlockStore,
  TrustChainErrorCode,
  type TransferOutcome,
} from '@constellation/trustchain'
import { type NetworkGenesis, memberOf, readNetworkGenesis, solarSystemOf } from '../config/network-genesis.js'
import { dataPaths, type NodeConfig } from '../config/node-config.js'
import { NodeError, NodeErrorCode } from '../errors.js'
import { createLogger, errorFields, type Logger } from '../log/logger.js'
import { NodeMetrics } from '../metrics/node-metrics.js'
import { type CertificateJournal, openCertificateJournal } from './certificate-journal.js'
import { IdempotencyKeys, MAX_REMEMBERED_KEYS, referenceOf } from './idempotency.js'
import { openRoundJournalFile } from './round-journal-file.js'
import { stallReport } from './stall-report.js'
import { DEFAULT_STALL_AFTER_MS, type StallStatus, StallWatch } from './stall-watch.js'
import { storedAnswer } from './stored-answer.js'
import { UNRECORDED_SCAN_BLOCKS, unrecordedFinality } from './unrecorded-finality.js'
import { type TrackedTransaction, type TransactionTotals, TransactionTracker } from './transaction-tracker.js'

/**
 * Rounds a node sits out past its last stored certificate (see `sitOutThroughRound`) when its data dir took part in
 * consensus before the round journal existed: it does not know what it sent in the rounds it was facilitating.
 */
const SIT_OUT_MARGIN = 3
/** Heartbeats of Gossipsub on a local network: meshes form in a few hundred milliseconds after peers connect. */
const GOSSIP_HEARTBEAT_MS = 200
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
  /**
   * Whether to countersign a transfer proposed to this node that its proposer can pay (default: every one). A
   * refused transfer is answered with a signed refusal: its proposer voids it, nothing moves.
   */
  readonly shouldSign?: AnchoredSigningPolicy
}

export interface NodeStatus {
  readonly id: string
  readonly group: string
  readonly round: number
  readonly facilitators: readonly string[]
  readonly facilitating: boolean
  readonly chainHeight: number
  /** The running balance the own chain states (received value not yet final included). */
  readonly balance: number
  /** What the node may spend now: its certified spendable balance minus what it paid since. */
  readonly available: number
  readonly peers: number
  readonly listen: readonly string[]
  readonly transactions: TransactionTotals
  readonly uptimeMs: number
  /** Whether the consensus has stalled as this node sees it: no certified round for `consensus.stallReportAfterMs`. */
  readonly consensus: StallStatus
}

/** A transfer to make: `amount` to the member `to`, optionally under a client's idempotency key. */
export interface TransferRequest {
  readonly to: Uint8Array
  readonly amount: number
  readonly key?: string
}

/** Why a transfer was refused before anything was signed. */
export type TransferRejection = 'INSUFFICIENT_FUNDS' | 'BUSY' | 'INVALID' | 'KEY_CONFLICT' | 'CLOSED'

export type TransferResult =
  /** A transaction was made (now, or earlier under the same key: `replay`); its status says how far it got. */
  | { readonly kind: 'transaction'; readonly tracked: TrackedTransaction; readonly replay: boolean }
  | { readonly kind: 'rejected'; readonly reason: TransferRejection; readonly message: string; readonly retryAfterMs?: number }

export interface FullNode {
  /** Hex public key: the node id on every layer. */
  readonly id: string
  readonly publicKey: Uint8Array
  readonly config: NodeConfig
  readonly genesis: NetworkGenesis
  readonly crypto: Crypto
  readonly store: BlockStore
  readonly network: Libp2pNetwork
  readonly chain: AnchoredNode
  readonly consensus: SolarSystemNode
  readonly journal: CertificateJournal
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
  /** Calls `listener` when the consensus stalls (no certified round for a while) and when it certifies again. */
  onStall(listener: (status: StallStatus) => void): () => void
  /**
   * Proposes value transfers, one result per request: the transaction (agreed, pending, or refused and voided), or
   * why nothing was signed. A request with a `key` that an earlier one used returns that transfer (`replay`).
   */
  transfer(requests: readonly TransferRequest[]): Promise<TransferResult[]>
  /** The round that finalised the transaction, if it is final (checked on what this node holds). */
  finalRound(transaction: TransactionHalves): Promise<number | undefined>
  /** The transaction's agreement proof; NOT_FINAL (consensus) until it is final. */
  agreementProof(transaction: TransactionHalves): Promise<AgreementProof>
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
  // What the facilitator sent and took in during the last rounds, synced before each message leaves: a restart
  // resumes the round it was in instead of sitting it out (see round-journal-file.ts).
  const roundJournal = await openRoundJournalFile(paths.roundJournal)
  opened.push(() => roundJournal.close())
  const restore = await journal.certificates()
  // Only a data dir that took part in consensus before it had a round journal sits rounds out, once.
  const sitOutThroughRound = journal.started && roundJournal.created ? restore.length + SIT_OUT_MARGIN : 0
  log('stores').info(
    { restoredRounds: restore.length, journalledRecords: roundJournal.size.records, journalTruncatedBytes: roundJournal.truncatedBytes, sitOutThroughRound },
    'stores open',
  )

  // ---- network ----
  // The consensus, once assembled below: peers learnt through peer exchange that are facilitators of the current
  // committee are connected to at once, so facilitators reach each other directly (others are dialled on first use).
  let committeeOf: SolarSystemNode | undefined
  const network = createLibp2pNetwork({
    crypto,
    keyPair,
    listen: config.p2p.listen,
    bootstrap: config.p2p.bootstrap,
    ...(config.p2p.announce !== undefined && { announce: config.p2p.announce }),
    ...(config.p2p.dialFrom !== undefined && { dialFrom: config.p2p.dialFrom }),
    gossip: { heartbeatIntervalMs: GOSSIP_HEARTBEAT_MS },
    connectToDiscovered: (peer) => committeeOf?.state.committee.facilitators.includes(peer) ?? false,
  })
  await network.start()
  opened.push(() => network.stop())
  log('network').info({ listen: network.listenAddresses() }, 'network up')

  // ---- modules that report failures ----
  const transactions = new TransactionTracker()
  let consensus: SolarSystemNode | undefined
  let chain: AnchoredNode | undefined
  // Assembled with the consensus below.
  let stall: StallWatch | undefined
  const metrics = new NodeMetrics({
    round: () => consensus?.history.round ?? 0,
    stalled: () => (stall?.status(Date.now()).stalled === true ? 1 : 0),
    lastCertificateAgeSeconds: () => stall?.status(Date.now()).lastCertificateAgeSeconds ?? 0,
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

  // ---- trustchain and consensus ----
  // The chain checks proposals against the consensus's certified anchors, and the consensus checkpoints the chain:
  // the anchors are read through this holder, set once the consensus exists (before either starts).
  let anchorsOf: SolarSystemNode | undefined
  chain = createAnchoredNode({
    crypto,
    keyPair,
    store,
    network,
    anchors: {
      round: () => anchorsOf?.state.round ?? 0,
      anchorOf: (publicKey) => anchorsOf?.anchors().anchorOf(publicKey),
    },
    answerTimeoutMs: ANSWER_TIMEOUT_MS,
    ...(options.shouldSign === undefined ? {} : { shouldSign: options.shouldSign }),
    onError: reporter('trustchain'),
  })
  const trustchain = chain

  // ---- own chain growth, for listeners (the explorer's live events) ----
  const growthListeners = new Set<(height: number) => void>()
  // A listener's failure is logged and goes no further: it must not fail the checkpoint or the trustchain effect
  // that reported the growth.
  const growthLog = log('node')
  const { stallReportAfterMs = DEFAULT_STALL_AFTER_MS, idleCheckpointRounds, ...consensusTiming } = config.consensus
  const grew = () => {
    const height = trustchain.head().sequenceNumber
    for (const listener of growthListeners) {
      try {
        listener(height)
      } catch (error) {
        growthLog.error(errorFields(error), 'a chain-growth listener failed')
      }
    }
  }

  consensus = createSolarSystemNode({
    crypto,
    keyPair,
    network,
    clock: networkClock,
    // The chain writes the checkpoints; this node hears of each one it stored.
    chain: {
      async checkpoint(request) {
        const block = await trustchain.checkpoint(request)
        grew()
        return block
      },
      stretch: (after) => trustchain.stretch(after),
      proposalOf: (agreement) => store.get(agreement.linkPublicKey, agreement.linkSequenceNumber),
      onGrown: (listener) => trustchain.onGrown(() => listener()),
    },
    genesis: solarSystem.genesis,
    rules: solarSystem.rules,
    timing: { checkpointDelayMs: DEFAULT_CHECKPOINT_DELAY_MS, ...consensusTiming },
    restore,
    roundJournal,
    sitOutThroughRound,
    ...(idleCheckpointRounds === undefined ? {} : { idleCheckpointRounds }),
    onError: reporter('consensus'),
  })
  anchorsOf = consensus
  committeeOf = consensus
  const solar = consensus
  const consensusLog = log('consensus')
  await trustchain.start()
  opened.push(() => trustchain.stop())

  // ---- what this node knows of its transactions ----
  const keys = new IdempotencyKeys(crypto)
  const head = trustchain.head().sequenceNumber
  const recent = await trustchain.stretch(Math.max(0, head - MAX_REMEMBERED_KEYS))
  keys.learn(recent)
  const unrecorded = await unrecordedFinality(crypto, store, journal, recent.slice(-UNRECORDED_SCAN_BLOCKS))
  const finalityLog = log('finality')
  /** Marks the node's transactions the round finalised, and records them in the journal for later proofs. */
  const noteFinalised = (finalised: FinalisedRound) => {
    const at = Date.now()
    const recorded: { id: Uint8Array; round: number }[] = []
    for (const leaf of finalised.leaves) {
      const id = toHex(leaf.subarray(0, 32))
      if (unrecorded.size > 0) {
        // Keyed by this node's half: the proposal (the leaf's first hash) or the agreement (its second).
        const key = unrecorded.has(id) ? id : toHex(leaf.subarray(32))
        const earlier = unrecorded.get(key)
        if (earlier !== undefined && equalBytes(blockHash(crypto, earlier.agreement), leaf.subarray(32))) {
          unrecorded.delete(key)
          recorded.push({ id: earlier.id, round: finalised.round })
        }
      }
      const tracked = transactions.get(id)
      if (tracked?.agreement === undefined || toHex(blockHash(crypto, tracked.agreement)) !== toHex(leaf.subarray(32))) continue
      transactions.final(tracked, finalised.round, at)
      recorded.push({ id: leaf.slice(0, 32), round: finalised.round })
      // A restored one was counted by the run that proposed it.
      if (tracked.role === 'proposer' && tracked.restored === undefined) {
        metrics.transactionsFinal.inc()
        metrics.finalityLatency.observe((at - tracked.submittedAt) / 1000)
      }
    }
    journal.recordFinal(recorded).catch(reporter('journal'))
  }
  /** An own proposal's agreement, noted; final at once when a round already finalised it (see `agreed`). */
  const noteAgreed = (tracked: TrackedTransaction, agreement: HalfBlock) => {
    if (tracked.status !== 'pending') return
    const round = solar.finalisedIn({ proposal: tracked.proposal, agreement })
    const at = Date.now()
    transactions.agreed(tracked, agreement, at, round)
    if (round === undefined) return
    journal.recordFinal([{ id: blockHash(crypto, tracked.proposal), round }]).catch(reporter('journal'))
    if (tracked.restored === undefined) {
      metrics.transactionsFinal.inc()
      metrics.finalityLatency.observe((at - tracked.submittedAt) / 1000)
    }
  }
  solar.onFinalised((finalised) => {
    try {
      noteFinalised(finalised)
    } catch (error) {
      finalityLog.error(errorFields(error), 'noting finalised transfers failed')
    }
  })
  // Certificates go to the journal in the order they are applied; a failed write is reported, the node runs on.
  // Facilitators reach each other directly: the committee's members not connected yet are connected to by id (the
  // peer store's addresses, or a neighbour's signed record of them), at start and when the committee changes.
  let committeeKey = ''
  const connectCommittee = (facilitators: readonly string[]) => {
    const key = facilitators.join()
    if (key === committeeKey) return
    committeeKey = key
    const neighbours = new Set(network.peers())
    for (const peer of facilitators) {
      if (peer === network.peerId || neighbours.has(peer)) continue
      network.connect(peer).catch((error: unknown) => log('network').debug({ peer, ...errorFields(error) }, 'facilitator not reachable yet'))
    }
  }
  // A stall — no certified round for stallReportAfterMs — is said once when it begins, with what this node knows,
  // and once when it ends; /v1/status, the metrics and the explorer show it meanwhile.
  const watch = new StallWatch({ stallAfterMs: stallReportAfterMs, startedAt: Date.now(), round: solar.state.round })
  stall = watch
  const stallLog = log('consensus')
  const stallListeners = new Set<(status: StallStatus) => void>()
  const checkStall = () => {
    const change = watch.check(Date.now())
    if (change !== undefined) {
      const status = watch.status(Date.now())
      for (const listener of stallListeners) {
        try {
          listener(status)
        } catch (error) {
          stallLog.error(errorFields(error), 'a stall listener failed')
        }
      }
    }
    if (change?.kind === 'stalled') {
      const report = stallReport(solar, network.peerId, network.peers())
      stallLog.warn(
        { since: new Date(change.since).toISOString(), lastRound: solar.state.round, ...report },
        `consensus stalled: no certified round for ${Math.round((Date.now() - change.since) / 1000)} s`,
      )
    } else if (change?.kind === 'recovered') {
      stallLog.info({ round: solar.state.round, stalledForMs: change.lastedMs }, 'consensus certifying again')
    }
  }
  const stallTimer = setInterval(checkStall, Math.min(1_000, Math.ceil(stallReportAfterMs / 4)))
  stallTimer.unref()
  opened.push(async () => clearInterval(stallTimer))
  solar.onCertificate((certificate, state) => {
    watch.certified(state.round, Date.now())
    checkStall()
    connectCommittee(state.committee.facilitators)
    journal.append(certificate).catch(reporter('journal'))
    consensusLog.debug({ round: state.round, checkpoints: certificate.result.body.checkpoints.length }, 'certified')
  })
  // Transactions this node agreed to as counterparty are tracked too: they become final like its own.
  trustchain.onAgreed(({ proposal, agreement }) => {
    transactions.incoming(toHex(blockHash(crypto, proposal)), proposal, agreement, Date.now())
    grew()
  })
  // Own proposals answered after their `transfer` call said pending.
  trustchain.onSettled((settled) => {
    const tracked = transactions.get(toHex(blockHash(crypto, settled.proposal)))
    if (tracked === undefined) return
    if (settled.status === 'agreed') noteAgreed(tracked, settled.agreement)
    else transactions.refused(tracked, { block: settled.void, code: settled.code, reason: settled.reason })
    grew()
  })
  await journal.markStarted()
  await solar.start()
  opened.push(() => solar.stop())
  // Those the consensus finalised in a round it restored from the journal (no listener hears those): recorded now.
  const restoredFinal: { id: Uint8Array; round: number }[] = []
  for (const [key, earlier] of unrecorded) {
    const round = solar.finalisedIn({ proposal: earlier.proposal, agreement: earlier.agreement })
    if (round === undefined) continue
    unrecorded.delete(key)
    restoredFinal.push({ id: earlier.id, round })
  }
  if (restoredFinal.length > 0) journal.recordFinal(restoredFinal).catch(reporter('journal'))
  connectCommittee(solar.state.committee.facilitators)
  consensusLog.info({ round: solar.history.round, facilitators: solar.state.committee.facilitators.length }, 'consensus running')

  /** The round that finalised a transaction: the tracker, the consensus's recent rounds, then the journal. */
  const finalRound = async (halves: TransactionHalves): Promise<number | undefined> => {
    const id = blockHash(crypto, halves.proposal)
    const tracked = transactions.get(toHex(id))
    if (
      tracked?.finalRound !== undefined &&
      tracked.agreement !== undefined &&
      equalBytes(blockHash(crypto, tracked.agreement), blockHash(crypto, halves.agreement))
    ) {
      return tracked.finalRound
    }
    return solar.finalisedIn(halves) ?? (await journal.finalRound(id))
  }

  /** Turns a trustchain outcome into the tracker's entry (or a rejection). */
  const record = (outcome: TransferOutcome, submittedAt: number): TransferResult => {
    if (outcome.status === 'rejected') {
      transactions.rejected()
      metrics.transactionsFailed.inc()
      const { error } = outcome
      const reason: TransferRejection =
        error.code === TrustChainErrorCode.INSUFFICIENT_FUNDS
          ? 'INSUFFICIENT_FUNDS'
          : error.code === TrustChainErrorCode.BUSY
            ? 'BUSY'
            : error.code === TrustChainErrorCode.NODE_STOPPED
              ? 'CLOSED'
              : 'INVALID'
      const retryAfterMs = typeof error.detail.retryAfterMs === 'number' ? error.detail.retryAfterMs : undefined
      return { kind: 'rejected', reason, message: error.message, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) }
    }
    const id = toHex(blockHash(crypto, outcome.proposal))
    const tracked = transactions.get(id) ?? transactions.proposed(id, outcome.proposal, submittedAt)
    metrics.transactionsSubmitted.inc()
    if (outcome.status === 'agreed') {
      noteAgreed(tracked, outcome.agreement)
      metrics.transactionsAgreed.inc()
    } else if (outcome.status === 'refused') {
      transactions.refused(tracked, { block: outcome.void, code: outcome.code, reason: outcome.reason })
      metrics.transactionsFailed.inc()
    }
    return { kind: 'transaction', tracked, replay: false }
  }

  /**
   * An own transaction the tracker forgot (a restart, an old one), put back as the store and the consensus know it
   * now — agreed, final in its round, refused, or still pending — without counting it again.
   */
  const restoreFromStore = async (id: string): Promise<TrackedTransaction | undefined> => {
    const proposal = await store.getByHash(fromHex(id))
    if (proposal === undefined || !isProposal(proposal) || !equalBytes(proposal.publicKey, keyPair.publicKey)) return undefined
    const known = { id, role: 'proposer', proposal, submittedAt: proposal.timestamp } as const
    const answer = await storedAnswer(store, proposal)
    if (answer.status === 'refused') return transactions.restore({ ...known, status: 'refused', voided: answer.voided })
    if (answer.status === 'unanswered') return transactions.restore({ ...known, status: 'pending' })
    const { agreement } = answer
    const round = await finalRound({ proposal, agreement })
    return transactions.restore(
      round === undefined
        ? { ...known, status: 'agreed', agreement, agreedAt: agreement.timestamp }
        : { ...known, status: 'final', agreement, agreedAt: agreement.timestamp, finalRound: round },
    )
  }

  /** The transaction an earlier request made under `key`, as the tracker or the store knows it now. */
  const replayOf = async (key: string, request: TransferRequest): Promise<TransferResult | undefined> => {
    const made = keys.find(key)
    if (made === undefined) return undefined
    if (made.to !== toHex(request.to) || made.amount !== request.amount) {
      // Refused before anything was signed, like an overdraft: counted with those.
      transactions.rejected()
      metrics.transactionsFailed.inc()
      return { kind: 'rejected', reason: 'KEY_CONFLICT', message: `the idempotency key was used for another transfer (${made.id})` }
    }
    const tracked = transactions.get(made.id) ?? (await restoreFromStore(made.id))
    return tracked === undefined ? undefined : { kind: 'transaction', tracked, replay: true }
  }

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
    journal,
    transactions,
    metrics,
    logger,
    signal: controller.signal,
    async transfer(requests) {
      if (controller.signal.aborted) return requests.map(() => ({ kind: 'rejected', reason: 'CLOSED', message: 'the node is closing' }) as const)
      const results: (TransferResult | undefined)[] = new Array(requests.length).fill(undefined)
      // Keyed requests go one key at a time (a retry waits for the request it repeats); the rest go in one batch.
      const fresh: number[] = []
      const keyed = requests.flatMap((request, index) => (request.key === undefined ? (fresh.push(index), []) : [{ request, index, key: request.key }]))
      const submit = async (indices: readonly number[]) => {
        if (indices.length === 0) return
        const submittedAt = Date.now()
        const outcomes = await trustchain.transfer(
          indices.map((index) => {
            const request = requests[index] as TransferRequest
            return { to: request.to, amount: request.amount, ...(request.key === undefined ? {} : { reference: referenceOf(crypto, request.key) }) }
          }),
        )
        keys.learn(outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [] : [outcome.proposal])))
        indices.forEach((index, i) => {
          results[index] = record(outcomes[i] as TransferOutcome, submittedAt)
        })
      }
      await Promise.all([
        submit(fresh),
        ...keyed.map(({ request, index, key }) =>
          keys.exclusive(key, async () => {
            results[index] = await replayOf(key, request)
            if (results[index] === undefined) await submit([index])
          }),
        ),
      ])
      grew()
      return results as TransferResult[]
    },
    finalRound,
    async agreementProof(halves) {
      const round = await finalRound(halves)
      if (round !== undefined && solar.finalisedRound(round) === undefined) {
        // Older than the rounds the consensus keeps: the journal has the certificate with its leaves.
        const certificate = await journal.certificate(round)
        if (certificate?.finalised !== undefined) return solar.agreementProof(halves, { certificate, leaves: certificate.finalised })
      }
      if (round === undefined) throw new ConsensusError(ConsensusErrorCode.NOT_FINAL, 'the transaction is not final yet', {})
      return solar.agreementProof(halves)
    },
    onStall(listener) {
      stallListeners.add(listener)
      return () => stallListeners.delete(listener)
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
        available: trustchain.available(),
        peers: network.peers().length,
        listen: network.listenAddresses(),
        transactions: transactions.totals,
        uptimeMs: Date.now() - startedAt,
        consensus: watch.status(Date.now()),
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
