/**
 * The JavaScript that runs inside every contract sandbox before the contract's own code.
 *
 * It removes the sources of non-determinism (`Date` is never installed; `Math.random` is deleted), hands the
 * contract a global `rpc(endpoint, request)` bound to the host, and returns the few entry points the host calls,
 * closed over copies of `JSON.parse`/`JSON.stringify` taken before the contract could replace them.
 *
 * The contract's code is compiled once as the body of a factory function (`contractFactory`), and every invocation
 * calls the factory afresh: the code's top-level variables are new each time. Together with `seal`, which freezes
 * everything reachable from the global object and the intrinsics only instances reach (iterator, generator and
 * async function prototypes) before any contract code runs, nothing but the state the host hands
 * in can carry information from one invocation to the next, so a warm sandbox behaves exactly as a fresh one.
 */
export function contractFactory(code: string): string {
  // The code was first compiled on its own as a script, so it cannot close this function early.
  return `(function () {\n'use strict';\n${code}\n;return typeof invoke === 'function' ? invoke : undefined;\n})`
}

export const PRELUDE_SOURCE = `(function () {
  'use strict';
  const parse = JSON.parse, stringify = JSON.stringify, freeze = Object.freeze, ownKeys = Reflect.ownKeys;
  const describeAll = Object.getOwnPropertyDescriptors, protoOf = Object.getPrototypeOf;
  const describe = Object.getOwnPropertyDescriptor;
  // The engine reports its own limits (memory, stack) as InternalErrors. Contracts get neither the constructor nor
  // (short of catching a real one) the prototype, so an error with this prototype and an engine message was raised
  // by the engine, not made up by the contract to pass its failure off as machine-dependent.
  const internalErrorProto = typeof InternalError === 'function' ? InternalError.prototype : null;
  delete globalThis.InternalError;
  if (internalErrorProto !== null) delete internalErrorProto.constructor;
  const ENGINE_LIMITS = ['out of memory', 'stack overflow'];
  let limitHit = null;
  function guarded(call) {
    try {
      return call();
    } catch (error) {
      if (internalErrorProto !== null && typeof error === 'object' && error !== null && protoOf(error) === internalErrorProto) {
        const message = describe(error, 'message');
        if (message !== undefined && ENGINE_LIMITS.indexOf(message.value) >= 0) limitHit = message.value;
      }
      throw error;
    }
  }
  const hostRpc = globalThis.__hostRpc;
  delete globalThis.__hostRpc;
  delete Math.random;
  globalThis.rpc = function rpc(endpoint, request) {
    if (typeof endpoint !== 'string') throw new TypeError('rpc: the endpoint must be a string');
    return parse(hostRpc(endpoint, stringify(request === undefined ? null : request)));
  };
  // One walk over all roots with one seen-set: walking each root on its own would walk the shared graph again.
  function deepFreeze(roots) {
    const seen = new Set();
    const stack = roots;
    while (stack.length > 0) {
      const item = stack.pop();
      if ((typeof item !== 'object' && typeof item !== 'function') || item === null || seen.has(item)) continue;
      seen.add(item);
      freeze(item);
      // One descriptor map per object (not one lookup per key): this walk is most of a cold start.
      const properties = describeAll(item);
      const keys = ownKeys(properties);
      for (let i = 0; i < keys.length; i++) {
        const property = properties[keys[i]];
        if ('value' in property) stack.push(property.value);
        else stack.push(property.get, property.set);
      }
      stack.push(protoOf(item));
    }
  }
  // Intrinsics no global property names: reachable only through an instance (an iterator, a generator, an async
  // function). Left unfrozen, a contract could write to them and a warm sandbox would remember what a cold one does
  // not. Each is reached through a value of its kind; one the engine lacks is skipped.
  function hiddenIntrinsics() {
    const found = [];
    const reach = (make) => {
      try {
        const value = make();
        if (value !== undefined && value !== null) found.push(value);
      } catch (error) {
        // The engine lacks this intrinsic: nothing to freeze.
      }
    };
    reach(() => protoOf([][Symbol.iterator]()));
    reach(() => protoOf(new Map()[Symbol.iterator]()));
    reach(() => protoOf(new Set()[Symbol.iterator]()));
    reach(() => protoOf(''[Symbol.iterator]()));
    reach(() => protoOf(/a/g[Symbol.matchAll]('')));
    reach(() => internalErrorProto);
    reach(() => protoOf(function* () {}));
    reach(() => protoOf(function* () {}).prototype);
    reach(() => protoOf(async function () {}));
    reach(() => protoOf(async function* () {}));
    reach(() => protoOf(async function* () {}).prototype);
    reach(() => protoOf(protoOf(protoOf((async function* () {})()))));
    reach(() => protoOf([].values().map((x) => x)));
    reach(() => protoOf(Iterator.from({ next() { return { done: true }; } })));
    return found;
  }
  let state = null;
  let factory = null;
  return {
    seal(contractFactory) {
      const roots = hiddenIntrinsics();
      roots.push(globalThis);
      deepFreeze(roots);
      factory = contractFactory;
      limitHit = null;
      return typeof guarded(() => factory()) === 'function';
    },
    load(json) { state = parse(json); },
    /** The engine limit ('out of memory' or 'stack overflow') that ended the last call, or null. */
    limitHit() { return limitHit; },
    run(inputJson, contextJson) {
      limitHit = null;
      const result = guarded(() => factory()(state, parse(inputJson), parse(contextJson)));
      if (typeof result !== 'object' || result === null || !('state' in result)) return null;
      let text;
      try {
        text = stringify({ state: result.state, output: result.output === undefined ? null : result.output, effects: result.effects === undefined ? [] : result.effects });
      } catch (error) {
        return null;
      }
      return text === undefined ? null : text;
    },
  };
})()`
