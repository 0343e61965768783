/**
 * The round driver after `stop`: a shell's apply that was awaiting a signature check when the node stopped still
 * finishes and moves the driver on (`enter`); the stopped driver must then start no round — no proposal timer, no
 * machine fed — or a stopped node would keep a timer and send frames nobody stops.
 */
import type { Clock, TimerHandle } from '@constellation/gossip'
import { describe, expect, it } from 'vitest'
import type { ConsensusNetwork } from '../../src/index.js'
import type { FacilitatorRoundState } from '../../src/round.js'
import { DEFAULT_TIMING } from '../../src/shell/shell-timing.js'
import { RoundDriver } from '../../src/shell/round-driver.js'

function recordingClock(): { clock: Clock; live: () => number } {
  let live = 0
  const clock = {
    now: () => 0,
    setTimer: (_ms: number, _fn: () => void): TimerHandle => {
      live++
      let cancelled = false
      return {
        cancel: () => {
          if (!cancelled) live--
          cancelled = true
        },
      } as TimerHandle
    },
  } as unknown as Clock
  return { clock, live: () => live }
}

describe('RoundDriver', () => {
  it('starts no round after stop, and starts rounds again once started', () => {
    const { clock, live } = recordingClock()
    const network = {
      limits: { maxMessageBytes: 1 << 20 },
      request: async () => new Uint8Array(0),
      publish: async () => undefined,
    } as unknown as ConsensusNetwork
    const driver = new RoundDriver<never>({
      network,
      clock,
      protocol: '/test/round/1',
      level: 1,
      group: 'g',
      timing: DEFAULT_TIMING,
      maxProposalBytes: 1024,
      isMember: () => true,
      certifiedRound: () => 1,
      onCertified: () => undefined,
      onAhead: () => undefined,
    })
    // The machine is only held and fed by `enter`; no step of it runs here.
    const machine = { round: 2 } as unknown as FacilitatorRoundState<never>
    let fed = 0
    driver.enter(2, machine, () => fed++)
    expect(driver.round).toBe(machine)
    expect([fed, live()]).toEqual([1, 1])

    driver.stop()
    expect(live()).toBe(0)
    driver.enter(3, { round: 3 } as unknown as FacilitatorRoundState<never>, () => fed++)
    // Nothing started: the stopped round's machine is still the one held (a restart carries its pool over).
    expect(driver.round).toBe(machine)
    expect([fed, live()]).toEqual([1, 0])

    driver.start()
    driver.enter(3, { round: 3 } as unknown as FacilitatorRoundState<never>, () => fed++)
    expect(driver.round?.round).toBe(3)
    expect([fed, live()]).toEqual([2, 1])
  })
})
