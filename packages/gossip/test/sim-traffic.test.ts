/**
 * `traffic()` on SimNetwork: each node counts the gossip, requests and responses it puts on its links and those
 * that reach it, by the sizes the simulator charges (payload bytes), relays included; lost transmissions count
 * as sent, not received; anti-entropy digests are not counted.
 */
import { loadCrypto } from '@constellation/crypto'
import { describe, expect, it } from 'vitest'
import { type NetworkTraffic, SimNetwork, trafficBytes } from '../src/index.js'

const crypto = await loadCrypto()
const none = { messages: 0, bytes: 0 }
const tally = (messages: number, bytes: number) => ({ messages, bytes })
const traffic = (sent: Partial<NetworkTraffic['sent']>, received: Partial<NetworkTraffic['received']>): NetworkTraffic => ({
  sent: { request: none, response: none, gossip: none, ...sent },
  received: { request: none, response: none, gossip: none, ...received },
})

/** Three nodes in a line, a - b - c, no anti-entropy. */
async function line(options: { lossRate?: number } = {}) {
  const sim = new SimNetwork({ crypto, seed: 'traffic', degree: 0, antiEntropyIntervalMs: 0, ...options })
  const [a, b, c] = [sim.addNode(), sim.addNode(), sim.addNode()]
  sim.connect(a, b)
  sim.connect(b, c)
  for (const node of [a, b, c]) await node.start()
  return { sim, a, b, c }
}

describe('SimNetwork traffic', () => {
  it('counts publishes, relays, requests and responses exactly', async () => {
    const { sim, a, b, c } = await line()
    for (const node of [b, c]) node.subscribe('/t/x', () => 'accept')
    c.handle('/echo/1', () => new Uint8Array(300))
    await a.publish('/t/x', new Uint8Array(200))
    expect(await sim.runUntil(b.request(c.peerId, '/echo/1', new Uint8Array(100)))).toHaveLength(300)
    await sim.run()
    expect(a.traffic()).toEqual(traffic({ gossip: tally(1, 200) }, {}))
    // b relays to c and not back to a.
    expect(b.traffic()).toEqual(traffic({ gossip: tally(1, 200), request: tally(1, 100) }, { gossip: tally(1, 200), response: tally(1, 300) }))
    expect(c.traffic()).toEqual(traffic({ response: tally(1, 300) }, { gossip: tally(1, 200), request: tally(1, 100) }))
    expect(trafficBytes(b.traffic(), 'sent')).toBe(300)
    expect(trafficBytes(b.traffic(), 'received')).toBe(500)
  })

  it('counts a lost transmission as sent only, and keeps counting across a crash', async () => {
    const { sim, a, b } = await line({ lossRate: 1 })
    await a.publish('/t/x', new Uint8Array(50))
    await sim.run()
    expect(a.traffic().sent.gossip).toEqual(tally(1, 50))
    expect(b.traffic().received.gossip).toEqual(none)
    sim.crash(a.peerId)
    sim.restart(a.peerId)
    expect(a.traffic().sent.gossip).toEqual(tally(1, 50))
  })
})
