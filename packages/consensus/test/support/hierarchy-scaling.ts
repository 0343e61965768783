/**
 * Horizontal scaling of the hierarchy: total transfers final up to the root per virtual second, for a growing
 * number of solar systems of the same size, on `HierarchySim` (the real round machine at every level) under an
 * explicit cost model. Shared by bench/scaling.bench.ts (full size) and test/hierarchy/scaling.test.ts (reduced).
 */
import type { Crypto } from '@constellation/crypto'
import { uniformLatency } from '@constellation/gossip'
import { type CostModel, HierarchySim, type SimNode, type TransferCharges } from './hierarchy-sim.js'

export interface ScalingConfig {
  readonly crypto: Crypto
  readonly membersPerSystem: number
  readonly facilitators: number
  readonly fanOut: number
  readonly validatorsPerGroup: number
  readonly upperFacilitators: number
  /** Transfers each member proposes to its partner per round. */
  readonly transactionsPerRound: number
  /** What each transfer costs by role (measured: `measureTransferCost`). */
  readonly transfer: TransferCharges
  readonly verifyMs: number
  readonly signMs: number
  readonly latencyMinMs: number
  readonly latencyMaxMs: number
  readonly bytesPerMs: number
  /** Virtual time before measuring, and the measured window. */
  readonly warmupMs: number
  readonly windowMs: number
}

export interface ScalingPoint {
  readonly systems: number
  readonly nodes: number
  readonly levels: number
  /**
   * Transfers final up to the root per virtual second, between the first and the last root certificate in the
   * window (finality advances only when the root certifies, so measuring between two of its certificates keeps the
   * window's edges from cutting a batch in two).
   */
  readonly finalPerSecond: number
  /** Level-0 rounds per virtual second, averaged over the solar systems. */
  readonly roundsPerSecond: number
  /** Root rounds per virtual second. */
  readonly rootRoundsPerSecond: number
  /**
   * At the window's end, the share of the solar systems' certified rounds that their star clusters have committed
   * (1 with one solar system): what the level above keeps up with.
   */
  readonly committedByParents: number
  /** Busiest node's CPU use in the window (share of the window), and what that node is. */
  readonly busiestCpu: number
  readonly busiestCpuRole: string
  /** Busiest node's uplink use in the window (share of the window), and what that node is. */
  readonly busiestUplink: number
  readonly busiestUplinkRole: string
  readonly wallSeconds: number
}

export function measureScaling(config: ScalingConfig, systems: number, seed = 'scaling'): ScalingPoint {
  const cost: Partial<CostModel> = {
    verifyMs: config.verifyMs,
    signMs: config.signMs,
    latency: uniformLatency(config.latencyMinMs, config.latencyMaxMs),
    bytesPerMs: config.bytesPerMs,
    transfer: config.transfer,
  }
  const wallStart = performance.now()
  const sim = new HierarchySim({
    crypto: config.crypto,
    seed: `${seed}/${systems}`,
    systems,
    membersPerSystem: config.membersPerSystem,
    facilitators: config.facilitators,
    fanOut: config.fanOut,
    validatorsPerGroup: config.validatorsPerGroup,
    upperFacilitators: config.upperFacilitators,
    transactionsPerRound: config.transactionsPerRound,
    cost,
  })
  sim.start()
  sim.run(config.warmupMs)
  const roundsBefore = sim.systems.reduce((sum, g) => sum + g.state.round, 0)
  const rootBefore = sim.root.state.round
  const cpu = (node: SimNode) => node.counts.verify * config.verifyMs + node.counts.sign * config.signMs
  const cpuBefore = sim.nodes.map(cpu)
  const uplinkBefore = sim.nodes.map((node) => node.uplinkBusy)
  const facilitatedBefore = sim.nodes.map((node) => [...node.facilitated])
  sim.run(config.warmupMs + config.windowMs)
  if (sim.errors.length > 0) throw new Error(`the simulation failed: ${String(sim.errors[0])}`)
  const seconds = config.windowMs / 1_000
  const inWindow = sim.rootTimeline.filter((mark) => mark.time >= config.warmupMs && mark.time <= config.warmupMs + config.windowMs)
  const [first, last] = [inWindow[0], inWindow.at(-1)]
  const finalPerSecond =
    first === undefined || last === undefined || last.time === first.time ? 0 : ((last.final - first.final) / (last.time - first.time)) * 1_000
  const withParent = sim.systems.filter((system) => system.parent !== undefined)
  const certifiedRounds = withParent.reduce((sum, system) => sum + system.state.round, 0)
  const committedRounds = withParent.reduce((sum, system) => sum + (system.parent?.state.lastCheckpoints.get(system.key)?.entry.sequenceNumber ?? 0), 0)
  const busiestCpu = busiestOf(sim, facilitatedBefore, (node, i) => cpu(node) - (cpuBefore[i] as number))
  const busiestUplink = busiestOf(sim, facilitatedBefore, (node, i) => node.uplinkBusy - (uplinkBefore[i] as number))
  return {
    systems,
    nodes: sim.nodes.length,
    levels: sim.root.level + 1,
    finalPerSecond,
    roundsPerSecond: (sim.systems.reduce((sum, g) => sum + g.state.round, 0) - roundsBefore) / systems / seconds,
    rootRoundsPerSecond: (sim.root.state.round - rootBefore) / seconds,
    committedByParents: certifiedRounds === 0 ? 1 : committedRounds / certifiedRounds,
    busiestCpu: busiestCpu.value / config.windowMs,
    busiestCpuRole: busiestCpu.role,
    busiestUplink: busiestUplink.value / config.windowMs,
    busiestUplinkRole: busiestUplink.role,
    wallSeconds: (performance.now() - wallStart) / 1_000,
  }
}

/**
 * The node with the highest `figure`, and what it is: a member, or a validator of the levels above it validates, and
 * the rounds it facilitated in the window per level.
 */
function busiestOf(
  sim: HierarchySim,
  facilitatedBefore: readonly number[][],
  figure: (node: SimNode, i: number) => number,
): { readonly value: number; readonly role: string } {
  let best = 0
  for (let i = 1; i < sim.nodes.length; i++) if (figure(sim.nodes[i] as SimNode, i) > figure(sim.nodes[best] as SimNode, best)) best = i
  const node = sim.nodes[best] as SimNode
  const levels = sim.groups.filter((group) => group.level > 0 && group.members.includes(node)).map((group) => group.level)
  const facilitated = node.facilitated
    .map((rounds, level) => ({ level, rounds: rounds - (facilitatedBefore[best]?.[level] ?? 0) }))
    .filter(({ rounds }) => rounds > 0)
    .map(({ level, rounds }) => `L${level} ×${rounds}`)
  const role = `${levels.length === 0 ? 'member' : `validator L${levels.join('+L')}`}${facilitated.length === 0 ? '' : `, facilitated ${facilitated.join(', ')}`}`
  return { value: figure(node, best), role }
}

/**
 * One point measured on each of `seeds` and averaged: throughput and round rates are the means, the busiest CPU and
 * uplink the highest, the wall time the sum. A short window's figure moves by tens of percent with the seed (how the latency
 * draws fall against the window's edges), its mean over a few seeds far less.
 */
export function measureScalingMean(config: ScalingConfig, systems: number, seeds: readonly string[]): ScalingPoint {
  const points = seeds.map((seed) => measureScaling(config, systems, seed))
  const mean = (figure: (point: ScalingPoint) => number) => points.reduce((sum, point) => sum + figure(point), 0) / points.length
  const first = points[0]
  if (first === undefined) throw new Error('no seeds to measure on')
  const cpu = points.reduce((best, point) => (point.busiestCpu > best.busiestCpu ? point : best))
  const uplink = points.reduce((best, point) => (point.busiestUplink > best.busiestUplink ? point : best))
  return {
    systems,
    nodes: first.nodes,
    levels: first.levels,
    finalPerSecond: mean((point) => point.finalPerSecond),
    roundsPerSecond: mean((point) => point.roundsPerSecond),
    rootRoundsPerSecond: mean((point) => point.rootRoundsPerSecond),
    committedByParents: mean((point) => point.committedByParents),
    busiestCpu: cpu.busiestCpu,
    busiestCpuRole: cpu.busiestCpuRole,
    busiestUplink: uplink.busiestUplink,
    busiestUplinkRole: uplink.busiestUplinkRole,
    wallSeconds: points.reduce((sum, point) => sum + point.wallSeconds, 0),
  }
}

/** Throughput at `point` against `systems` times the one-system throughput. */
export function scalingEfficiency(point: ScalingPoint, single: ScalingPoint): number {
  return point.finalPerSecond / (point.systems * single.finalPerSecond)
}
