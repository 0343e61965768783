/**
 * The JavaScript that runs inside every contract sandbox before the contract's own code.
 *
 * It removes the sources of non-determinism (`Date` is never installed; `Math.random` is deleted), hands the
 * contract a global `rpc(endpoint, request)` bound to the host, and returns the few entry points the host calls,
 * closed over copies of `JSON.parse`/`JSON.stringify` taken before the contract could replace them. After the
 * contract's code has run, `seal` freezes everything reachable from the global object, so nothing but the state the
 * host hands in can carry information from one invocation to the next.
 */
export const PRELUDE_SOURCE = String.raw`(function () {
  'use strict';
  const parse = JSON.parse, stringify = JSON.stringify, freeze = Object.freeze, ownKeys = Reflect.ownKeys;
  const describe = Object.getOwnPropertyDescriptor, protoOf = Object.getPrototypeOf;
  const hostRpc = globalThis.__hostRpc;
  delete globalThis.__hostRpc;
  delete Math.random;
  globalThis.rpc = function rpc(endpoint, request) {
    if (typeof endpoint !== 'string') throw new TypeError('rpc: the endpoint must be a string');
    return parse(hostRpc(endpoint, stringify(request === undefined ? null : request)));
  };
  function deepFreeze(root) {
    const seen = new Set();
    const stack = [root];
    while (stack.length > 0) {
      const item = stack.pop();
      if ((typeof item !== 'object' && typeof item !== 'function') || item === null || seen.has(item)) continue;
      seen.add(item);
      freeze(item);
      for (const key of ownKeys(item)) {
        const property = describe(item, key);
        if (property === undefined) continue;
        if ('value' in property) stack.push(property.value);
        else stack.push(property.get, property.set);
      }
      stack.push(protoOf(item));
    }
  }
  let state = null;
  return {
    seal() {
      if (typeof globalThis.invoke !== 'function') return false;
      deepFreeze(globalThis);
      return true;
    },
    load(json) { state = parse(json); },
    run(inputJson, contextJson) {
      const result = globalThis.invoke(state, parse(inputJson), parse(contextJson));
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
