import { describe, expect, it } from 'vitest'
import { CodedError, isCodedError, sleep, systemClock } from '../src/index.js'

describe('CodedError', () => {
  class DemoError extends CodedError<'DEMO_A' | 'DEMO_B'> {
    override readonly name = 'DemoError'
  }

  it('keeps the code, the detail and the cause', () => {
    const cause = new Error('underneath')
    const error = new DemoError('DEMO_A', 'it failed', { size: 3 }, { cause })
    expect(error).toBeInstanceOf(Error)
    expect([error.name, error.code, error.message, error.detail, error.cause]).toEqual(['DemoError', 'DEMO_A', 'it failed', { size: 3 }, cause])
    expect(new DemoError('DEMO_B', 'no detail').detail).toEqual({})
  })

  it('isCodedError recognises any subclass, and one code when asked', () => {
    const error = new DemoError('DEMO_A', 'x')
    expect(isCodedError(error)).toBe(true)
    expect(isCodedError(error, 'DEMO_A')).toBe(true)
    expect(isCodedError(error, 'DEMO_B')).toBe(false)
    expect(isCodedError(new Error('plain'))).toBe(false)
    expect(isCodedError({ code: 'DEMO_A' })).toBe(false)
  })
})

describe('systemClock and sleep', () => {
  it('a cancelled timer never fires; a kept one does', async () => {
    const fired: string[] = []
    systemClock.setTimer(1, () => fired.push('cancelled')).cancel()
    await new Promise<void>((resolve) => systemClock.setTimer(5, () => resolve()))
    expect(fired).toEqual([])
  })

  it('refuses a NaN delay', () => {
    expect(() => systemClock.setTimer(Number.NaN, () => {})).toThrow(RangeError)
  })

  it('sleep rejects with the abort reason, before or while waiting', async () => {
    const before = new AbortController()
    before.abort(new Error('early'))
    await expect(sleep(systemClock, 10, before.signal)).rejects.toThrow('early')
    const during = new AbortController()
    const waiting = sleep(systemClock, 60_000, during.signal)
    during.abort(new Error('late'))
    await expect(waiting).rejects.toThrow('late')
  })

  it('sleep resolves after the delay on the clock it is given', async () => {
    const timers: (() => void)[] = []
    const manual = {
      now: () => 0,
      setTimer(_delay: number, callback: () => void) {
        timers.push(callback)
        return { cancel: () => {} }
      },
    }
    let done = false
    const waiting = sleep(manual, 1000).then(() => {
      done = true
    })
    await Promise.resolve()
    expect(done).toBe(false)
    for (const fire of timers) fire()
    await waiting
    expect(done).toBe(true)
  })
})
