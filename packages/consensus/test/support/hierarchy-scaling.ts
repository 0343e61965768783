/**
 * Horizontal scaling of the hierarchy: total transfers final up to the root per virtual second, for a growing
 * number of solar systems of the same size, on `HierarchySim` (the real round machine at every level) under an
 * explicit cost model. Shared by bench/scaling.bench.ts (full size) and test/hierarchy/scaling.test.ts (reduced).
 */
import type { Crypto } from '@constellation/crypto'
import { uniformLatency } from '@constellation/gossip'
import { type CostModel, HierarchySim } from './hierarchy-sim.js'

export interface ScalingConfig {
  readonly crypto: Crypto
  readonly membersPerSystem: number
  readonly facilitators: number
  readonly fanOut: number
  readonly validatorsPerGroup: number
  readonly upperFacilitators: number
  /** Transfers each member proposes to its partner per round. */
  readonly transactionsPerRound: number
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
  /** Busiest node's CPU use in the window (share of the window). */
  readonly busiestCpu: number
  readonly wallSeconds: number
}

export function measureScaling(config: ScalingConfig, systems: number, seed = 'scaling'): ScalingPoint {
  const cost: Partial<CostModel> = {
    verifyMs: config.verifyMs,
    signMs: config.signMs,
    latency: uniformLatency(config.latencyMinMs, config.latencyMaxMs),
    bytesPerMs: config.bytesPerMs,
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
  const cpuBefore = sim.nodes.map((node) => node.counts.verify * config.verifyMs + node.counts.sign * config.signMs)
  sim.run(config.warmupMs + config.windowMs)
  if (sim.errors.length > 0) throw new Error(`the simulation failed: ${String(sim.errors[0])}`)
  const seconds = config.windowMs / 1_000
  const inWindow = sim.rootTimeline.filter((mark) => mark.time >= config.warmupMs && mark.time <= config.warmupMs + config.windowMs)
  const [first, last] = [inWindow[0], inWindow.at(-1)]
  const finalPerSecond = first === undefined || last === undefined || last.time === first.time ? 0 : ((last.final - first.final) / (last.time - first.time)) * 1_000
  const busiest = Math.max(...sim.nodes.map((node, i) => node.counts.verify * config.verifyMs + node.counts.sign * config.signMs - (cpuBefore[i] as number)))
  return {
    systems,
    nodes: sim.nodes.length,
    levels: sim.root.level + 1,
    finalPerSecond,
    roundsPerSecond: (sim.systems.reduce((sum, g) => sum + g.state.round, 0) - roundsBefore) / systems / seconds,
    rootRoundsPerSecond: (sim.root.state.round - rootBefore) / seconds,
    busiestCpu: busiest / config.windowMs,
    wallSeconds: (performance.now() - wallStart) / 1_000,
  }
}

/**
 * One point measured on each of `seeds` and averaged: throughput and round rates are the means, the busiest CPU the
 * highest, the wall time the sum. A short window's figure moves by tens of percent with the seed (how the latency
 * draws fall against the window's edges), its mean over a few seeds far less.
 */
export function measureScalingMean(config: ScalingConfig, systems: number, seeds: readonly string[]): ScalingPoint {
  const points = seeds.map((seed) => measureScaling(config, systems, seed))
  const mean = (figure: (point: ScalingPoint) => number) => points.reduce((sum, point) => sum + figure(point), 0) / points.length
  const first = points[0]
  if (first === undefined) throw new Error('no seeds to measure on')
  return {
    systems,
    nodes: first.nodes,
    levels: first.levels,
    finalPerSecond: mean((point) => point.finalPerSecond),
    roundsPerSecond: mean((point) => point.roundsPerSecond),
    rootRoundsPerSecond: mean((point) => point.rootRoundsPerSecond),
    busiestCpu: Math.max(...points.map((point) => point.busiestCpu)),
    wallSeconds: points.reduce((sum, point) => sum + point.wallSeconds, 0),
  }
}

/** Throughput at `point` against `systems` times the one-system throughput. */
export function scalingEfficiency(point: ScalingPoint, single: ScalingPoint): number {
  return point.finalPerSecond / (point.systems * single.finalPerSecond)
}
