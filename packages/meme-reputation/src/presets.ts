/**
 * A ready-made schema for consensus participants, with one feature per observation the Proof of Meme design
 * names: rounds served, rounds faulty, proven frauds, checkpoint sizes, latency, uptime and SLA outcomes.
 * Bounds are starting points for a small network; a deployment tunes them to its own figures. The defaults are
 * not pessimistic (no recorded fault is the best fault count; latency, uptime and SLA start middling), so a
 * never-observed meme scores well once it is no longer a newcomer: see the README's Sybil bound.
 */
import { defineFeatureSchema, type FeatureSchema } from './feature-schema.js'

export function consensusFeatureSchema(options: { halfLifeRounds?: number } = {}): FeatureSchema {
  return defineFeatureSchema({
    halfLifeRounds: options.halfLifeRounds ?? 500,
    features: [
      { name: 'roundsServed', direction: 'higher-is-better', normalisation: { kind: 'log', max: 1000 }, default: 0, aggregate: 'sum' },
      { name: 'roundsFaulty', direction: 'lower-is-better', normalisation: { kind: 'log', max: 100 }, default: 0, aggregate: 'sum' },
      { name: 'provenFrauds', direction: 'lower-is-better', normalisation: { kind: 'min-max', min: 0, max: 3 }, default: 0, aggregate: 'sum' },
      { name: 'checkpointBytes', direction: 'higher-is-better', normalisation: { kind: 'log', max: 1_048_576 }, default: 0, aggregate: 'mean' },
      { name: 'latencyMs', direction: 'lower-is-better', normalisation: { kind: 'log', max: 2000 }, default: 500, aggregate: 'mean' },
      { name: 'uptime', direction: 'higher-is-better', normalisation: { kind: 'clamp' }, default: 0.5, aggregate: 'mean' },
      { name: 'slaMet', direction: 'higher-is-better', normalisation: { kind: 'clamp' }, default: 0.5, aggregate: 'mean' },
    ],
  })
}
