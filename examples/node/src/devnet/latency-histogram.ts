/**
 * Finality latency quantiles from the nodes' Prometheus histograms (`constellation_finality_latency_seconds`),
 * for nodes whose API does not list their latencies: the buckets of all nodes are added up and the quantile is
 * interpolated linearly inside the bucket that holds it, as Prometheus's `histogram_quantile` does. Coarse (the
 * buckets double), so the devnet prefers the nodes' own latency lists when it has them.
 */

export const FINALITY_HISTOGRAM = 'constellation_finality_latency_seconds'

/** Cumulative bucket counts by upper bound (seconds), summed over the given exposition texts. */
export function sumBuckets(texts: readonly string[], name = FINALITY_HISTOGRAM): Map<number, number> {
  const buckets = new Map<number, number>()
  const pattern = new RegExp(`^${name}_bucket\\{(?:[^}]*,)?le="([^"]+)"[^}]*\\} (\\S+)$`)
  for (const text of texts) {
    for (const line of text.split('\n')) {
      const match = pattern.exec(line)
      if (match === null) continue
      const bound = match[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(match[1])
      const value = Number(match[2])
      if (Number.isFinite(value)) buckets.set(bound, (buckets.get(bound) ?? 0) + value)
    }
  }
  return buckets
}

/** The q-quantile in milliseconds, or null without observations. Past the last finite bound it is that bound. */
export function histogramQuantileMs(buckets: ReadonlyMap<number, number>, q: number): number | null {
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0])
  const total = sorted.at(-1)?.[1] ?? 0
  if (total === 0) return null
  const rank = q * total
  let lowerBound = 0
  let lowerCount = 0
  for (const [bound, count] of sorted) {
    if (count >= rank) {
      if (!Number.isFinite(bound)) return lowerBound * 1_000
      const inBucket = count - lowerCount
      const fraction = inBucket === 0 ? 0 : (rank - lowerCount) / inBucket
      return (lowerBound + (bound - lowerBound) * fraction) * 1_000
    }
    lowerBound = bound
    lowerCount = count
  }
  return lowerBound * 1_000
}
