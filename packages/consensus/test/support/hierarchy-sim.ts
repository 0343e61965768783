/**
 * A whole hierarchy — solar systems, star clusters, galaxies, the universe — on a seeded discrete-event simulator
 * that runs the real round machine (`startRound`/`stepRound`) at every level: `checkpointInputs` at level 0,
 * `levelInputs` above. Same seed, same run.
 *
 * Cost model (all explicit, all in `CostModel`): every node has one CPU and one uplink. An event (a message, a
 * checkpoint, a timer) is handled when the node's CPU is free; its cost is the signatures the node's code verified
 * and made while handling it (counted through a per-node `Crypto` wrapper) times the measured cost of one verify and
 * one sign. Everything the handler sends leaves after that, one message after another on the uplink
 * (`bytes / bytesPerMs`), and arrives one latency draw later. Not charged: hashing, encoding, and message handling
 * beyond signatures. Certificates reach a group's members by gossip: ceil(log_fanout(group size)) relays, each a
 * latency draw plus the certificate's transmission time; each receiver is charged the certificate's signature checks (counted, not
 * executed, to keep the simulator's own wall time down — the facilitators' checks are executed).
 *
 * Level 0 as the shells run it: members keep their chains' blocks after their certified checkpoint (`anchorOf`) and
 * submit each new checkpoint with that stretch; a facilitator checks the stretch in full (`checkSubmission`, its
 * signatures charged to it) before its round machine takes the `AnchoredCheckpoint`. Every member opens with a
 * genesis block stating its genesis balance (`SIM_BALANCE`, the solar system genesis's `balances`). With
 * `realTransfers`, finality comes from the leaves each level-0 certificate finalises (`rootedProof`).
 *
 * The `transactionsPerRound` transfers are counted, not built as blocks: what each costs is charged where the anchored
 * flow spends it (`TransferCharges`, measured on the real nodes by transfer-cost.ts). The proposer signs and sends a
 * frame; the counterparty, when the frame arrives, checks and signs and answers; the proposer checks the answer.
 * Each member's next submission carries its new halves to every facilitator, which checks them; each half adds its
 * summary entry to every copy of a level-0 proposal that carries its checkpoint, and each transfer a level-0 round
 * finalises adds its ledger entries and leaf to the certificate (and the entries to it as a parent's proposal
 * carries it, counted against the parent's proposal bound like the real bytes).
 *
 * Child runs above level 0 are bounded as `LevelNode` bounds them: `childRun` with a share of the parent's proposal
 * per child (`childRunBytes`), each certificate measured as the parent carries it — its encoding plus the ledger
 * entries its counted transfers would have put there (`CarriedLedgerBytes`, recorded once per certified round and
 * read by both the proposal bound and the run bound). Measuring the simulated certificate's encoding alone would let
 * runs of the modeled size through that the real node cuts short, so the bench would not be the real code's.
 *
 * Roles: every node is a member of one solar system; the validators of a group above level 0 are members of the
 * solar systems below it (a node may validate at several levels), and its facilitators are elected among them.
 * Churn: `offline(id, time)` puts a node to sleep: nothing of its runs while it is away, and messages for it wait
 * (links are reliable: the shell's peer links retry until the round ends); when it is back it fetches the
 * certificates it missed (charged as their signature checks) and checkpoints again.
 */
import { type Crypto, fromHex, type KeyPair, type SignedMessage, toHex } from '@constellation/crypto'
import { createRandom, type LatencyModel, type Random, uniformLatency, VirtualClock } from '@constellation/gossip'
import {
  advanceHead,
  type ChainHead,
  createAgreement,
  createCheckpoint,
  createGenesisBlock,
  createProposal,
  EMPTY_CHAIN_HEAD,
  encodeBlock,
  type HalfBlock,
  PayloadRegistry,
  transferPayload,
} from '@constellation/trustchain'
import {
  anchorOf,
  buildAgreementProof,
  type CheckpointCertificate,
  defaultSolarSystemRules,
  encodeCertificate,
  resultHash,
  type SolarSystemGenesis,
  type SolarSystemRules,
  type SolarSystemState,
  transactionLeaf,
} from '../../src/index.js'
import {
  type AnchoredCheckpoint,
  applyResult,
  checkSubmission,
  type FacilitatorRoundState,
  genesisHashOf,
  genesisState,
  type RoundEvent,
  type RoundInputKind,
  type RoundMessage,
  startRound,
  stepRound,
} from '../../src/round.js'
import { childRun, childRunBytes } from '../../src/hierarchy/child-run.js'
import { HierarchyIndex, type RootedAgreementProof } from '../../src/hierarchy/finality-path.js'
import { type ChildCertificates, type LevelInput, levelInputs } from '../../src/hierarchy/level-inputs.js'
import type { MembershipRequest } from '../../src/membership/membership-request.js'
import { CarriedLedgerBytes } from './carried-ledger-bytes.js'
import { SIM_BALANCE } from './solar-system-sim.js'

export interface CostModel {
  /** CPU milliseconds per signature verified. */
  readonly verifyMs: number
  /** CPU milliseconds per signature made. */
  readonly signMs: number
  /** One-way latency of a message. */
  readonly latency: LatencyModel
  /** Uplink bandwidth of every node, bytes per millisecond (Infinity: none charged). */
  readonly bytesPerMs: number
  /** Peers each node relays a certificate to: it reaches a group of G nodes in ceil(log_fanout G) relays. */
  readonly gossipFanout: number
  /** What each of the `transactionsPerRound` transfers costs, by role. */
  readonly transfer: TransferCharges
}

/**
 * What one transfer on the anchored flow costs each role beyond the rounds themselves (signatures checked and made,
 * bytes sent): `measureTransferCost` (transfer-cost.ts) measures it on the real nodes.
 */
export interface TransferCharges {
  /** Signs its proposals, checks the agreements; bytes of its frames to the counterparty. */
  readonly proposer: { readonly verifies: number; readonly signs: number; readonly bytes: number }
  /** Checks the proposals addressed to it, signs the agreements; bytes of its answers. */
  readonly counterparty: { readonly verifies: number; readonly signs: number; readonly bytes: number }
  /** Per transfer half and per facilitator other than its author: signatures checked, and bytes of the half submitted. */
  readonly facilitator: { readonly verifiesPerHalf: number; readonly submissionBytesPerHalf: number }
  /** Bytes a half adds to each copy of a level-0 proposal (its stretch-summary entry). */
  readonly summaryBytesPerHalf: number
  /** Bytes a finalised transfer adds to its level-0 certificate as gossiped (entries and leaf), and as a parent carries it. */
  readonly certificateBytesPerTransfer: number
  readonly childCertificateBytesPerTransfer: number
}

/** One sign and one verify per transfer on each side and nothing else: what the model charged before it was measured. */
export const ASSUMED_TRANSFER_CHARGES: TransferCharges = Object.freeze({
  proposer: { verifies: 1, signs: 1, bytes: 0 },
  counterparty: { verifies: 1, signs: 1, bytes: 0 },
  facilitator: { verifiesPerHalf: 0, submissionBytesPerHalf: 0 },
  summaryBytesPerHalf: 0,
  certificateBytesPerTransfer: 0,
  childCertificateBytesPerTransfer: 0,
})

export interface HierarchySimOptions {
  readonly seed: string
  readonly crypto: Crypto
  readonly systems: number
  readonly membersPerSystem: number
  /** Facilitators of a solar-system round. */
  readonly facilitators: number
  /** Children of a group above level 0 at most. */
  readonly fanOut: number
  /** Members (validators) of a group above level 0, and its facilitators per round. */
  readonly validatorsPerGroup: number
  readonly upperFacilitators: number
  /**
   * Transfers each member proposes to its partner per round: counted and charged (`cost.transfer`), not built as blocks.
   * A function gives each solar system its own load (by its index, 0 first), e.g. one busy system among quiet ones.
   */
  readonly transactionsPerRound?: number | ((system: number) => number)
  /** Whether partners make one real transfer (blocks, signatures) per round, for finality proofs. */
  readonly realTransfers?: boolean
  readonly cost?: Partial<CostModel>
  readonly proposalTimeoutMs?: number
  readonly upperProposalTimeoutMs?: number
  /** Whether node `id` is away at virtual time `time`. */
  readonly offline?: (id: string, time: number) => boolean
  /** The root also certifies membership requests. */
  readonly membership?: boolean
}

export interface SimNode {
  readonly id: string
  readonly keyPair: KeyPair
  readonly crypto: Crypto
  readonly counts: { verify: number; sign: number }
  busyUntil: number
  uplinkFree: number
  /** Milliseconds its uplink has spent sending, in all. */
  uplinkBusy: number
  /** Rounds it has facilitated, by level. */
  readonly facilitated: number[]
  head: ChainHead
  /**
   * The chain's blocks after its last certified checkpoint, oldest first: the stretch its next checkpoint closes.
   * Replaced, never changed in place (a submission in flight holds the array it was sent with).
   */
  stretch: readonly HalfBlock[]
  readonly system: Group
  partner?: SimNode
  /** Transfers with the partner, cumulative, that this member's chain holds before each of its checkpoints. */
  readonly transfersAt: Map<number, number>
  /** Its halves of counted transfers: in its chain, and not yet submitted to the facilitators. */
  transfers: number
  unsubmitted: number
  /** Transfers before this member's latest checkpoint certified at level 0. */
  certified: number
  /** Transfers before this member's latest rooted checkpoint. */
  covered: number
  /** The last round of its solar system this node holds. */
  lastRound: number
  syncs: number
}

export interface Group {
  readonly genesis: SolarSystemGenesis
  /** Its key in its parent's results (the genesis hash, hex). */
  readonly key: string
  readonly level: number
  readonly rules: SolarSystemRules
  readonly members: SimNode[]
  readonly children: Group[]
  parent?: Group
  state: SolarSystemState
  readonly certifiedAt: number[]
  /** The facilitator machines of round `state.round + 1`. */
  machines: Map<string, FacilitatorRoundState<AnchoredCheckpoint> | FacilitatorRoundState<LevelInput>>
  /** Messages and inputs that reached a facilitator before its machine for their round started. */
  early: Map<string, { round: number; event: RoundEvent<AnchoredCheckpoint> | RoundEvent<LevelInput> }[]>
  /** Per validator: the newest round of each child it heard of. */
  readonly heard: Map<string, Map<string, number>>
  /** Per validator above level 0: its input kind, kept across rounds (its verdict cache is its own). */
  readonly kinds: Map<string, RoundInputKind<LevelInput>>
}

export interface RealTransfer {
  readonly proposal: HalfBlock
  readonly agreement: HalfBlock
  readonly proposer: SimNode
  readonly counterparty: SimNode
}

/** How often a message for a sleeping node is offered again. */
const RETRY_MS = 200

const DEFAULT_COST: CostModel = {
  verifyMs: 0,
  signMs: 0,
  latency: uniformLatency(5, 25),
  bytesPerMs: Number.POSITIVE_INFINITY,
  gossipFanout: 6,
  transfer: ASSUMED_TRANSFER_CHARGES,
}

function countingCrypto(crypto: Crypto, counts: { verify: number; sign: number }): Crypto {
  return {
    backend: crypto.backend,
    generateKeyPair: () => crypto.generateKeyPair(),
    keyPairFromSeed: (seed) => crypto.keyPairFromSeed(seed),
    sign: (message, keyPair) => {
      counts.sign++
      return crypto.sign(message, keyPair)
    },
    verify: (signature, message, publicKey) => {
      counts.verify++
      return crypto.verify(signature, message, publicKey)
    },
    verifyMany: (items: readonly SignedMessage[]) => {
      counts.verify += items.length
      return crypto.verifyMany(items)
    },
    sha256: (data) => crypto.sha256(data),
  }
}

function messageBytes(message: RoundMessage): number {
  if (message.kind === 'share') return 80
  const m = message.message
  return 'value' in m && m.value instanceof Uint8Array ? m.value.length + 32 : 'digest' in m ? m.digest.length + 24 : 24
}

export class HierarchySim {
  readonly clock = new VirtualClock()
  readonly index: HierarchyIndex
  readonly nodes: SimNode[] = []
  readonly systems: Group[] = []
  readonly groups: Group[] = []
  readonly root: Group
  readonly transfers: RealTransfer[] = []
  /** At each root certificate: when, and how many transfers were then final up to the root. */
  readonly rootTimeline: { readonly time: number; readonly final: number }[] = []
  readonly errors: unknown[] = []
  readonly cost: CostModel
  readonly #options: HierarchySimOptions
  readonly #random: Random
  readonly #crypto: Crypto
  readonly #requests: MembershipRequest[] = []
  readonly #byId = new Map<string, SimNode>()
  readonly #registry = new PayloadRegistry()
  /** Level 0: where each finalised transfer's leaf (hex) was finalised, with that round's leaves. */
  readonly #finalised = new Map<string, { readonly group: string; readonly round: number; readonly leaves: readonly Uint8Array[] }>()
  /** Bytes the counted transfers add to a level-0 certificate as a parent carries it. */
  readonly #carried = new CarriedLedgerBytes()
  /** Bytes the counted transfers add to a proposal, by the proposal's encoded value (its copies share the array). */
  readonly #proposalPadding = new WeakMap<Uint8Array, number>()

  constructor(options: HierarchySimOptions) {
    this.#options = options
    this.#crypto = options.crypto
    this.cost = { ...DEFAULT_COST, ...options.cost }
    this.#random = createRandom(`hierarchy/${options.seed}`)
    this.index = new HierarchyIndex(options.crypto)
    const crypto = options.crypto
    // Level 0: the solar systems and their members.
    for (let s = 0; s < options.systems; s++) {
      const pairs = Array.from({ length: options.membersPerSystem }, (_, i) => crypto.keyPairFromSeed(seedBytes(`${options.seed}/${s}`, i)))
      const ids = pairs.map((pair) => toHex(pair.publicKey))
      const genesis: SolarSystemGenesis = {
        level: 0,
        group: `sol-${s}`,
        members: ids,
        facilitators: [...ids].sort().slice(0, options.facilitators),
        balances: Object.fromEntries(ids.map((id) => [id, SIM_BALANCE])),
      }
      const group = this.#group(genesis, defaultSolarSystemRules({ facilitators: options.facilitators }), [], [])
      const sorted = [...pairs].sort((a, b) => (toHex(a.publicKey) < toHex(b.publicKey) ? -1 : 1))
      for (const keyPair of sorted) group.members.push(this.#node(keyPair, group))
      for (let i = 0; i + 1 < group.members.length; i += 2) {
        ;(group.members[i] as SimNode).partner = group.members[i + 1] as SimNode
        ;(group.members[i + 1] as SimNode).partner = group.members[i] as SimNode
      }
      this.systems.push(group)
    }
    // Levels above: groups of up to `fanOut` children until one group is left, the root.
    let layer = this.systems
    let level = 0
    while (layer.length > 1 || (level === 0 && options.membership === true)) {
      level++
      const next: Group[] = []
      for (let g = 0; g * options.fanOut < layer.length; g++) {
        const children = layer.slice(g * options.fanOut, (g + 1) * options.fanOut)
        const validators = this.#validatorsFor(children)
        const ids = validators.map((node) => node.id)
        const genesis: SolarSystemGenesis = { level, group: `L${level}-${g}`, members: ids, facilitators: [...ids].sort().slice(0, options.upperFacilitators) }
        const rules = defaultSolarSystemRules({ facilitators: options.upperFacilitators, maxProposalBytes: 900 * 1_024 })
        const group = this.#group(genesis, rules, validators, children)
        for (const child of children) child.parent = group
        next.push(group)
      }
      layer = next
    }
    this.root = layer[0] as Group
  }

  #group(genesis: SolarSystemGenesis, rules: SolarSystemRules, members: SimNode[], children: Group[]): Group {
    const group: Group = {
      genesis,
      key: toHex(genesisHashOf(this.#crypto, genesis)),
      level: genesis.level,
      rules,
      members,
      children,
      state: genesisState(this.#crypto, genesis, rules),
      certifiedAt: [],
      machines: new Map(),
      early: new Map(),
      heard: new Map(),
      kinds: new Map(),
    }
    this.index.addGroup(
      genesis,
      children.map((child) => child.genesis),
    )
    this.groups.push(group)
    return group
  }

  #node(keyPair: KeyPair, system: Group): SimNode {
    const counts = { verify: 0, sign: 0 }
    const crypto = countingCrypto(this.#crypto, counts)
    // The genesis block states the opening balance the solar system's genesis gives the member (its first stretch is
    // refused otherwise).
    const genesisBlock = createGenesisBlock(
      { crypto: this.#crypto, keyPair },
      { balance: system.genesis.balances?.[toHex(keyPair.publicKey)] ?? 0, timestamp: 0 },
    )
    const node: SimNode = {
      id: toHex(keyPair.publicKey),
      keyPair,
      crypto,
      counts,
      busyUntil: 0,
      uplinkFree: 0,
      uplinkBusy: 0,
      facilitated: [],
      head: advanceHead(this.#crypto, EMPTY_CHAIN_HEAD, genesisBlock),
      stretch: [genesisBlock],
      system,
      transfersAt: new Map(),
      transfers: 0,
      unsubmitted: 0,
      certified: 0,
      covered: 0,
      lastRound: 0,
      syncs: 0,
    }
    this.nodes.push(node)
    this.#byId.set(node.id, node)
    return node
  }

  /** Validators of a group: members of its descendant solar systems, taken round-robin, lowest ids first. */
  #validatorsFor(children: readonly Group[]): SimNode[] {
    const systems: Group[] = []
    const collect = (group: Group) => (group.level === 0 ? systems.push(group) : group.children.forEach(collect))
    children.forEach(collect)
    const out: SimNode[] = []
    for (let j = 0; out.length < this.#options.validatorsPerGroup && j < this.#options.validatorsPerGroup * systems.length; j++) {
      const node = (systems[j % systems.length] as Group).members[Math.floor(j / systems.length)]
      if (node !== undefined && !out.includes(node)) out.push(node)
    }
    return out
  }

  node(id: string): SimNode | undefined {
    return this.#byId.get(id)
  }

  #offline(node: SimNode): boolean {
    return this.#options.offline?.(node.id, this.clock.now()) ?? false
  }

  /** Runs `handler` on `node`'s CPU at `time` (or when the CPU frees up), then sends what it queued. */
  #at(node: SimNode, time: number, handler: (send: (to: SimNode, bytes: number, onArrival: () => void) => void) => void): void {
    this.clock.setTimer(time - this.clock.now(), () => this.#run(node, handler))
  }

  #run(node: SimNode, handler: (send: (to: SimNode, bytes: number, onArrival: () => void) => void) => void): void {
    const now = this.clock.now()
    if (this.#offline(node)) {
      // Links are reliable (the shell's peer links retry until the round ends): what reaches a sleeping node is
      // delivered when it is back, and its own timers fire then.
      this.clock.setTimer(RETRY_MS, () => this.#run(node, handler))
      return
    }
    if (node.busyUntil > now) {
      this.clock.setTimer(node.busyUntil - now, () => this.#run(node, handler))
      return
    }
    const before = { verify: node.counts.verify, sign: node.counts.sign }
    const outbox: { to: SimNode; bytes: number; onArrival: () => void }[] = []
    try {
      handler((to, bytes, onArrival) => outbox.push({ to, bytes, onArrival }))
    } catch (error) {
      this.errors.push(error)
    }
    const cpu = (node.counts.verify - before.verify) * this.cost.verifyMs + (node.counts.sign - before.sign) * this.cost.signMs
    node.busyUntil = now + cpu
    for (const { to, bytes, onArrival } of outbox) {
      const departure = Math.max(node.busyUntil, node.uplinkFree) + bytes / this.cost.bytesPerMs
      node.uplinkFree = departure
      node.uplinkBusy += bytes / this.cost.bytesPerMs
      const arrival = departure + (to === node ? 0 : this.cost.latency(this.#random))
      this.clock.setTimer(arrival - now, onArrival)
    }
  }

  start(): void {
    for (const group of this.groups) for (const id of group.state.committee.facilitators) this.#startMachine(group, this.#require(id))
    for (const system of this.systems) for (const member of system.members) this.#at(member, 0, (send) => this.#checkpoint(member, send))
  }

  /** A certified root round carrying membership requests: what a node sends to the root's validators. */
  submitMembershipRequest(request: MembershipRequest): void {
    this.#requests.push(request)
    for (const validator of this.root.members) {
      const machine = this.root.machines.get(validator.id)
      if (machine !== undefined && machine.phase === 'collecting')
        this.#at(validator, this.clock.now() + this.cost.latency(this.#random), (send) =>
          this.#drive(this.root, validator, { type: 'checkpoint', block: { kind: 'request', request } }, send),
        )
    }
  }

  /** Runs until `done()` holds or `untilMs` of virtual time passed. */
  run(untilMs: number, done: () => boolean = () => false): void {
    while (!done() && this.clock.step(untilMs)) {
      // every step runs one event
    }
    this.clock.advanceTo(Math.max(this.clock.now(), done() ? this.clock.now() : untilMs))
  }

  // ---- level 0: members ------------------------------------------------------------------------------

  #checkpoint(member: SimNode, send: (to: SimNode, bytes: number, onArrival: () => void) => void): void {
    const system = member.system
    const state = system.state
    if (member.lastRound < state.round - 1) {
      // Back from sleep: fetch and check the certificates missed (charged as their signature checks).
      member.counts.verify += (state.round - 1 - member.lastRound) * state.committee.quorum
      member.syncs++
    }
    member.lastRound = state.round
    const author = { crypto: member.crypto, keyPair: member.keyPair }
    const partner = member.partner
    const even = partner !== undefined && member.id < partner.id
    if (even && partner !== undefined && !this.#offline(partner)) {
      const load = this.#options.transactionsPerRound ?? 0
      const count = typeof load === 'number' ? load : load(this.systems.indexOf(member.system))
      if (count > 0) this.#propose(member, partner, count, send)
      if (this.#options.realTransfers === true) this.#realTransfer(member, partner)
    }
    const block = createCheckpoint(author, member.head, {
      consensusResultHash: state.resultHash,
      round: state.round,
      timestamp: stamp(member, this.clock.now()),
    })
    member.head = advanceHead(this.#crypto, member.head, block)
    // The submission: the own blocks after the certified checkpoint (the genesis on, before the first), the new one last.
    const anchor = anchorOf(state, member.id)?.sequenceNumber ?? 0
    member.stretch = [...member.stretch.filter((own) => own.sequenceNumber > anchor), block]
    member.transfersAt.set(block.sequenceNumber, member.transfers)
    const blocks = member.stretch
    const bytes = blocks.reduce((sum, own) => sum + encodeBlock(own).length, 0)
    const round = state.round + 1
    // The counted halves go to each facilitator once (a member sends only what a facilitator has not acknowledged);
    // its own facilitator role takes them unchecked, as the shell does with blocks it signed itself.
    const halves = member.unsubmitted
    member.unsubmitted = 0
    const perHalf = this.cost.transfer.facilitator.submissionBytesPerHalf
    for (const id of state.committee.facilitators) {
      const facilitator = this.#require(id)
      const counted = facilitator === member ? 0 : halves
      send(facilitator, bytes + counted * perHalf, () =>
        this.#at(facilitator, this.clock.now(), (out) => this.#takeSubmission(system, facilitator, round, blocks, counted, out)),
      )
    }
  }

  /**
   * `count` transfers from `proposer` to `counterparty` on the anchored flow, charged by role: the proposer signs its
   * proposals and sends them in a frame; the counterparty, when the frame arrives, checks them, signs its agreements
   * and answers; the proposer checks the answer. Each side's halves are in its chain from then on.
   */
  #propose(proposer: SimNode, counterparty: SimNode, count: number, send: (to: SimNode, bytes: number, onArrival: () => void) => void): void {
    const charge = this.cost.transfer
    proposer.counts.sign += count * charge.proposer.signs
    proposer.transfers += count
    proposer.unsubmitted += count
    send(counterparty, count * charge.proposer.bytes, () =>
      this.#at(counterparty, this.clock.now(), (answer) => {
        counterparty.counts.verify += count * charge.counterparty.verifies
        counterparty.counts.sign += count * charge.counterparty.signs
        counterparty.transfers += count
        counterparty.unsubmitted += count
        answer(proposer, count * charge.counterparty.bytes, () =>
          this.#at(proposer, this.clock.now(), () => {
            proposer.counts.verify += count * charge.proposer.verifies
          }),
        )
      }),
    )
  }

  /**
   * A facilitator takes a member's submission as the shell does: it checks the stretch in full against the solar
   * system's certified state (its own signature checks, charged to it) and hands the anchored checkpoint to its round.
   */
  #takeSubmission(
    system: Group,
    facilitator: SimNode,
    round: number,
    blocks: readonly HalfBlock[],
    halves: number,
    send: (to: SimNode, bytes: number, onArrival: () => void) => void,
  ): void {
    // Stale (a round certified meanwhile, or a newer checkpoint of the member): dropped unchecked, as the machine would.
    const checkpoint = blocks.at(-1) as HalfBlock
    const certified = system.state.lastCheckpoints.get(toHex(checkpoint.publicKey))?.entry.sequenceNumber ?? 0
    if (round <= system.state.round || checkpoint.sequenceNumber <= certified) return
    // The counted transfer halves of the stretch, checked once each by this facilitator.
    facilitator.counts.verify += halves * this.cost.transfer.facilitator.verifiesPerHalf
    const checked = checkSubmission(facilitator.crypto, this.#registry, system.state, blocks)
    if (checked.kind !== 'anchored') {
      // Members here are honest and the state is shared: a refusal is a bug of the simulator or of the check.
      this.errors.push(
        new Error(
          `a submission of ${checkpoint.sequenceNumber} by ${toHex(checkpoint.publicKey).slice(0, 8)} is ${checked.kind === 'resend' ? `missing blocks from ${checked.from}` : `refused: ${checked.reason}`}`,
        ),
      )
      return
    }
    this.#deliver(system, facilitator, round, { type: 'checkpoint', block: checked.checkpoint }, send)
  }

  #realTransfer(proposer: SimNode, counterparty: SimNode): void {
    const proposal = createProposal({ crypto: this.#crypto, keyPair: proposer.keyPair }, proposer.head, {
      counterparty: counterparty.keyPair.publicKey,
      payload: transferPayload(proposer.head, 1),
      timestamp: stamp(proposer, this.clock.now()),
    })
    proposer.head = advanceHead(this.#crypto, proposer.head, proposal)
    proposer.stretch = [...proposer.stretch, proposal]
    const agreement = createAgreement({ crypto: this.#crypto, keyPair: counterparty.keyPair }, counterparty.head, proposal, {
      timestamp: stamp(counterparty, this.clock.now()),
    })
    counterparty.head = advanceHead(this.#crypto, counterparty.head, agreement)
    counterparty.stretch = [...counterparty.stretch, agreement]
    this.transfers.push({ proposal, agreement, proposer, counterparty })
  }

  // ---- facilitators --------------------------------------------------------------------------------------

  #startMachine(group: Group, facilitator: SimNode): void {
    const { state } = group
    if (!state.committee.facilitators.includes(facilitator.id)) return
    const round = state.round + 1
    facilitator.facilitated[group.level] = (facilitator.facilitated[group.level] ?? 0) + 1
    const config = { crypto: facilitator.crypto, keyPair: facilitator.keyPair, rules: group.rules, seed: state }
    let kind = group.kinds.get(facilitator.id)
    if (kind === undefined && group.level > 0) {
      const membership = group === this.root && this.#options.membership === true
      kind = this.#bounded(
        group,
        levelInputs({ crypto: facilitator.crypto, rules: group.rules, level: group.level, children: group.children.map((c) => c.genesis), membership }),
      )
      group.kinds.set(facilitator.id, kind)
    }
    const machine = kind === undefined ? startRound(config) : startRound({ ...config, inputs: kind })
    group.machines.set(facilitator.id, machine)
    const held = group.early.get(facilitator.id) ?? []
    group.early.set(
      facilitator.id,
      held.filter((item) => item.round > round),
    )
    this.#at(facilitator, this.clock.now(), (send) => {
      if (group.level > 0) {
        for (const input of this.#levelInputsFor(group, facilitator)) this.#drive(group, facilitator, { type: 'checkpoint', block: input }, send)
      }
      for (const item of held) if (item.round === round) this.#drive(group, facilitator, item.event, send)
    })
    const timeout = group.level === 0 ? (this.#options.proposalTimeoutMs ?? 1_000) : (this.#options.upperProposalTimeoutMs ?? 500)
    this.#at(facilitator, this.clock.now() + timeout, (send) => {
      if (group.state.round + 1 === round) this.#drive(group, facilitator, { type: 'proposal-timeout' }, send)
    })
  }

  /**
   * `kind` with its selection held to the rules' proposal bound counting the bytes the counted transfers add to the
   * child certificates, as the real selection would count them if they were there.
   */
  #bounded(group: Group, kind: RoundInputKind<LevelInput>): RoundInputKind<LevelInput> {
    if (this.cost.transfer.childCertificateBytesPerTransfer === 0) return kind
    return {
      ...kind,
      select: (seed, pool) => {
        let bytes = 16
        return kind.select(seed, pool).filter((input) => {
          const size = kind.encodeProposal([input]).length + this.#inputPadding(input)
          if (bytes + size > group.rules.maxProposalBytes) return false
          bytes += size
          return true
        })
      },
    }
  }

  /** Bytes the counted transfers add to a proposed input: summary entries at level 0, ledger entries above. */
  #inputPadding(input: AnchoredCheckpoint | LevelInput): number {
    if ('tail' in input) {
      const member = this.#byId.get(toHex(input.block.publicKey))
      if (member === undefined) return 0
      const halves = (member.transfersAt.get(input.block.sequenceNumber) ?? 0) - (member.transfersAt.get(input.tail.summary.anchor) ?? 0)
      return halves * this.cost.transfer.summaryBytesPerHalf
    }
    return input.kind === 'child' ? this.#carried.runPadding(input) : 0
  }

  /** What a validator proposes above level 0: each child's run since the last one certified, and waiting requests. */
  #levelInputsFor(group: Group, validator: SimNode): LevelInput[] {
    const inputs: LevelInput[] = []
    // Requests first: the children's runs complete the collection and set off the proposal.
    if (group === this.root && this.#options.membership === true) {
      for (const request of this.#requests) {
        const last = group.state.lastCheckpoints.get(toHex(request.publicKey))
        if (last === undefined || request.nonce > last.entry.sequenceNumber) inputs.push({ kind: 'request', request })
      }
    }
    const heard = group.heard.get(validator.id) ?? new Map<string, number>()
    for (const child of group.children) {
      const run = this.#childRun(group, child, heard.get(child.genesis.group) ?? 0)
      if (run !== undefined) inputs.push(run)
    }
    return inputs
  }

  #childRun(group: Group, child: Group, upTo: number): ChildCertificates | undefined {
    const history = this.index.history(child.level, child.genesis.group)
    if (history === undefined) return undefined
    // As LevelNode bounds a run — a share of the proposal per child — with each certificate measured as the parent
    // would carry it: its encoding plus the counted transfers' ledger entries, which the simulated one lacks.
    const share = childRunBytes(group.rules.maxProposalBytes, group.children.length)
    return childRun(group.state, { genesis: child.genesis, key: fromHex(child.key), keyHex: child.key }, history, 16, upTo, share, (certificate) =>
      this.#carried.certificateBytes(certificate),
    )
  }

  #deliver(
    group: Group,
    facilitator: SimNode,
    round: number,
    event: RoundEvent<AnchoredCheckpoint> | RoundEvent<LevelInput>,
    send: (to: SimNode, bytes: number, onArrival: () => void) => void,
  ): void {
    if (round === group.state.round + 1 && group.machines.has(facilitator.id)) {
      this.#drive(group, facilitator, event, send)
    } else if (round > group.state.round) {
      const held = group.early.get(facilitator.id) ?? []
      if (held.length < 100_000) held.push({ round, event })
      group.early.set(facilitator.id, held)
    }
  }

  #drive(
    group: Group,
    facilitator: SimNode,
    event: RoundEvent<AnchoredCheckpoint> | RoundEvent<LevelInput>,
    send: (to: SimNode, bytes: number, onArrival: () => void) => void,
  ): void {
    const machine = group.machines.get(facilitator.id)
    if (machine === undefined) return
    // One machine for every level: the input kind differs, the stepping does not.
    const stepped = stepRound(machine as FacilitatorRoundState<LevelInput>, event as RoundEvent<LevelInput>)
    group.machines.set(facilitator.id, stepped.state)
    const round = machine.round
    if (machine.proposed === undefined && stepped.state.proposed !== undefined) {
      // This step proposes: the proposal's value (in its INIT, and in any copy fetched later) carries the counted
      // transfers' bytes of the inputs it proposes.
      const padding = (stepped.state.proposed as readonly (AnchoredCheckpoint | LevelInput)[]).reduce((sum, input) => sum + this.#inputPadding(input), 0)
      for (const effect of stepped.effects) {
        if (effect.type === 'send' && effect.message.kind === 'acs' && effect.message.message.kind === 'init')
          this.#proposalPadding.set(effect.message.message.value, padding)
      }
    }
    for (const effect of stepped.effects) {
      if (effect.type === 'send') {
        const targets = effect.to === 'all' ? machine.config.seed.committee.facilitators.filter((id) => id !== facilitator.id) : [effect.to]
        const m = effect.message
        const padding = m.kind === 'acs' && (m.message.kind === 'init' || m.message.kind === 'value') ? (this.#proposalPadding.get(m.message.value) ?? 0) : 0
        for (const id of targets) {
          const peer = this.#require(id)
          send(peer, messageBytes(effect.message) + padding, () =>
            this.#at(peer, this.clock.now(), (out) =>
              this.#deliver(group, peer, round, { type: 'message', from: facilitator.id, message: effect.message }, out),
            ),
          )
        }
      } else if (effect.certificate.result.body.round === group.state.round + 1) {
        this.#certified(group, effect.certificate, effect.state)
      }
    }
  }

  // ---- certificates ------------------------------------------------------------------------------------

  #certified(group: Group, certificate: CheckpointCertificate, next: SolarSystemState): void {
    // The state every honest node derives from the certificate (applyResult re-runs the election to check it).
    group.state = applyResult(group.rules, group.state, certificate.result, resultHash(this.#crypto, certificate.result.body))
    if (group.state.committee.facilitators.join() !== next.committee.facilitators.join())
      this.errors.push(new Error('the certifier and the followers disagree'))
    this.index.append(certificate)
    group.certifiedAt[certificate.result.body.round] = this.clock.now()
    // Level 0: the transfers the round finalised travel beside its certificate (the index keeps it without them).
    const leaves = certificate.finalised ?? []
    for (const leaf of leaves) this.#finalised.set(toHex(leaf), { group: group.genesis.group, round: certificate.result.body.round, leaves })
    const counted = group.level === 0 ? this.#countedFinalised(certificate) : 0
    this.#carried.record(group.genesis.group, certificate.result.body.round, counted * this.cost.transfer.childCertificateBytesPerTransfer)
    group.machines = new Map()
    if (group === this.root) {
      this.#rooted(group.level, group.genesis.group, certificate.result.body.round)
      this.rootTimeline.push({ time: this.clock.now(), final: this.finalTransfers() })
    }
    const bytes = encodeCertificate(certificate).length + counted * this.cost.transfer.certificateBytesPerTransfer
    const hops = Math.max(1, Math.ceil(Math.log(Math.max(2, group.members.length + (group.parent?.members.length ?? 0))) / Math.log(this.cost.gossipFanout)))
    const relay = () => {
      let delay = 0
      for (let hop = 0; hop < hops; hop++) delay += this.cost.latency(this.#random) + bytes / this.cost.bytesPerMs
      return delay
    }
    const quorum = certificate.signatures.length
    const now = this.clock.now()
    // Members (level 0) and validators (above) follow the certificate: check it, then checkpoint or facilitate.
    for (const node of group.members) {
      this.#at(node, now + relay(), () => {
        node.counts.verify += quorum
        if (group.state.committee.facilitators.includes(node.id) && !group.machines.has(node.id)) this.#startMachine(group, node)
        if (group.level === 0) this.#at(node, this.clock.now(), (out) => this.#checkpoint(node, out))
      })
    }
    // The parent's validators hear of the child's new round and, if they facilitate, take it as an input.
    const parent = group.parent
    if (parent !== undefined) {
      const round = certificate.result.body.round
      for (const validator of parent.members) {
        this.#at(validator, now + relay(), (out) => {
          validator.counts.verify += quorum
          const heard = parent.heard.get(validator.id) ?? new Map<string, number>()
          heard.set(group.genesis.group, Math.max(round, heard.get(group.genesis.group) ?? 0))
          parent.heard.set(validator.id, heard)
          const machine = parent.machines.get(validator.id)
          if (machine === undefined || machine.phase !== 'collecting') return
          const run = this.#childRun(parent, group, round)
          if (run !== undefined) this.#drive(parent, validator, { type: 'checkpoint', block: run }, out)
        })
      }
    }
  }

  /** Counted transfers a level-0 certificate finalises: per pair, those both partners' certified checkpoints now cover. */
  #countedFinalised(certificate: CheckpointCertificate): number {
    let finalised = 0
    for (const entry of certificate.result.body.checkpoints) {
      const member = this.#byId.get(toHex(entry.publicKey))
      const covered = member?.transfersAt.get(entry.sequenceNumber)
      const partner = member?.partner
      if (member === undefined || partner === undefined || covered === undefined || covered <= member.certified) continue
      const before = Math.min(member.certified, partner.certified)
      member.certified = covered
      finalised += Math.min(member.certified, partner.certified) - before
    }
    return finalised
  }

  /** Marks what a root round commits as final, down to the members' checkpoints. */
  #rooted(level: number, group: string, round: number): void {
    if (level === 0) {
      const certificate = this.index.history(0, group)?.certificate(round)
      for (const entry of certificate?.result.body.checkpoints ?? []) {
        const member = this.#byId.get(toHex(entry.publicKey))
        const covered = member?.transfersAt.get(entry.sequenceNumber)
        if (member !== undefined && covered !== undefined && covered > member.covered) member.covered = covered
      }
      return
    }
    for (const child of this.index.committedBy(level, group, round)) this.#rooted(level - 1, child.group, child.round)
  }

  #require(id: string): SimNode {
    const node = this.#byId.get(id)
    if (node === undefined) throw new Error(`no node ${id}`)
    return node
  }

  // ---- what the tests and the bench read -----------------------------------------------------------------

  /** Transfers final up to the root: per pair, those both partners' rooted checkpoints cover. */
  finalTransfers(): number {
    let total = 0
    for (const node of this.nodes) if (node.partner !== undefined && node.id < node.partner.id) total += Math.min(node.covered, node.partner.covered)
    return total
  }

  /**
   * A real transfer's agreement proof (its halves, the certificate of the level-0 round that finalised it and the
   * Merkle path to its leaf) with the path that roots that certificate, once the root has committed it.
   */
  rootedProof(transfer: RealTransfer): RootedAgreementProof | undefined {
    const at = this.#finalised.get(toHex(transactionLeaf(this.#crypto, transfer)))
    if (at === undefined) return undefined
    const certificate = this.index.history(0, at.group)?.certificate(at.round)
    const path = this.index.finalityPath(0, at.group, at.round)
    if (certificate === undefined || path === undefined) return undefined
    const proof = buildAgreementProof(this.#crypto, { proposal: transfer.proposal, agreement: transfer.agreement }, certificate, at.leaves)
    return { proof, paths: [path] }
  }
}

/** Block timestamps are whole milliseconds and never go back along a chain. */
function stamp(node: SimNode, now: number): number {
  return Math.max(node.head.timestamp, Math.floor(now))
}

function seedBytes(label: string, i: number): Uint8Array {
  const bytes = new Uint8Array(32)
  bytes.set(new TextEncoder().encode(label).subarray(0, 28))
  new DataView(bytes.buffer).setUint32(28, i)
  return bytes
}
