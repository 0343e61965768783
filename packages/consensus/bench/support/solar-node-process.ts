/**
 * One process of a solar system running over libp2p on 127.0.0.1, driven by its parent over the IPC channel
 * (bench/support/solar-cluster.ts spawns it for the libp2p test and benchmark). It hosts one or more members,
 * each a full node of its own: a `Libp2pNetwork` under the member's key (loopback, OS-chosen port), a memory block
 * store holding the member's genesis block (with its genesis balance), an anchored TrustChain node over the network
 * that checks proposals against the consensus's certified anchors, and a `SolarSystemNode`. Keys and genesis come
 * from the plan's seed (see solar-genesis.ts), so every process builds the same solar system.
 *
 * Commands: start (listen and report addresses), connect (each hosted member dials every member with a lower
 * index, so that the processes together form a full mesh: consensus frames and checkpoint submissions go by
 * request straight to each facilitator), run (start the chains and the consensus), propose / await-final (one
 * transfer; final once the consensus finalised it and its agreement proof checks), load (transfers between random
 * pairs at a fixed concurrency), stats, stop. Every certificate a hosted member applies is reported as it happens.
 * SIGTERM stops the process as `stop` does.
 */
import { type Crypto, fromHex, loadCrypto, toHex } from '@constellation/crypto'
import { createLibp2pNetwork, createRandom, type Libp2pNetwork, systemClock as gossipClock } from '@constellation/gossip'
import {
  type AnchoredNode,
  createAnchoredNode,
  createGenesisBlock,
  createMemoryBlockStore,
  DEFAULT_BLOCK_LIMITS,
  decodeBlock,
  encodeBlock,
  systemClock as chainClock,
  type TransferOutcome,
} from '@constellation/trustchain'
import { checkAgreementProof, committeesOf, createSolarSystemNode, type SolarSystemNode, type TransactionHalves } from '../../src/index.js'
import {
  type DerivedSolarSystem,
  deriveSolarSystem,
  type EncodedTransaction,
  type LoadReport,
  type NodeCommand,
  type NodeReply,
  wallNow,
} from './solar-genesis.js'

interface HostedMember {
  readonly index: number
  readonly network: Libp2pNetwork
  readonly chain: AnchoredNode
  readonly consensus: SolarSystemNode
}

/** How long a member waits for its gossip mesh after dialling before it reports anyway (gossipReady: false). */
const GOSSIP_READY_TIMEOUT_MS = 15_000
/** Dials one process has in flight while connecting, and tries per dial. */
const DIALS_IN_FLIGHT = 4
const DIAL_ATTEMPTS = 5
/** How long a load worker waits after a transfer was rejected without a retry hint. */
const REJECTED_BACKOFF_MS = 50

const crypto: Crypto = await loadCrypto()
let system: DerivedSolarSystem | undefined
let hosted: HostedMember[] = []
let stopping: Promise<void> | undefined

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))

const send = (reply: NodeReply): void => {
  if (process.connected) process.send?.(reply)
}
const member = (index: number): HostedMember => {
  const found = hosted.find((m) => m.index === index)
  if (found === undefined) throw new Error(`member ${index} is not hosted here`)
  return found
}
const encodeTransaction = (tx: TransactionHalves): EncodedTransaction => ({
  proposal: toHex(encodeBlock(tx.proposal, DEFAULT_BLOCK_LIMITS)),
  agreement: toHex(encodeBlock(tx.agreement, DEFAULT_BLOCK_LIMITS)),
})
const decodeTransaction = (tx: EncodedTransaction): TransactionHalves => ({
  proposal: decodeBlock(crypto, fromHex(tx.proposal), DEFAULT_BLOCK_LIMITS),
  agreement: decodeBlock(crypto, fromHex(tx.agreement), DEFAULT_BLOCK_LIMITS),
})
const reportError = (error: unknown) => send({ reply: 'error', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) })

/** A transfer that was not agreed, as an error (with the retry hint of a rejection, if any). */
class NotAgreed extends Error {
  readonly retryAfterMs: number | undefined
  constructor(outcome: Exclude<TransferOutcome, { status: 'agreed' }>) {
    const why =
      outcome.status === 'rejected'
        ? `${outcome.error.code}: ${outcome.error.message}`
        : outcome.status === 'refused'
          ? `${outcome.code}: ${outcome.reason}`
          : 'no answer yet'
    super(`the transfer was ${outcome.status} (${why})`)
    this.name = 'NotAgreed'
    const hint = outcome.status === 'rejected' ? (outcome.error.detail as { retryAfterMs?: unknown } | undefined)?.retryAfterMs : undefined
    this.retryAfterMs = typeof hint === 'number' ? hint : undefined
  }
}

/** One transfer of `amount` from a hosted member to member `to`: its two halves once the counterparty agreed. */
async function transferTo(from: HostedMember, to: number, amount: number): Promise<TransactionHalves> {
  const [outcome] = await from.chain.transfer([{ to: fromHex((system as DerivedSolarSystem).ids[to] as string), amount }])
  if (outcome === undefined) throw new Error('no outcome for the transfer')
  if (outcome.status !== 'agreed') throw new NotAgreed(outcome)
  return { proposal: outcome.proposal, agreement: outcome.agreement }
}

/** Resolves once `consensus` applied the round that finalised the transaction (rejects if `signal` aborts first). */
function finalised(consensus: SolarSystemNode, tx: TransactionHalves, signal?: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    let settled = false
    const finish = (): boolean => {
      if (settled) return false
      settled = true
      off()
      signal?.removeEventListener('abort', abort)
      return true
    }
    const check = () => {
      const round = consensus.finalisedIn(tx)
      if (round !== undefined && finish()) resolve(round)
    }
    const abort = () => {
      if (finish()) reject(signal?.reason ?? new Error('aborted'))
    }
    const off = consensus.onFinalised(check)
    signal?.addEventListener('abort', abort, { once: true })
    check()
    if (signal?.aborted === true) abort()
  })
}

/** Whether the transaction is final at `consensus`: finalised there, and its agreement proof checks against its history. */
async function provenFinal(consensus: SolarSystemNode, tx: TransactionHalves): Promise<boolean> {
  if (consensus.finalisedIn(tx) === undefined) return false
  return (await checkAgreementProof(crypto, consensus.agreementProof(tx), committeesOf(consensus.history))) === undefined
}

async function startMembers(command: Extract<NodeCommand, { cmd: 'start' }>): Promise<void> {
  const derived = deriveSolarSystem(crypto, command.plan)
  system = derived
  for (const index of command.hosted) {
    const keyPair = derived.keyPairs[index]
    if (keyPair === undefined) throw new Error(`no member ${index} in a solar system of ${derived.ids.length}`)
    // Faster heartbeats than the default 700 ms: meshes form sooner after the processes dial each other.
    const network = createLibp2pNetwork({ crypto, keyPair, gossip: { heartbeatIntervalMs: 200 } })
    await network.start()
    const store = createMemoryBlockStore({ crypto })
    const balance = derived.genesis.balances?.[toHex(keyPair.publicKey)] ?? 0
    await store.write({ blocks: [createGenesisBlock({ crypto, keyPair }, { balance, timestamp: chainClock.now() })] })
    // The chain checks proposals against the consensus's certified anchors, and the consensus appends to the chain:
    // the anchors are read through this holder, filled once the consensus exists.
    let consensus: SolarSystemNode | undefined
    const chain = createAnchoredNode({
      crypto,
      keyPair,
      store,
      network,
      anchors: { round: () => consensus?.state.round ?? 0, anchorOf: (publicKey) => consensus?.anchors().anchorOf(publicKey) },
      clock: chainClock,
      onError: reportError,
    })
    consensus = createSolarSystemNode({
      crypto,
      keyPair,
      network,
      clock: gossipClock,
      chain: {
        checkpoint: (request) => chain.checkpoint(request),
        stretch: (after) => chain.stretch(after),
        proposalOf: (agreement) => store.get(agreement.linkPublicKey, agreement.linkSequenceNumber),
      },
      genesis: derived.genesis,
      rules: derived.rules,
      ...(command.plan.timing === undefined ? {} : { timing: command.plan.timing }),
      onError: reportError,
    })
    consensus.onCertificate((certificate, state) =>
      send({
        reply: 'certificate',
        report: {
          member: index,
          round: state.round,
          at: wallNow(),
          resultHash: toHex(state.resultHash),
          signers: certificate.signatures.map((signature) => signature.signer),
          nextFacilitators: certificate.result.nextFacilitators,
          checkpoints: certificate.result.body.checkpoints.length,
        },
      }),
    )
    hosted.push({ index, network, chain, consensus })
  }
  send({ reply: 'started', addresses: hosted.map((m) => ({ member: m.index, address: m.network.listenAddresses()[0] as string })) })
}

async function dialWithRetries(network: Libp2pNetwork, address: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await network.dial(address)
      return
    } catch (error) {
      if (attempt >= DIAL_ATTEMPTS || stopping !== undefined) throw error
    }
  }
}

async function connect(addresses: readonly string[]): Promise<void> {
  const ids = (system as DerivedSolarSystem).ids
  // Member i dials every member below it: over all processes, each pair of members is dialled once. A few dials
  // at a time per process: hundreds of Noise handshakes at once on one event loop outlast libp2p's upgrade timeout.
  // Each member starts at a different lower member, so that the first dials of all processes do not converge on
  // member 0's process.
  const dials = hosted.flatMap((m) => {
    const lower = addresses.slice(0, m.index)
    const offset = lower.length === 0 ? 0 : m.index % lower.length
    return [...lower.slice(offset), ...lower.slice(0, offset)].map((address) => ({ network: m.network, address }))
  })
  await Promise.all(
    Array.from({ length: DIALS_IN_FLIGHT }, async () => {
      for (let dial = dials.shift(); dial !== undefined; dial = dials.shift()) await dialWithRetries(dial.network, dial.address)
    }),
  )
  const ready = await Promise.all(
    hosted.map((m) =>
      m.network
        .gossipReady(
          ids.filter((id) => id !== m.network.peerId),
          { signal: AbortSignal.timeout(GOSSIP_READY_TIMEOUT_MS) },
        )
        .then(
          () => true,
          () => false,
        ),
    ),
  )
  send({ reply: 'connected', gossipReady: ready.every(Boolean) })
}

/** Proposes transfers between random pairs (proposer hosted here) with `concurrency` in flight until the window ends. */
async function load(concurrency: number, durationMs: number): Promise<LoadReport> {
  const { ids } = system as DerivedSolarSystem
  const random = createRandom(`load/${hosted.map((m) => m.index).join(',')}`)
  const deadline = wallNow() + durationMs
  const finalLatenciesMs: number[] = []
  let proposed = 0
  let failed = 0
  let firstError: string | undefined
  const worker = async () => {
    while (wallNow() < deadline && stopping === undefined) {
      const proposer = hosted[Math.floor(random.next() * hosted.length)] as HostedMember
      let to = Math.floor(random.next() * (ids.length - 1))
      if (to >= proposer.index) to++
      const startedAt = wallNow()
      try {
        const tx = await transferTo(proposer, to, 1)
        proposed++
        await finalised(proposer.consensus, tx, AbortSignal.timeout(Math.max(1, Math.ceil(deadline - wallNow()))))
        finalLatenciesMs.push(wallNow() - startedAt)
      } catch (error) {
        // A finality wait cut by the window's end is not a failure: the transaction simply was not final in time.
        if (wallNow() < deadline) {
          failed++
          firstError ??= error instanceof Error ? (error.stack ?? error.message).split('\n').slice(0, 4).join(' | ') : String(error)
          // A rejection comes back at once: wait before the next try (its hint, if it has one), or the worker spins.
          if (error instanceof NotAgreed && error.retryAfterMs !== undefined) await delay(Math.min(error.retryAfterMs, deadline - wallNow()))
          else if (error instanceof NotAgreed) await delay(REJECTED_BACKOFF_MS)
        }
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return { proposed, failed, finalLatenciesMs, ...(firstError === undefined ? {} : { firstError }) }
}

async function stop(): Promise<void> {
  stopping ??= (async () => {
    for (const m of hosted) await m.consensus.stop()
    for (const m of hosted) await m.chain.stop()
    await Promise.allSettled(hosted.map((m) => m.network.stop()))
    hosted = []
  })()
  return stopping
}

async function handle(command: NodeCommand): Promise<void> {
  switch (command.cmd) {
    case 'start':
      return startMembers(command)
    case 'connect':
      return connect(command.addresses)
    case 'run': {
      for (const m of hosted) await m.chain.start()
      await Promise.all(hosted.map((m) => m.consensus.start()))
      send({ reply: 'running' })
      return
    }
    case 'propose': {
      const from = member(command.from)
      const tx = await transferTo(from, command.to, command.transfer)
      send({ reply: 'proposed', transaction: encodeTransaction(tx), final: await provenFinal(from.consensus, tx) })
      return
    }
    case 'await-final': {
      const m = member(command.member)
      const tx = decodeTransaction(command.transaction)
      await finalised(m.consensus, tx)
      send({ reply: 'final', member: m.index, final: await provenFinal(m.consensus, tx), round: m.consensus.history.round })
      return
    }
    case 'load':
      send({ reply: 'loaded', report: await load(command.concurrency, command.durationMs) })
      return
    case 'stats':
      send({
        reply: 'stats',
        stats: hosted.map((m) => {
          const { framesSent, framesFailed, messagesSent, roundsFacilitated, certificatesRejected } = m.consensus.stats
          return { member: m.index, round: m.consensus.history.round, framesSent, framesFailed, messagesSent, roundsFacilitated, certificatesRejected }
        }),
      })
      return
    case 'stop':
      await stop()
      send({ reply: 'stopped' })
      process.disconnect?.()
      return
  }
}

process.on('message', (command: NodeCommand) => {
  handle(command).catch((error: unknown) => {
    reportError(error)
    console.error(`solar node process (members ${hosted.map((m) => m.index).join(',')}):`, error)
    process.exitCode = 1
    void stop().finally(() => process.disconnect?.())
  })
})
process.once('SIGTERM', () => void stop().finally(() => process.disconnect?.()))
// The parent going away is a stop too: a node process never outlives the run that started it.
process.once('disconnect', () => void stop())
