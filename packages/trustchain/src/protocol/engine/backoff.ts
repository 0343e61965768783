/**
 * When our proposals are sent again: exponential backoff with jitter, drawn from a seeded generator that the engine
 * state carries, so that a run replays exactly.
 */
import type { EngineConfig } from './engine-config.js'

/** mulberry32: a tiny seeded generator, enough for jitter. Returns [value in [0, 1), next state]. */
export function nextRandom(state: number): [number, number] {
  const next = (state + 0x6d2b79f5) >>> 0
  let z = next
  z = Math.imul(z ^ (z >>> 15), z | 1)
  z ^= z + Math.imul(z ^ (z >>> 7), z | 61)
  return [((z ^ (z >>> 14)) >>> 0) / 4294967296, next]
}

/** The delay before attempt `attempts + 1`, for a draw `random` in [0, 1). */
export function backoff(config: EngineConfig, attempts: number, random: number): number {
  const base = Math.min(config.retry.maxDelayMs, config.retry.initialDelayMs * 2 ** (attempts - 1))
  return Math.max(1, Math.round(base * (1 - config.retry.jitter + 2 * config.retry.jitter * random)))
}
