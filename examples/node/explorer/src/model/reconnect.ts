/**
 * When the explorer tries again to open its live event stream after losing it: soon at first (a node restarting
 * comes back within seconds), then backing off to a ceiling so a node that is gone is not hammered. Jitter keeps
 * several open tabs from reconnecting in step.
 */

export interface ReconnectPolicy {
  readonly firstDelayMs: number
  readonly maxDelayMs: number
}

export const DEFAULT_RECONNECT: ReconnectPolicy = { firstDelayMs: 500, maxDelayMs: 15_000 }

/**
 * Delay before attempt `attempt` (1 = the first retry): doubling from `firstDelayMs`, capped at `maxDelayMs`, then
 * scaled by a factor in [0.75, 1) drawn from `random` (a number in [0, 1)).
 */
export function reconnectDelay(attempt: number, random: number, policy: ReconnectPolicy = DEFAULT_RECONNECT): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30)
  const base = Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** exponent)
  return Math.round(base * (0.75 + 0.25 * Math.min(Math.max(random, 0), 1)))
}
