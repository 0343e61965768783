/** The explorer's hash routes: every view round-trips through its href, anything else is `not-found`. */
import { describe, expect, it } from 'vitest'
import { type ExplorerRoute, hrefOf, parseRoute, sectionOf } from '../explorer/src/model/route.js'

const ID = 'ab'.repeat(32)

describe('explorer routes', () => {
  const routes: Exclude<ExplorerRoute, { view: 'not-found' }>[] = [
    { view: 'overview' },
    { view: 'rounds' },
    { view: 'hierarchy' },
    { view: 'memes' },
    { view: 'contracts' },
    { view: 'transaction', id: ID },
    { view: 'block', hash: ID },
    { view: 'chain', publicKey: ID },
    { view: 'contract', id: ID },
  ]

  it('parse back from their href', () => {
    for (const route of routes) expect(parseRoute(hrefOf(route))).toEqual(route)
  })

  it('read the plan hashes', () => {
    expect(parseRoute('')).toEqual({ view: 'overview' })
    expect(parseRoute('#')).toEqual({ view: 'overview' })
    expect(parseRoute('#/')).toEqual({ view: 'overview' })
    expect(parseRoute('#/rounds/')).toEqual({ view: 'rounds' })
    expect(parseRoute(`#/tx/${ID.toUpperCase()}`)).toEqual({ view: 'transaction', id: ID })
    expect(hrefOf({ view: 'transaction', id: ID })).toBe(`#/tx/${ID}`)
    expect(hrefOf({ view: 'chain', publicKey: ID })).toBe(`#/chains/${ID}`)
  })

  it('refuse malformed ids and unknown sections', () => {
    for (const hash of ['#/tx/abc', `#/tx/${ID}/extra`, `#/wallets/${ID}`, '#/tx', `#/tx/${'g'.repeat(64)}`, '#/nowhere']) {
      expect(parseRoute(hash)).toEqual({ view: 'not-found', hash })
    }
  })

  it('place detail pages under their section of the navigation', () => {
    expect(sectionOf({ view: 'transaction', id: ID })).toBe('overview')
    expect(sectionOf({ view: 'contract', id: ID })).toBe('contracts')
    expect(sectionOf({ view: 'memes' })).toBe('memes')
    expect(sectionOf({ view: 'not-found', hash: '#/x' })).toBeUndefined()
  })
})
