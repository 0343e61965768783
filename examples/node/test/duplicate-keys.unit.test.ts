/** A key given twice in one object is found wherever it is; the same key in different objects, strings that look like keys, and escapes are not mistaken for one. */
import { describe, expect, it } from 'vitest'
import { firstDuplicateKey } from '../src/api/duplicate-keys.js'

describe('firstDuplicateKey', () => {
  it('finds a key given twice in one object, at any depth, with the path of that object', () => {
    expect(firstDuplicateKey('{"to":"a","amount":1,"amount":1000}')).toEqual({ key: 'amount', path: '' })
    expect(firstDuplicateKey('{"transfers":[{"to":"a"},{"to":"b" , "to" :"c"}]}')).toEqual({ key: 'to', path: 'transfers.1' })
    expect(firstDuplicateKey('{"a":{"b":{"c":1,"c":2}}}')).toEqual({ key: 'c', path: 'a.b' })
    // Keys are compared as JSON reads them: an escape spells the same key.
    expect(firstDuplicateKey('{"amount":1,"\\u0061mount":2}')).toEqual({ key: 'amount', path: '' })
  })

  it('accepts the same key in different objects, and strings that merely look like keys', () => {
    for (const text of [
      '{"to":"a","amount":1}',
      '[{"to":"a"},{"to":"a"}]',
      '{"a":{"x":1},"b":{"x":1}}',
      '{"note":"\\"amount\\":1,\\"amount\\":2","amount":3}',
      '{"list":["amount","amount"],"amount":1}',
      '"a string"',
      '42',
      '{}',
    ]) {
      expect(firstDuplicateKey(text)).toBeUndefined()
    }
  })
})
