/**
 * Libp2pNetwork's start with a peer that connects while it is starting. libp2p is wrapped so that the test can
 * hold a node after its libp2p has started (listening, taking connections) and before the network is running:
 * a real network makes that window too short to hit on purpose.
 */
import { loadCrypto } from '@constellation/crypto'
import type { Libp2p } from '@libp2p/interface'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createLibp2pNetwork, type Libp2pNetwork, type NetworkEvent } from '../src/index.js'

/** Runs after a wrapped libp2p node has started, inside `Libp2pNetwork.start()`. */
const hooks = vi.hoisted(() => ({ afterLibp2pStart: undefined as ((node: Libp2p) => Promise<void>) | undefined }))

vi.mock('libp2p', async (importOriginal) => {
  const actual = await importOriginal<typeof import('libp2p')>()
  const createLibp2p: typeof actual.createLibp2p = async (options) => {
    const node = await actual.createLibp2p(options)
    const start = node.start.bind(node)
    node.start = async () => {
      await start()
      const hook = hooks.afterLibp2pStart
      hooks.afterLibp2pStart = undefined
      await hook?.(node as unknown as Libp2p)
    }
    return node
  }
  return { ...actual, createLibp2p }
})

const crypto = await loadCrypto()
let running: Libp2pNetwork[] = []
afterEach(async () => {
  hooks.afterLibp2pStart = undefined
  await Promise.allSettled(running.map((node) => node.stop()))
  running = []
})

function start(): Libp2pNetwork {
  const node = createLibp2pNetwork({ crypto, keyPair: crypto.generateKeyPair(), gossip: { heartbeatIntervalMs: 100 } })
  running.push(node)
  return node
}

describe('Libp2pNetwork start', () => {
  it('announces, and exchanges adverts with, a peer that connected while it was starting', async () => {
    const early = start()
    await early.start()
    const advert = { roles: ['basic'], capacity: { cpuCores: 1 }, uptimeSeconds: 1, version: '0.1.0' }
    await early.advertise(advert)
    const late = start()
    hooks.afterLibp2pStart = async (node) => {
      const connected = new Promise((resolve) => node.addEventListener('peer:connect', resolve, { once: true }))
      await early.dial(String(node.getMultiaddrs()[0]))
      await connected
    }
    const events: NetworkEvent[] = []
    const advertised = new Promise<void>((resolve) =>
      late.addListener((event) => {
        events.push(event)
        if (event.type === 'peer:advert' && event.peer === early.peerId) resolve()
      }),
    )
    await late.start()
    expect(late.peers()).toEqual([early.peerId])
    expect(events).toContainEqual({ type: 'peer:join', peer: early.peerId })
    await advertised
    expect(late.advertOf(early.peerId)).toMatchObject({ peer: early.peerId, advert })
  })
})
