/**
 * Waiting for a libp2p stream's write buffer to drain, by its events.
 *
 * Not `stream.onDrain()`: in @libp2p/utils 7.4 it keeps the promise of the first drain and hands the same,
 * already resolved, promise to every later caller, so a loop on `writableNeedsDrain` around it spins.
 */
import type { Stream } from '@libp2p/interface'

/** Resolves once `stream` may be written again; rejects when it closes or `signal` aborts first. */
export function drained(stream: Stream, signal: AbortSignal): Promise<void> {
  if (!stream.writableNeedsDrain) return Promise.resolve()
  return new Promise<void>((resolve, reject) => {
    const cleanup = () => {
      stream.removeEventListener('drain', onDrain)
      stream.removeEventListener('close', onClose)
      signal.removeEventListener('abort', onAbort)
    }
    const onDrain = () => {
      cleanup()
      resolve()
    }
    const onClose = () => {
      cleanup()
      reject(new Error('stream closed while waiting for it to drain'))
    }
    const onAbort = () => {
      cleanup()
      reject(signal.reason)
    }
    if (signal.aborted) return onAbort()
    stream.addEventListener('drain', onDrain)
    stream.addEventListener('close', onClose)
    signal.addEventListener('abort', onAbort)
  })
}
