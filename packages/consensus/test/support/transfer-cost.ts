/**
 * What one transfer costs each role on the anchored flow, measured on the real code: a small solar system of real
 * `AnchoredNode`s and `SolarSystemNode`s on the seeded `SimNetwork`, each node's chain and consensus counting their
 * own signatures (`countingCrypto`) and bytes (per protocol), proposers paying their partners
 * `transactionsPerRound` transfers after every certificate until the load ends, then run until every transfer agreed
 * is final. The hierarchy's scaling model (`HierarchySim`'s `TransferCharges`) charges these figures instead of
 * assumed ones.
 *
 * Every figure is per transfer final in the run; by role:
 *   - proposer and counterparty: the signatures their chains made and checked (the proposer's checkpoint blocks,
 *     one per round, left out: the model signs those itself) and the bytes of the transfer frames each sent;
 *   - facilitator: per transfer half and per facilitator other than the half's author in the round that certified
 *     it, the half's signature checks in the stretch checks (told apart from certificate and share checks by the
 *     message checked: the half's hash) and the bytes of the half in submissions;
 *   - the bytes a half adds to each copy of a level-0 proposal (its entry in the stretch summary, encoded by the
 *     real codec), and a finalised transfer adds to its level-0 certificate (ledger entries and leaf; without the
 *     leaf, as a parent carries the certificate): the run's certificates against the same without ledger and leaves;
 *   - and what the whole network spent per transfer, every node's work in the run counted (rounds included), as the
 *     devnet reports it.
 */
import { type Crypto, countingCrypto, type CryptoCounts, type SignedMessage, toHex } from '@constellation/crypto'
import { type LatencyModel, SimNetwork, type SimNode, trafficBytes, uniformLatency } from '@constellation/gossip'
import {
  type AnchoredNode,
  blockHash,
  createAnchoredNode,
  createGenesisBlock,
  createMemoryBlockStore,
  decodeBlock,
  type HalfBlock,
  isAgreement,
  isProposal,
  type StretchSummary,
  transferOf,
} from '@constellation/trustchain'
import { TRANSFER_PROTOCOL } from '@constellation/trustchain/wire'
import {
  type CheckpointCertificate,
  type ConsensusNetwork,
  createSolarSystemNode,
  defaultSolarSystemRules,
  encodeCertificate,
  type SolarSystemGenesis,
  type SolarSystemNode,
  type TransactionHalves,
} from '../../src/index.js'
import { EMPTY_LEDGER_DELTA } from '../../src/round.js'
import { encodeStretchSummary } from '../../src/ledger/stretch-summary-codec.js'
import { withoutLeaves } from '../../src/round/certificate.js'
import { CHECKPOINT_PROTOCOL, decodeMemberSubmission } from '../../src/shell/wire.js'
import type { TransferCharges } from './hierarchy-sim.js'
import { SIM_BALANCE } from './solar-system-sim.js'

export interface TransferCostOptions {
  readonly crypto: Crypto
  readonly seed: string
  /** Members of the solar system (an even number: they pair up, the lower id of a pair proposes). */
  readonly members: number
  readonly facilitators: number
  /** Transfers each proposer pays its partner after every certificate it applies while the load runs. */
  readonly transactionsPerRound: number
  /** Certified rounds during which proposers pay; then the run goes on until every agreed transfer is final. */
  readonly loadRounds: number
  readonly latency?: LatencyModel
}

/** Signatures checked and made, and bytes sent, per transfer. */
export interface RoleCost {
  readonly verifies: number
  readonly signs: number
  readonly bytes: number
}

/** What the model charges (`TransferCharges`, per transfer by role), and what the run was. */
export interface TransferCost extends TransferCharges {
  /** Transfers final in the run (every figure is per one of them), and the rounds certified. */
  readonly transfers: number
  readonly rounds: number
  readonly members: number
  readonly facilitators: number
  readonly transactionsPerRound: number
  /** Every node's work in the run (rounds, checkpoints, certificates included) per transfer, as the devnet counts it. */
  readonly network: RoleCost
}

interface ProbeNode {
  readonly id: string
  readonly chain: AnchoredNode
  readonly consensus: SolarSystemNode
  readonly network: SimNode
  readonly chainCounts: () => CryptoCounts
  readonly consensusCounts: () => CryptoCounts
  /** Bytes sent per protocol: requests this node made, and answers it gave. */
  readonly sent: Map<string, number>
  /** Hex messages of the signatures its consensus checked in batches (stretch checks and certificates). */
  readonly checkedMessages: string[]
  /** Each transfer half this node submitted to a facilitator (its hash, hex, and encoded size), once per copy. */
  readonly submittedHalves: { readonly hash: string; readonly bytes: number }[]
  /** Checkpoint blocks its chain signed (one per round). */
  readonly checkpoints: { count: number }
}

function seedBytes(label: string, i: number): Uint8Array {
  const bytes = new Uint8Array(32)
  bytes.set(new TextEncoder().encode(label).subarray(0, 28))
  new DataView(bytes.buffer).setUint32(28, i)
  return bytes
}

function add(sent: Map<string, number>, protocol: string, bytes: number): void {
  sent.set(protocol, (sent.get(protocol) ?? 0) + bytes)
}

/** `network` with the bytes of each request it makes and each answer it gives added to `sent` under the protocol. */
function tallied(network: ConsensusNetwork, sent: Map<string, number>, onRequest?: (protocol: string, data: Uint8Array) => void): ConsensusNetwork {
  return {
    peerId: network.peerId,
    limits: network.limits,
    publish: (topic, data) => network.publish(topic, data),
    subscribe: (topic, handler) => network.subscribe(topic, handler),
    peers: () => network.peers(),
    request: (peer, protocol, data, options) => {
      add(sent, protocol, data.length)
      onRequest?.(protocol, data)
      return network.request(peer, protocol, data, options)
    },
    handle: (protocol, handler) =>
      network.handle(protocol, async (request) => {
        const answer = await handler(request)
        add(sent, protocol, answer.length)
        return answer
      }),
  }
}

/** Runs the probe; see the module header for what each figure counts. */
export async function measureTransferCost(options: TransferCostOptions): Promise<TransferCost> {
  const { crypto, seed } = options
  if (options.members < 2 || options.members % 2 !== 0) throw new Error('members must be an even number of at least 2')
  const net = new SimNetwork({
    crypto,
    seed: `transfer-cost/${seed}`,
    latency: options.latency ?? uniformLatency(10, 50),
    lossRate: 0,
    degree: Math.min(6, options.members - 1),
  })
  const pairs = Array.from({ length: options.members }, (_, i) => crypto.keyPairFromSeed(seedBytes(`transfer-cost/${seed}`, i)))
  pairs.sort((a, b) => (toHex(a.publicKey) < toHex(b.publicKey) ? -1 : 1))
  const ids = pairs.map((pair) => toHex(pair.publicKey))
  const genesis: SolarSystemGenesis = {
    level: 0,
    group: 'sol-0',
    members: ids,
    facilitators: ids.slice(0, options.facilitators),
    balances: Object.fromEntries(ids.map((id) => [id, SIM_BALANCE])),
  }
  const rules = defaultSolarSystemRules({ facilitators: options.facilitators })
  const errors: unknown[] = []
  const nodes: ProbeNode[] = []
  for (const keyPair of pairs) {
    const chainCrypto = countingCrypto(crypto)
    const consensusCrypto = countingCrypto(crypto)
    const network = net.addNode(keyPair)
    await network.start()
    const store = createMemoryBlockStore({ crypto: chainCrypto.crypto })
    await store.write({ blocks: [createGenesisBlock({ crypto, keyPair }, { balance: SIM_BALANCE, timestamp: 0 })] })
    const sent = new Map<string, number>()
    const checkedMessages: string[] = []
    const submittedHalves: { hash: string; bytes: number }[] = []
    const onRequest = (protocol: string, data: Uint8Array) => {
      if (protocol !== CHECKPOINT_PROTOCOL) return
      const submission = decodeMemberSubmission(data, network.limits.maxMessageBytes)
      if (!('blocks' in submission)) return
      for (const bytes of submission.blocks) {
        const block = decodeBlock(crypto, bytes)
        if (isProposal(block) || isAgreement(block)) submittedHalves.push({ hash: toHex(blockHash(crypto, block)), bytes: bytes.length })
      }
    }
    // The chain checks proposals against the consensus's certified anchors, read through this holder.
    const holder: { consensus?: SolarSystemNode } = {}
    const chain = createAnchoredNode({
      crypto: chainCrypto.crypto,
      keyPair,
      store,
      network: tallied(network, sent),
      anchors: { round: () => holder.consensus?.state.round ?? 0, anchorOf: (publicKey) => holder.consensus?.anchors().anchorOf(publicKey) },
      clock: net.clock,
      onError: (error) => errors.push(error),
    })
    await chain.start()
    const checkpoints = { count: 0 }
    const consensus = createSolarSystemNode({
      crypto: consensusCrypto.crypto,
      keyPair,
      network: tallied(network, sent, onRequest),
      clock: net.clock,
      chain: {
        checkpoint: (request) => {
          checkpoints.count++
          return chain.checkpoint(request)
        },
        stretch: (after) => chain.stretch(after),
      },
      genesis,
      rules,
      // Stretch checks and certificate checks come here in batches: each message checked is kept, so that the checks
      // of transfer halves can be told from the rest after the run.
      verifier: (items: readonly SignedMessage[]) => {
        for (const item of items) checkedMessages.push(toHex(item.message))
        return consensusCrypto.crypto.verifyMany(items)
      },
      onError: (error) => errors.push(error),
    })
    holder.consensus = consensus
    const node: ProbeNode = {
      id: toHex(keyPair.publicKey),
      chain,
      consensus,
      network,
      chainCounts: () => chainCrypto.counts(),
      consensusCounts: () => consensusCrypto.counts(),
      sent,
      checkedMessages,
      submittedHalves,
      checkpoints,
    }
    nodes.push(node)
  }

  // The load: after each certificate it applies, the lower id of each pair pays its partner.
  const agreed: TransactionHalves[] = []
  const calls: Promise<void>[] = []
  const proposers = nodes.filter((_, i) => i % 2 === 0 && i + 1 < nodes.length)
  const partnerOf = (i: number) => nodes[i + 1] as ProbeNode
  const certificates = new Map<number, CheckpointCertificate>()
  ;(nodes[0] as ProbeNode).consensus.onFinalised(({ round, certificate }) => certificates.set(round, certificate))
  for (const [i, proposer] of nodes.entries()) {
    if (!proposers.includes(proposer)) continue
    const to = partnerOf(i).chain.publicKey
    proposer.consensus.onCertificate((certificate) => {
      if (certificate.result.body.round > options.loadRounds) return
      const orders = Array.from({ length: options.transactionsPerRound }, () => ({ to, amount: 1 }))
      calls.push(
        proposer.chain.transfer(orders).then((outcomes) => {
          for (const outcome of outcomes) if (outcome.status === 'agreed') agreed.push({ proposal: outcome.proposal, agreement: outcome.agreement })
        }),
      )
    })
  }
  for (const node of nodes) void node.consensus.start()
  const observer = nodes[0] as ProbeNode
  const loaded = new Promise<void>((resolve) => {
    const off = observer.consensus.onCertificate((certificate) => {
      if (certificate.result.body.round <= options.loadRounds + 1) return
      off()
      resolve()
    })
  })
  await net.runUntil(loaded, 600_000)
  await net.runUntil(Promise.all(calls), 600_000)
  // The drain: until every agreed transfer is final (every member applies the same certificates).
  const isFinal = () => agreed.every((tx) => observer.consensus.finalisedIn(tx) !== undefined)
  const drained = new Promise<void>((resolve) => {
    const off = observer.consensus.onFinalised(() => {
      if (!isFinal()) return
      off()
      resolve()
    })
    if (isFinal()) {
      off()
      resolve()
    }
  })
  await net.runUntil(drained, 600_000)
  // Every member holds every round up to here, so the round counts and committees below are everyone's.
  const rounds = Math.min(...nodes.map((node) => node.consensus.history.round))
  for (const node of nodes) await node.consensus.stop()
  for (const node of nodes) await node.chain.stop()
  if (errors.length > 0) throw new Error(`the probe failed: ${String(errors[0])}`)

  const transfers = agreed.filter((tx) => observer.consensus.finalisedIn(tx) !== undefined)
  const count = transfers.length
  if (count === 0) throw new Error('no transfer became final in the probe')
  const sum = (of: readonly ProbeNode[], figure: (node: ProbeNode) => number) => of.reduce((total, node) => total + figure(node), 0)
  const counterparties = proposers.map((proposer) => partnerOf(nodes.indexOf(proposer)))

  // Facilitators: the checks and submissions of the final transfers' halves, per half and facilitator that had to
  // check it (the committee of the round that certified its author's checkpoint after it, less the author).
  const history = observer.consensus.history
  const halves = transfers.flatMap((tx) => [tx.proposal, tx.agreement])
  const hashes = new Set(halves.map((half) => toHex(blockHash(crypto, half))))
  let seats = 0
  for (const half of halves) {
    const author = toHex(half.publicKey)
    const closing = history.checkpointsOf(author).find((ref) => ref.entry.sequenceNumber > half.sequenceNumber)
    const committee = closing === undefined ? undefined : history.committeeFor(closing.round)
    if (committee === undefined) throw new Error('a final half with no certified checkpoint after it')
    seats += committee.facilitators.filter((id) => id !== author).length
  }
  const halfChecks = sum(nodes, (node) => node.checkedMessages.filter((message) => hashes.has(message)).length)
  const halfBytes = sum(nodes, (node) => node.submittedHalves.reduce((total, half) => total + (hashes.has(half.hash) ? half.bytes : 0), 0))

  // Summaries: the halves' entries, encoded by the real codec, grouped by author and certifying round as stretches.
  const stretches = new Map<string, HalfBlock[]>()
  for (const half of halves) {
    const author = toHex(half.publicKey)
    const closing = history.checkpointsOf(author).find((ref) => ref.entry.sequenceNumber > half.sequenceNumber)
    const key = `${author}/${closing?.round}`
    stretches.set(key, [...(stretches.get(key) ?? []), half])
  }
  let summaryBytes = 0
  for (const blocks of stretches.values()) summaryBytes += summaryGrowth(crypto, blocks)

  // Certificates: each finalising round's as gossiped (with leaves) and as a parent carries it (without), against the
  // same certificate with an empty ledger delta and no leaves.
  let certificateBytes = 0
  let childCertificateBytes = 0
  let finalised = 0
  for (const certificate of certificates.values()) {
    const bare = encodeCertificate({
      ...withoutLeaves(certificate),
      result: { ...certificate.result, body: { ...certificate.result.body, ledger: EMPTY_LEDGER_DELTA } },
    }).length
    certificateBytes += encodeCertificate(certificate).length - bare
    childCertificateBytes += encodeCertificate(withoutLeaves(certificate)).length - bare
    finalised += certificate.finalised?.length ?? 0
  }

  const chainSigns = (node: ProbeNode) => node.chainCounts().signs - node.checkpoints.count
  return {
    transfers: count,
    rounds,
    members: options.members,
    facilitators: options.facilitators,
    transactionsPerRound: options.transactionsPerRound,
    proposer: {
      verifies: sum(proposers, (node) => node.chainCounts().verifies) / count,
      signs: sum(proposers, chainSigns) / count,
      bytes: sum(proposers, (node) => node.sent.get(TRANSFER_PROTOCOL) ?? 0) / count,
    },
    counterparty: {
      verifies: sum(counterparties, (node) => node.chainCounts().verifies) / count,
      signs: sum(counterparties, chainSigns) / count,
      bytes: sum(counterparties, (node) => node.sent.get(TRANSFER_PROTOCOL) ?? 0) / count,
    },
    facilitator: { verifiesPerHalf: halfChecks / seats, submissionBytesPerHalf: halfBytes / seats },
    summaryBytesPerHalf: summaryBytes / halves.length,
    certificateBytesPerTransfer: certificateBytes / finalised,
    childCertificateBytesPerTransfer: childCertificateBytes / finalised,
    network: {
      verifies: sum(nodes, (node) => node.chainCounts().verifies + node.consensusCounts().verifies) / count,
      signs: sum(nodes, (node) => node.chainCounts().signs + node.consensusCounts().signs) / count,
      bytes: sum(nodes, (node) => trafficBytes(node.network.traffic(), 'sent')) / count,
    },
  }
}

/** Bytes `blocks` (one author's halves of one stretch) add to its stretch summary as the real codec encodes it. */
function summaryGrowth(crypto: Crypto, blocks: readonly HalfBlock[]): number {
  const first = blocks[0] as HalfBlock
  const amount = (block: HalfBlock) => transferOf(block.type, block.payload)?.amount ?? 0
  const empty: StretchSummary = {
    publicKey: first.publicKey,
    anchor: first.sequenceNumber - 1,
    head: { sequenceNumber: (blocks.at(-1) as HalfBlock).sequenceNumber, hash: blockHash(crypto, blocks.at(-1) as HalfBlock), balance: SIM_BALANCE },
    debits: [],
    credits: [],
    voids: [],
    spent: 0,
  }
  const full: StretchSummary = {
    ...empty,
    debits: blocks
      .filter(isProposal)
      .map((block) => ({ sequenceNumber: block.sequenceNumber, hash: blockHash(crypto, block), counterparty: block.linkPublicKey, amount: amount(block) })),
    credits: blocks.filter(isAgreement).map((block) => ({
      sequenceNumber: block.sequenceNumber,
      hash: blockHash(crypto, block),
      proposer: block.linkPublicKey,
      proposalSequenceNumber: block.linkSequenceNumber,
      amount: amount(block),
    })),
  }
  return encodeStretchSummary(full).length - encodeStretchSummary(empty).length
}

/** One line: what the model charges, by role. */
export function describeTransferCost(cost: TransferCost): string {
  const f = (value: number, digits = 2) => value.toFixed(digits)
  const b = (value: number) => Math.round(value).toLocaleString('en-US')
  return [
    `proposer ${f(cost.proposer.verifies)} verifies + ${f(cost.proposer.signs)} signs + ${b(cost.proposer.bytes)} B of frames`,
    `counterparty ${f(cost.counterparty.verifies)} verifies + ${f(cost.counterparty.signs)} signs + ${b(cost.counterparty.bytes)} B of answers`,
    `each facilitator ${f(cost.facilitator.verifiesPerHalf * 2)} verifies + ${b(cost.facilitator.submissionBytesPerHalf * 2)} B of submissions (both halves)`,
    `${b(cost.summaryBytesPerHalf * 2)} B in each proposal copy, ${b(cost.certificateBytesPerTransfer)} B in the certificate (${b(cost.childCertificateBytesPerTransfer)} B as a child)`,
  ].join('; ')
}

/** The whole network's cost per transfer, rounds included (for comparison with the devnet's figure). */
export function describeNetworkCost(cost: TransferCost): string {
  return `all ${cost.members} nodes together: ${cost.network.verifies.toFixed(1)} verifies, ${cost.network.signs.toFixed(1)} signs, ${Math.round(cost.network.bytes).toLocaleString('en-US')} bytes sent per transfer (${cost.transfers.toLocaleString('en-US')} transfers final over ${cost.rounds} rounds, n = ${cost.facilitators}, ${cost.transactionsPerRound} per proposer per round)`
}
