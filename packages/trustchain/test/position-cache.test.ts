import fc from 'fast-check'
import { expect, it } from 'vitest'
import { PositionCache } from '../src/store/position-cache.js'
import { bytesKey, chainKey, PositionMap, positionKey } from '../src/store/position-key.js'
import { propertyOptions } from './helpers.js'

const key = (n: number) => Uint8Array.from({ length: 32 }, (_, i) => (n * 7 + i * 13) & 0xff)

it('chain keys: one per key content, whichever array holds it, spelled one character per byte', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (a, b) => {
      expect(chainKey(a)).toBe(bytesKey(a))
      expect(chainKey(Uint8Array.from(a))).toBe(chainKey(a))
      expect(chainKey(a) === chainKey(b)).toBe(a.every((byte, i) => byte === b[i]))
      expect(chainKey(a)).toHaveLength(32)
      expect(positionKey(a, 17)).toBe(`${chainKey(a)}17`)
    }),
    propertyOptions(500),
  )
  // Two keys sharing their first four bytes keep distinct chain keys.
  const a = key(1)
  const b = Uint8Array.from(a)
  b[31] = (b[31] as number) ^ 1
  expect(chainKey(a)).not.toBe(chainKey(b))
  expect(chainKey(b)).toBe(bytesKey(b))
})

it('a position map counts and forgets positions', () => {
  const map = new PositionMap<string>()
  map.set(key(1), 1, 'a')
  map.set(key(1), 2, 'b')
  map.set(Uint8Array.from(key(1)), 2, 'c')
  map.set(key(2), 1, 'd')
  expect(map.size).toBe(3)
  expect(map.get(key(1), 2)).toBe('c')
  expect([...(map.chain(key(1))?.keys() ?? [])]).toEqual([1, 2])
  expect(map.delete(key(1), 1)).toBe(true)
  expect(map.delete(key(1), 1)).toBe(false)
  expect(map.has(key(1), 1)).toBe(false)
  expect(map.size).toBe(2)
  map.clear()
  expect(map.size).toBe(0)
  expect(map.get(key(2), 1)).toBeUndefined()
})

it('a position cache holds at most its capacity, keeps what is used, and holds nothing at capacity 0', () => {
  const cache = new PositionCache<number>(10)
  for (let n = 0; n < 100; n++) {
    cache.set(key(0), n, n)
    expect(cache.get(key(0), 0)).toBe(0) // used all along: never dropped
  }
  const held = Array.from({ length: 100 }, (_, n) => cache.get(key(0), n)).filter((value) => value !== undefined)
  expect(held.length).toBeLessThanOrEqual(10)
  expect(held).toContain(99)
  const none = new PositionCache<number>(0)
  none.set(key(0), 1, 1)
  expect(none.get(key(0), 1)).toBeUndefined()
})
