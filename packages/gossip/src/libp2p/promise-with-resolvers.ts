/**
 * `Promise.withResolvers` for Node 20: js-libp2p 3 calls it, and Node only ships it from 22. Installing is
 * idempotent and leaves a native implementation alone. Called by `createLibp2pNetwork` before libp2p runs,
 * rather than as an import side effect, so that bundlers honouring `sideEffects: false` cannot drop it.
 */

interface Resolvers<T> {
  promise: Promise<T>
  resolve: (value: T | PromiseLike<T>) => void
  reject: (reason?: unknown) => void
}

type PromiseConstructorWithResolvers = PromiseConstructor & { withResolvers?: <T>() => Resolvers<T> }

export function installPromiseWithResolvers(): void {
  const promise = Promise as PromiseConstructorWithResolvers
  if (typeof promise.withResolvers === 'function') return
  Object.defineProperty(promise, 'withResolvers', {
    configurable: true,
    writable: true,
    enumerable: false,
    value: function withResolvers<T>(this: PromiseConstructor): Resolvers<T> {
      let resolve!: Resolvers<T>['resolve']
      let reject!: Resolvers<T>['reject']
      const promise = new this<T>((res, rej) => {
        resolve = res
        reject = rej
      })
      return { promise, resolve, reject }
    },
  })
}
