/**
 * The certificate follower both shells run, on its own: a real chain of certificates of a small group, a network
 * that serves their ranges from a full history, and a clock whose timers the test fires. Gossiped certificates are
 * checked and applied in round order, duplicates and stale copies ignored, forgeries rejected; a certificate past
 * the next one makes the follower fetch the gap range by range from a peer; the watchdog asks for newer ones.
 */
import type { Crypto } from '@constellation/crypto'
import type { Clock, TimerHandle } from '@constellation/gossip'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { CertificateHistory, type CheckpointCertificate, type ConsensusNetwork, encodeCertificate, resultHash, type SolarSystemState } from '../../src/index.js'
import { applyResult, foldAgreement, nextResult } from '../../src/round.js'
import { assembleCertificate, signResult } from '../../src/round/certificate.js'
import { ApplyQueue, CertificateFollower, type CertificateFollowerOptions } from '../../src/shell/certificate-follower.js'
import { serveCertificateRange } from '../../src/shell/certificate-range.js'
import { decodeCertificateRangeRequest, encodeCertificateAnnouncement } from '../../src/shell/wire.js'
import { roundFixture } from '../round/fixtures.js'
import { testCrypto } from '../support/solar-system-sim.js'

let crypto: Crypto
let genesis: SolarSystemState
let rules: ReturnType<typeof roundFixture>['rules']
/** Rounds 1 to 8 of the group, each signed by the committee the round before elected. */
let chain: CheckpointCertificate[]

beforeAll(async () => {
  crypto = await testCrypto()
  const fixture = roundFixture(crypto, 5, 4)
  genesis = fixture.state
  rules = fixture.rules
  const pairs = new Map(fixture.pairs.map((pair, i) => [fixture.ids[i]!, pair]))
  chain = []
  let state = fixture.state
  for (let round = 1; round <= 8; round++) {
    const { body } = foldAgreement({ crypto, rules, state, committee: state.committee, agreed: new Map() })
    const next = nextResult(rules, state, body, resultHash(crypto, body))
    const shares = state.committee.facilitators.map((id) => signResult(crypto, pairs.get(id)!, next.result))
    chain.push(assembleCertificate(next.result, shares, state.committee))
    state = next.state
  }
})

const announce = (certificate: CheckpointCertificate) =>
  encodeCertificateAnnouncement({ round: certificate.result.body.round, certificate: encodeCertificate(certificate) })

/** A clock whose timers the test fires; `live` lists those neither fired nor cancelled. */
function manualClock() {
  const timers: { delay: number; fire: () => void; done: boolean }[] = []
  const clock: Clock = {
    now: () => 0,
    setTimer: (delay: number, callback: () => void): TimerHandle => {
      const timer = {
        delay,
        done: false,
        fire: () => {
          timer.done = true
          callback()
        },
      }
      timers.push(timer)
      return {
        cancel: () => {
          timer.done = true
        },
      }
    },
  }
  return { clock, live: () => timers.filter((timer) => !timer.done) }
}

/** Peers that serve the whole chain's ranges, at most `perAnswer` certificates an answer; every request recorded. */
function servingNetwork(perAnswer: number) {
  const history = new CertificateHistory(crypto, genesis.genesis)
  for (const certificate of chain) history.append(crypto, certificate)
  const requests: { peer: string; from: number; count: number }[] = []
  const network: Pick<ConsensusNetwork, 'request' | 'limits'> = {
    limits: { maxMessageBytes: 1 << 20 } as ConsensusNetwork['limits'],
    request: async (peer, _protocol, data) => {
      const request = decodeCertificateRangeRequest(data)
      requests.push({ peer, from: request.from, count: request.count })
      return serveCertificateRange(history, { ...request, count: Math.min(request.count, perAnswer) }, 1 << 20)
    },
  }
  return { network, requests }
}

/** A follower of the group applying to its state, as a shell does; what it applied and heard is recorded. */
function follower(options: Partial<CertificateFollowerOptions<SolarSystemState>> = {}) {
  let state = genesis
  const applied: number[] = []
  const heard: number[] = []
  const errors: unknown[] = []
  const { clock, live } = manualClock()
  const { network, requests } = servingNetwork(3)
  let reached: (round: number) => void = () => undefined
  const subject = new CertificateFollower<SolarSystemState>({
    crypto,
    network,
    clock,
    group: genesis.genesis,
    protocol: '/test/certificates/1',
    timing: { requestTimeoutMs: 1_000, stallTimeoutMs: 5_000 },
    onError: (error) => errors.push(error),
    running: () => true,
    held: () => state.round,
    committee: () => state.committee,
    advance: (certificate) => applyResult(rules, state, certificate.result, resultHash(crypto, certificate.result.body)),
    applied: (certificate, next) => {
      state = next
      applied.push(certificate.result.body.round)
      reached(next.round)
    },
    heard: (round) => heard.push(round),
    ...options,
  })
  /** Resolves once the follower applied round `round`. */
  const until = (round: number) =>
    new Promise<void>((resolve) => {
      reached = (at) => at >= round && resolve()
      if (state.round >= round) resolve()
    })
  return { subject, applied, heard, errors, requests, live, until, state: () => state }
}

describe('CertificateFollower', () => {
  it('applies gossiped certificates in round order and ignores a duplicate or stale copy', async () => {
    const f = follower()
    // Two facilitators' copies of round 1 arrive together: both check out, the second is dropped when its turn comes.
    const verdicts = await Promise.all([f.subject.onGossip(announce(chain[0]!), 'peer-a'), f.subject.onGossip(announce(chain[0]!), 'peer-b')])
    expect(verdicts).toEqual(['accept', 'accept'])
    await f.subject.settled()
    // A copy of a round held already is not even decoded in full.
    expect(await f.subject.onGossip(announce(chain[0]!), 'peer-c')).toBe('ignore')
    expect(await f.subject.onGossip(announce(chain[1]!), 'peer-a')).toBe('accept')
    await f.subject.settled()
    expect(f.applied).toEqual([1, 2])
    expect(f.heard).toEqual([1, 1, 2])
    expect(f.requests).toEqual([])
    expect(f.subject.stats).toEqual({ certificatesRejected: 0, certificatesFetched: 0 })
  })

  it('applies queued certificates one at a time in round order, dropping those that do not follow', async () => {
    const f = follower()
    await f.subject.enqueue([chain[1]!, chain[0]!, chain[0]!, chain[1]!, chain[3]!, chain[2]!], false)
    expect(f.applied).toEqual([1, 2, 3])
    expect(f.errors).toEqual([])
  })

  it('catches up a gap from the gossiping peer through range requests, range by range', async () => {
    const f = follower()
    const done = f.until(6)
    // Round 6 announced to a node at round 0: not forwarded, and rounds 1 to 6 fetched from the sender.
    expect(await f.subject.onGossip(announce(chain[5]!), 'peer-a')).toBe('ignore')
    await done
    await vi.waitFor(() => expect(f.subject.stats).toEqual({ certificatesRejected: 0, certificatesFetched: 6 }))
    expect(f.applied).toEqual([1, 2, 3, 4, 5, 6])
    // The peer answers three at a time: the rest is asked for once those were applied.
    expect(f.requests).toEqual([
      { peer: 'peer-a', from: 1, count: 6 },
      { peer: 'peer-a', from: 4, count: 3 },
    ])
    // Caught up: the next one gossiped is applied as usual, nothing more fetched.
    expect(await f.subject.onGossip(announce(chain[6]!), 'peer-b')).toBe('accept')
    await f.subject.settled()
    expect(f.applied).toEqual([1, 2, 3, 4, 5, 6, 7])
    expect(f.requests).toHaveLength(2)
  })

  it('asks the peer `peerFor` picks, and nobody when it picks none', async () => {
    const picked: string[] = []
    const f = follower({
      peerFor: (from) => {
        picked.push(from)
        return from === 'outsider' ? undefined : 'validator'
      },
    })
    expect(await f.subject.onGossip(announce(chain[2]!), 'outsider')).toBe('ignore')
    expect(f.requests).toEqual([])
    const done = f.until(3)
    await f.subject.onGossip(announce(chain[2]!), 'neighbour')
    await done
    expect(picked).toEqual(['outsider', 'neighbour'])
    expect(f.requests.map((request) => request.peer)).toEqual(['validator'])
  })

  it('rejects a forged certificate, gossiped or fetched, and a signed one that does not follow', async () => {
    const f = follower()
    const forged: CheckpointCertificate = {
      ...chain[0]!,
      signatures: chain[0]!.signatures.map((sig, i) => (i === 0 ? { ...sig, signature: new Uint8Array(64).fill(7) } : sig)),
    }
    expect(await f.subject.onGossip(announce(forged), 'peer-a')).toBe('reject')
    expect(await f.subject.onGossip(new Uint8Array([1, 2, 3]), 'peer-a')).toBe('reject')
    await f.subject.enqueue([forged], false)
    expect(f.applied).toEqual([])
    expect(f.subject.stats.certificatesRejected).toBe(3)
    // Signed by the right committee, but the shell's `advance` refuses it: rejected and reported.
    const refusing = follower({
      advance: () => {
        throw new Error('does not follow')
      },
    })
    await refusing.subject.enqueue([chain[0]!], true)
    expect(refusing.applied).toEqual([])
    expect(refusing.subject.stats.certificatesRejected).toBe(1)
    expect(refusing.errors).toEqual([new Error('does not follow')])
  })

  it('waits for `ready` before applying, and drops the certificate when it resolves false', async () => {
    const gates: ((go: boolean) => void)[] = []
    const f = follower({ ready: () => new Promise<boolean>((resolve) => gates.push(resolve)) })
    const queued = f.subject.enqueue([chain[0]!], true)
    await vi.waitFor(() => expect(gates).toHaveLength(1))
    expect(f.applied).toEqual([])
    gates[0]!(false)
    await queued
    expect(f.applied).toEqual([])
    const again = f.subject.enqueue([chain[0]!], true)
    await vi.waitFor(() => expect(gates).toHaveLength(2))
    gates[1]!(true)
    await again
    expect(f.applied).toEqual([1])
  })

  it('arms a watchdog that asks for newer certificates after stallTimeoutMs and arms itself again; stop disarms it', () => {
    let stalls = 0
    const f = follower({ onStall: () => stalls++ })
    f.subject.armStallTimer()
    f.subject.armStallTimer()
    expect(f.live().map((timer) => timer.delay)).toEqual([5_000])
    f.live()[0]!.fire()
    expect(stalls).toBe(1)
    expect(f.live().map((timer) => timer.delay)).toEqual([5_000])
    f.subject.stop()
    expect(f.live()).toEqual([])
    // Without `onStall` (a child a validator follows) there is no watchdog.
    const quiet = follower()
    quiet.subject.armStallTimer()
    expect(quiet.live()).toEqual([])
  })

  it('shares one queue between the groups a node follows', async () => {
    const queue = new ApplyQueue()
    const order: string[] = []
    const a = follower({ queue, applied: () => void order.push('a') })
    const b = follower({ queue, applied: () => void order.push('b') })
    void a.subject.enqueue([chain[0]!], false)
    void b.subject.enqueue([chain[0]!], true)
    await b.subject.settled()
    // b's trusted certificate waited for a's, which was still being checked.
    expect(order).toEqual(['a', 'b'])
  })
})
