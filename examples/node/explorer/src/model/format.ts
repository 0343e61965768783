/**
 * How the explorer writes values for people: keys and hashes shortened (the full value stays in a title and in
 * links), durations, times, scores and sizes. Pure functions, so the views and the unit tests agree.
 */
import type { TransactionTotals } from '../../../src/node/transaction-tracker.js'

/** `ab12cd…90ef`: enough of a 64-digit key to tell the keys of one network apart at a glance. */
export function shortHex(hex: string, head = 6, tail = 4): string {
  return hex.length <= head + tail + 1 ? hex : `${hex.slice(0, head)}…${hex.slice(-tail)}`
}

/** `850 ms`, `1.97 s`, `2 min 5 s`, `3 h 4 min`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—'
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`
  const seconds = Math.floor(ms / 1000)
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`
}

/** A block or event time in UTC, to the millisecond: `2026-11-24 13:05:02.123 UTC`. */
export function formatTimestamp(ms: number): string {
  if (!Number.isFinite(ms)) return '—'
  return `${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')} UTC`
}

/** Whole units with thousands separators (`1,000,000`), the same in every locale. */
export function formatAmount(value: number): string {
  return Math.trunc(value)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

/** A score in [0, 1] to three decimals. */
export function formatScore(score: number): string {
  return Number.isFinite(score) ? score.toFixed(3) : '—'
}

/** `512 B`, `3.4 KiB`, `1.2 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`
}

/** A JSON value on one line, cut to `max` characters (contract inputs, outputs and states can be large). */
export function formatJson(value: unknown, max = 120): string {
  const text = JSON.stringify(value) ?? 'undefined'
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

/** `1 contract`, `3 contracts`: a count with its noun agreeing. */
export function formatCount(count: number, singular: string, plural = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : plural}`
}

/** Whether a key is the all-zero one that genesis and checkpoint blocks carry as their link: they link to no chain. */
export function isNoKey(hex: string): boolean {
  return /^0+$/.test(hex)
}

/**
 * A node's transaction totals in one line: its own proposals and how far they got, the transfers it refused before
 * signing anything, and the ones it agreed to as counterparty.
 */
export function formatTransactionTotals(totals: TransactionTotals): string {
  const n = formatAmount
  return (
    `${n(totals.submitted)} sent: ${n(totals.agreed)} agreed (${n(totals.final)} final, ${n(totals.awaitingFinality)} awaiting finality), ` +
    `${n(totals.pending)} pending, ${n(totals.refused)} refused; ${n(totals.rejected)} rejected before signing; ` +
    `${n(totals.incoming)} received (${n(totals.incomingFinal)} final)`
  )
}
