/**
 * No API route can reach the node's private key. A route gets a `RouteContext` (the request and the `FullNode`) and
 * may look up the modules the node runs (the contracts module, the explorer's event hub); this test walks every
 * object reachable from those — own properties of every kind, getters, map and set entries — on a running node with
 * the modules `constellation start` runs, and looks for the key's seed in any byte array. Parts that sign keep the
 * key in ES private fields or closures, which no code outside them can read; the network is shown to modules through
 * a view, so the transport (and its copy of the key) stays out of reach too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nodeContracts } from '../src/contracts/contracts-module.js'
import { nodeExplorer } from '../src/explorer/explorer-module.js'
import type { ExplorerAsset } from '../src/explorer/explorer-assets.js'
import { startNetwork, type TestNetwork } from './explorer-api-harness.js'

/** Most objects the walk visits: far more than a fresh node holds, so reaching it means something runs away. */
const MAX_VISITED = 2_000_000

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer
    return true
  }
  return false
}

/** The paths (for the failure message) at which `needle` is found in a byte array reachable from `root`. */
function reachable(root: object, needle: Uint8Array): { found: string[]; visited: ReadonlySet<unknown> } {
  const seen = new Set<unknown>()
  const found: string[] = []
  const queue: { value: unknown; path: string }[] = [{ value: root, path: 'context' }]
  while (queue.length > 0) {
    const { value, path } = queue.shift() as { value: unknown; path: string }
    if (value === null || (typeof value !== 'object' && typeof value !== 'function') || seen.has(value)) continue
    seen.add(value)
    if (seen.size > MAX_VISITED) throw new Error(`more than ${MAX_VISITED} objects reachable`)
    if (ArrayBuffer.isView(value)) {
      const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
      if (contains(bytes, needle)) found.push(path)
      continue
    }
    if (value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) {
      if (contains(new Uint8Array(value), needle)) found.push(path)
      continue
    }
    if (value instanceof Map) {
      for (const [k, v] of value) queue.push({ value: k, path: `${path}.key` }, { value: v, path: `${path}.get()` })
    } else if (value instanceof Set) {
      for (const v of value) queue.push({ value: v, path: `${path}.entry` })
    }
    for (const key of Reflect.ownKeys(value)) {
      const descriptor = Reflect.getOwnPropertyDescriptor(value, key)
      if (descriptor === undefined) continue
      const name = `${path}.${String(key)}`
      if ('value' in descriptor) queue.push({ value: descriptor.value, path: name })
      else if (descriptor.get !== undefined) {
        try {
          queue.push({ value: descriptor.get.call(value), path: name })
        } catch {
          // A getter that throws on this receiver (a prototype's accessor read off the prototype) shows nothing.
        }
      }
    }
    // Getters a class defines live on its prototype: read them off the instance.
    for (
      let proto = Object.getPrototypeOf(value);
      proto !== null && proto !== Object.prototype && proto !== Function.prototype;
      proto = Object.getPrototypeOf(proto)
    ) {
      queue.push({ value: proto, path: `${path}.__proto__` })
      for (const key of Reflect.ownKeys(proto)) {
        const getter = Reflect.getOwnPropertyDescriptor(proto, key)?.get
        if (getter === undefined) continue
        try {
          queue.push({ value: getter.call(value), path: `${path}.${String(key)}` })
        } catch {
          // Not readable on this instance.
        }
      }
    }
  }
  return { found, visited: seen }
}

const bundler = async (): Promise<readonly ExplorerAsset[]> => [
  { path: 'index.html', contentType: 'text/html; charset=utf-8', body: new TextEncoder().encode('<!doctype html><title>x</title>') },
]

describe('the private key, as the HTTP API sees the node', () => {
  let net: TestNetwork
  beforeAll(async () => {
    // Both nodes also validate a star cluster above their solar system: its shell holds the key too.
    net = await startNetwork({ count: 2, bundler, hierarchy: true })
  }, 60_000)
  afterAll(async () => {
    await net?.close()
  })

  it('the walk finds a key where one is reachable (a control)', () => {
    const keyPair = net.keyPairs[0]!
    const { found } = reachable({ holder: { deep: [new Map([['k', keyPair]])] } }, keyPair.seed)
    expect(found).toEqual(['context.holder.deep.0.get().seed'])
  })

  it('no route can reach it: not through the node, its modules or anything they expose', () => {
    for (const [i, node] of net.nodes.entries()) {
      const keyPair = net.keyPairs[i]!
      // What a route gets, and the modules a route may look up for the node.
      const context = { node, signal: node.signal, contracts: nodeContracts(node), explorer: nodeExplorer(node) }
      const { found, visited } = reachable(context, keyPair.seed)
      expect(found).toEqual([])
      // The walk went through the node's parts and data, its public key among them: it did look.
      for (const part of [node.chain, node.chain.ledger, node.store, node.consensus.history, node.journal, node.metrics]) expect(visited.has(part)).toBe(true)
      expect(node.levels).toHaveLength(1)
      expect(visited.has(node.levels[0]?.history)).toBe(true)
      expect(reachable(context, keyPair.publicKey).found.length).toBeGreaterThan(0)
      expect(context.contracts).toBeDefined()
      expect(context.explorer).toBeDefined()
    }
  })
})
