import { describe, expect, it } from 'vitest'
import { StallWatch } from '../src/node/stall-watch.js'

describe('StallWatch', () => {
  it('says once when no round has been certified for the threshold, and once when one is again', () => {
    const watch = new StallWatch({ stallAfterMs: 1_000, startedAt: 10_000 })
    expect(watch.check(10_999)).toBeUndefined()
    expect(watch.status(10_999)).toEqual({ stalled: false, lastRound: 0, lastCertificateAt: 10_000, lastCertificateAgeSeconds: 0.999 })
    // No certificate since the start: stalled since the start.
    expect(watch.check(11_000)).toEqual({ kind: 'stalled', since: 10_000 })
    expect(watch.check(15_000)).toBeUndefined()
    expect(watch.status(15_000)).toMatchObject({ stalled: true, stalledSince: 10_000, lastCertificateAgeSeconds: 5 })
    watch.certified(4, 15_500)
    expect(watch.check(15_500)).toEqual({ kind: 'recovered', lastedMs: 5_500 })
    expect(watch.status(15_600)).toEqual({ stalled: false, lastRound: 4, lastCertificateAt: 15_500, lastCertificateAgeSeconds: 0.1 })
    expect(watch.check(16_400)).toBeUndefined()
    expect(watch.check(16_500)).toEqual({ kind: 'stalled', since: 15_500 })
  })

  it('ignores an older round, and refuses a threshold that is not a positive integer', () => {
    const watch = new StallWatch({ stallAfterMs: 1_000, startedAt: 0, round: 7 })
    watch.certified(6, 900)
    expect(watch.status(1_000)).toMatchObject({ stalled: true, lastRound: 7, lastCertificateAt: 0 })
    expect(() => new StallWatch({ stallAfterMs: 0, startedAt: 0 })).toThrow(RangeError)
    expect(() => new StallWatch({ stallAfterMs: 1.5, startedAt: 0 })).toThrow(RangeError)
  })
})
