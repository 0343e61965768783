/**
 * One node of the libp2p benchmark, run as a child process of bench/libp2p.bench.ts and driven over the IPC
 * channel. It answers commands: start, connect to the lower-numbered nodes, publish a run of messages by
 * Gossipsub or by an epidemic flood over request/response, receive such a run (recording each message's
 * one-way latency), make request round trips, and stop.
 *
 * Bench message layout (256 bytes): run u32 | sequence u32 | sent-at float64 (ms, performance.timeOrigin +
 * performance.now(), comparable across processes on one machine) | padding.
 */
import { loadCrypto } from '@constellation/crypto'
import { createLibp2pNetwork, type PeerId } from '../src/index.js'

export type BenchCommand =
  | { readonly cmd: 'start' }
  | { readonly cmd: 'connect'; readonly addresses: readonly string[]; readonly peers: readonly PeerId[] }
  | { readonly cmd: 'receive'; readonly run: number; readonly count: number; readonly timeoutMs: number }
  | { readonly cmd: 'publish'; readonly run: number; readonly mode: Mode; readonly count: number; readonly ratePerSecond?: number }
  | { readonly cmd: 'requests'; readonly peer: PeerId; readonly count: number; readonly inFlight: number }
  | { readonly cmd: 'stop' }

export type Mode = 'gossipsub' | 'flood'

export type BenchReply =
  | { readonly reply: 'started'; readonly peerId: PeerId; readonly address: string }
  | { readonly reply: 'connected' }
  | { readonly reply: 'armed'; readonly run: number }
  | { readonly reply: 'received'; readonly run: number; readonly latenciesMs: number[]; readonly lastAt: number }
  | { readonly reply: 'published'; readonly run: number; readonly startedAt: number; readonly endedAt: number }
  | { readonly reply: 'requested'; readonly elapsedMs: number }
  | { readonly reply: 'stopped' }

export const MESSAGE_BYTES = 256
const TOPIC = '/bench/gossip'
const FLOOD_PROTOCOL = '/bench/flood/1'
const ECHO_PROTOCOL = '/bench/echo/1'
const now = () => performance.timeOrigin + performance.now()

const crypto = await loadCrypto()
// The benchmark measures the transport, not the rate limits: lift them out of the way.
const network = createLibp2pNetwork({
  crypto,
  keyPair: crypto.generateKeyPair(),
  limits: { maxMessagesPerPeerPerSecond: 1e7, maxRequestsPerPeerPerSecond: 1e7 },
})
const send = (reply: BenchReply) => process.send?.(reply)

interface Receiving {
  readonly run: number
  readonly count: number
  readonly latenciesMs: number[]
  lastAt: number
  readonly done: () => void
}
let receiving: Receiving | undefined
const floodSeen = new Set<string>()
let neighbours: PeerId[] = []

function record(data: Uint8Array): void {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  const run = view.getUint32(0)
  if (receiving === undefined || receiving.run !== run) return
  const at = now()
  receiving.latenciesMs.push(at - view.getFloat64(8))
  receiving.lastAt = at
  if (receiving.latenciesMs.length === receiving.count) receiving.done()
}

function benchMessage(run: number, sequence: number): Uint8Array {
  const data = new Uint8Array(MESSAGE_BYTES)
  const view = new DataView(data.buffer)
  view.setUint32(0, run)
  view.setUint32(4, sequence)
  view.setFloat64(8, now())
  return data
}

/** Forwards still awaiting their (empty) response, and publishers waiting for that number to fall. */
let outstanding = 0
const roomWaiters: (() => void)[] = []
const MAX_OUTSTANDING_FORWARDS = 1024

/** The seed's epidemic broadcast on request/response: forward each new message to every other neighbour. */
function flood(data: Uint8Array, except: PeerId | undefined): void {
  for (const peer of neighbours) {
    if (peer === except) continue
    outstanding++
    network
      .request(peer, FLOOD_PROTOCOL, data)
      .catch(() => {})
      .finally(() => {
        outstanding--
        if (outstanding < MAX_OUTSTANDING_FORWARDS) for (const wake of roomWaiters.splice(0)) wake()
      })
  }
}

network.subscribe(TOPIC, ({ data }) => {
  record(data)
  return 'accept'
})
network.handle(FLOOD_PROTOCOL, ({ data, from }) => {
  const key = new DataView(data.buffer, data.byteOffset, 8).getBigUint64(0).toString()
  if (!floodSeen.has(key)) {
    floodSeen.add(key)
    record(data)
    flood(data, from)
  }
  return new Uint8Array(0)
})
network.handle(ECHO_PROTOCOL, ({ data }) => data)

async function handle(command: BenchCommand): Promise<void> {
  switch (command.cmd) {
    case 'start': {
      await network.start()
      send({ reply: 'started', peerId: network.peerId, address: network.listenAddresses()[0] as string })
      return
    }
    case 'connect': {
      await Promise.all(command.addresses.map((address) => network.dial(address)))
      neighbours = [...command.peers]
      await network.gossipReady(neighbours)
      send({ reply: 'connected' })
      return
    }
    case 'receive': {
      const { run, count, timeoutMs } = command
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs)
        receiving = {
          run,
          count,
          latenciesMs: [],
          lastAt: 0,
          done: () => {
            clearTimeout(timer)
            resolve()
          },
        }
        send({ reply: 'armed', run })
      })
      const { latenciesMs, lastAt } = receiving as Receiving
      receiving = undefined
      send({ reply: 'received', run, latenciesMs, lastAt })
      return
    }
    case 'publish': {
      const { run, mode, count, ratePerSecond } = command
      const startedAt = now()
      for (let sequence = 0; sequence < count; sequence++) {
        if (ratePerSecond !== undefined) {
          const due = startedAt + (sequence * 1000) / ratePerSecond
          if (due > now()) await new Promise((resolve) => setTimeout(resolve, due - now()))
        }
        const data = benchMessage(run, sequence)
        if (mode === 'gossipsub') await network.publish(TOPIC, data)
        else {
          floodSeen.add(new DataView(data.buffer).getBigUint64(0).toString())
          flood(data, undefined)
          // Backpressure, as publish() has through the gossip stream: wait while many forwards are unanswered.
          while (outstanding >= MAX_OUTSTANDING_FORWARDS) await new Promise<void>((resolve) => roomWaiters.push(resolve))
        }
      }
      send({ reply: 'published', run, startedAt, endedAt: now() })
      return
    }
    case 'requests': {
      const { peer, count, inFlight } = command
      const payload = new Uint8Array(MESSAGE_BYTES)
      const startedAt = performance.now()
      let next = 0
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (next < count) {
            next++
            await network.request(peer, ECHO_PROTOCOL, payload)
          }
        }),
      )
      send({ reply: 'requested', elapsedMs: performance.now() - startedAt })
      return
    }
    case 'stop': {
      await network.stop()
      send({ reply: 'stopped' })
      process.disconnect?.()
      return
    }
  }
}

process.on('message', (command: BenchCommand) => {
  handle(command).catch((error: unknown) => {
    console.error(`bench node ${network.peerId.slice(0, 8)}:`, error)
    process.exit(1)
  })
})
