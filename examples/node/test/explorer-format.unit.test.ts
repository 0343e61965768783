/** How the explorer writes values: keys, durations, times, amounts, sizes, JSON and contract type signatures. */
import { describe, expect, it } from 'vitest'
import {
  formatAmount,
  formatBytes,
  formatCount,
  formatDuration,
  formatJson,
  formatScore,
  formatTimestamp,
  formatTransactionTotals,
  isNoKey,
  shortHex,
} from '../explorer/src/model/format.js'
import { DEFAULT_RECONNECT, reconnectDelay } from '../explorer/src/model/reconnect.js'
import { formatSignature, formatType } from '../explorer/src/model/type-signature.js'

describe('explorer formatting', () => {
  it('shortens keys but not short strings', () => {
    expect(shortHex('0123456789abcdef'.repeat(4))).toBe('012345…cdef')
    expect(shortHex('abc')).toBe('abc')
  })

  it('writes durations at the scale they have', () => {
    expect(formatDuration(850)).toBe('850 ms')
    expect(formatDuration(1970)).toBe('1.97 s')
    expect(formatDuration(12_340)).toBe('12.3 s')
    expect(formatDuration(125_000)).toBe('2 min 5 s')
    expect(formatDuration(3 * 3600_000 + 4 * 60_000)).toBe('3 h 4 min')
    expect(formatDuration(-1)).toBe('—')
  })

  it("writes a node's transaction totals in one line", () => {
    const totals = {
      submitted: 1_204,
      agreed: 1_190,
      refused: 3,
      pending: 11,
      final: 1_150,
      rejected: 7,
      incoming: 980,
      incomingFinal: 960,
      awaitingFinality: 40,
    }
    expect(formatTransactionTotals(totals)).toBe(
      '1,204 sent: 1,190 agreed (1,150 final, 40 awaiting finality), 11 pending, 3 refused; 7 rejected before signing; 980 received (960 final)',
    )
  })

  it('writes times in UTC and amounts with separators', () => {
    expect(formatTimestamp(Date.UTC(2026, 10, 24, 13, 5, 2, 123))).toBe('2026-11-24 13:05:02.123 UTC')
    expect(formatAmount(1_000_000)).toBe('1,000,000')
    expect(formatAmount(999)).toBe('999')
    expect(formatScore(0.12345)).toBe('0.123')
    expect(formatBytes(512)).toBe('512 B')
    expect(formatBytes(3482)).toBe('3.4 KiB')
    expect(formatBytes(5 * 1024 * 1024)).toBe('5.0 MiB')
  })

  it('tells the no-chain link key from a real one', () => {
    expect(isNoKey('0'.repeat(64))).toBe(true)
    expect(isNoKey(`${'0'.repeat(63)}1`)).toBe(false)
  })

  it('makes counts agree with their noun', () => {
    expect(formatCount(1, 'contract')).toBe('1 contract')
    expect(formatCount(0, 'contract')).toBe('0 contracts')
    expect(formatCount(3, 'galaxy', 'galaxies')).toBe('3 galaxies')
  })

  it('cuts long JSON', () => {
    expect(formatJson({ a: 1 })).toBe('{"a":1}')
    expect(formatJson('x'.repeat(50), 10)).toBe('"xxxxxxxx…')
    expect(formatJson(undefined)).toBe('undefined')
  })
})

describe('contract type signatures', () => {
  it('are written in TypeScript-like notation', () => {
    expect(formatType({ kind: 'integer' })).toBe('integer')
    expect(formatType({ kind: 'literal', value: 'up' })).toBe('"up"')
    expect(formatType({ kind: 'array', items: { kind: 'string' } })).toBe('string[]')
    expect(formatType({ kind: 'array', items: { kind: 'union', members: [{ kind: 'null' }, { kind: 'number' }] } })).toBe('(null | number)[]')
    expect(formatType({ kind: 'record', values: { kind: 'boolean' } })).toBe('{ [key: string]: boolean }')
    expect(formatType({ kind: 'struct', fields: { to: { kind: 'string' }, 'odd key': { kind: 'unknown' } } })).toBe('{ to: string; "odd key": unknown }')
    expect(formatType({ kind: 'struct', fields: {} })).toBe('{}')
    expect(formatSignature({ input: { kind: 'integer' }, output: { kind: 'integer' }, state: { kind: 'integer' } })).toBe(
      '(input: integer, state: integer) => integer',
    )
  })

  it('say so when a description is not one they know', () => {
    expect(formatType(null)).toBe('unknown?')
    expect(formatType({ kind: 'tuple' })).toBe('unknown?')
    expect(formatType({ kind: 'struct', fields: 3 })).toBe('unknown?')
    expect(formatType({ kind: 'union', members: [] })).toBe('never')
  })
})

describe('reconnect delay', () => {
  it('doubles from the first delay up to the ceiling, with jitter below the base', () => {
    expect(reconnectDelay(1, 0.999_999)).toBe(500)
    expect(reconnectDelay(1, 0)).toBe(375)
    expect(reconnectDelay(2, 0.999_999)).toBe(1000)
    expect(reconnectDelay(4, 0.999_999)).toBe(4000)
    expect(reconnectDelay(10, 0.999_999)).toBe(DEFAULT_RECONNECT.maxDelayMs)
    expect(reconnectDelay(1000, 0.5)).toBe(Math.round(DEFAULT_RECONNECT.maxDelayMs * 0.875))
    expect(reconnectDelay(0, 2)).toBe(500)
  })
})
