import { afterEach, describe, expect, it, vi } from 'vitest'
import { ExitCode } from '../src/cli/cli-io.js'
import { Shutdown } from '../src/cli/shutdown.js'

function deferred() {
  let resolve!: () => void
  let reject!: (error: Error) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('Shutdown', () => {
  it('closes the node once on the first request and ignores later ones', async () => {
    const shutdown = new Shutdown()
    const close = vi.fn(() => Promise.resolve())
    shutdown.attach(close)
    expect(shutdown.request(ExitCode.OK)).toBe(true)
    expect(shutdown.request(ExitCode.OK)).toBe(false)
    expect(shutdown.request(ExitCode.FAILURE)).toBe(false)
    expect(await shutdown.done).toBe(ExitCode.OK)
    expect(close).toHaveBeenCalledTimes(1)
    expect(shutdown.signal.aborted).toBe(true)
  })

  it('ends with the code of the first request (an uncaught error: 1)', async () => {
    const shutdown = new Shutdown()
    shutdown.attach(() => Promise.resolve())
    shutdown.request(ExitCode.FAILURE)
    shutdown.request(ExitCode.OK)
    expect(await shutdown.done).toBe(ExitCode.FAILURE)
  })

  it('aborts a start in progress and closes the node if it still comes up', async () => {
    const shutdown = new Shutdown()
    shutdown.request(ExitCode.OK)
    expect(shutdown.signal.aborted).toBe(true)
    const close = vi.fn(() => Promise.resolve())
    shutdown.attach(close)
    expect(await shutdown.done).toBe(ExitCode.OK)
    expect(close).toHaveBeenCalledTimes(1)
  })

  it('settles without a node when the aborted start failed', async () => {
    const shutdown = new Shutdown()
    shutdown.request(ExitCode.OK)
    shutdown.settle()
    expect(await shutdown.done).toBe(ExitCode.OK)
  })

  it('exits 1 when the close fails', async () => {
    const shutdown = new Shutdown()
    shutdown.attach(() => Promise.reject(new Error('store would not close')))
    shutdown.request(ExitCode.OK)
    expect(await shutdown.done).toBe(ExitCode.FAILURE)
  })

  it('gives up after the hard timeout with exit code 1', async () => {
    vi.useFakeTimers()
    const onTimeout = vi.fn()
    const shutdown = new Shutdown({ timeoutMs: 10_000, onTimeout })
    const never = deferred()
    shutdown.attach(() => never.promise)
    shutdown.request(ExitCode.OK)
    await vi.advanceTimersByTimeAsync(9_999)
    expect(onTimeout).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    expect(await shutdown.done).toBe(ExitCode.FAILURE)
    expect(onTimeout).toHaveBeenCalledWith(10_000)
    never.resolve()
  })

  it('clears the timer once closed', async () => {
    vi.useFakeTimers()
    const onTimeout = vi.fn()
    const shutdown = new Shutdown({ timeoutMs: 1_000, onTimeout })
    shutdown.attach(() => Promise.resolve())
    shutdown.request(ExitCode.OK)
    expect(await shutdown.done).toBe(ExitCode.OK)
    await vi.advanceTimersByTimeAsync(5_000)
    expect(onTimeout).not.toHaveBeenCalled()
  })
})
