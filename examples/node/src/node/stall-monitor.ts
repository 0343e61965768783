/**
 * The node's watch over its consensus: a stall — no certified round for `stallAfterMs` — is said once when it
 * begins, with what this node knows (stall-report.ts), and once when it ends; `/v1/status`, the metrics and the
 * explorer read `status()` meanwhile. The rules are stall-watch.ts's (pure); this part adds the clock, the timer and
 * the listeners.
 */
import type { SolarSystemNode } from '@constellation/consensus'
import type { Clock, TimerHandle } from '@constellation/interface'
import type { Logger } from '../log/logger.js'
import { ListenerSet } from './listener-set.js'
import type { NetworkView } from './full-node.js'
import { stallReport } from './stall-report.js'
import { type StallStatus, StallWatch } from './stall-watch.js'

export interface StallMonitorOptions {
  readonly clock: Clock
  readonly stallAfterMs: number
  readonly consensus: Pick<SolarSystemNode, 'state' | 'facilitatorRound'>
  readonly network: Pick<NetworkView, 'peerId' | 'peers'>
  readonly log: Logger
}

export class StallMonitor {
  readonly #clock: Clock
  readonly #watch: StallWatch
  readonly #consensus: StallMonitorOptions['consensus']
  readonly #network: StallMonitorOptions['network']
  readonly #log: Logger
  readonly #listeners: ListenerSet<StallStatus>
  readonly #intervalMs: number
  #timer: TimerHandle | undefined

  constructor(options: StallMonitorOptions) {
    this.#clock = options.clock
    this.#consensus = options.consensus
    this.#network = options.network
    this.#log = options.log
    this.#listeners = new ListenerSet(options.log, 'stall')
    this.#watch = new StallWatch({ stallAfterMs: options.stallAfterMs, startedAt: options.clock.now(), round: options.consensus.state.round })
    this.#intervalMs = Math.min(1_000, Math.ceil(options.stallAfterMs / 4))
  }

  /** Checks on a timer from now on, until `stop`. */
  start(): void {
    const tick = () => {
      this.check()
      this.#timer = this.#clock.setTimer(this.#intervalMs, tick)
    }
    this.#timer = this.#clock.setTimer(this.#intervalMs, tick)
  }

  stop(): void {
    this.#timer?.cancel()
    this.#timer = undefined
  }

  status(): StallStatus {
    return this.#watch.status(this.#clock.now())
  }

  onStall(listener: (status: StallStatus) => void): () => void {
    return this.#listeners.add(listener)
  }

  /** A round was certified: a stall, if there was one, ends. */
  certified(round: number): void {
    this.#watch.certified(round, this.#clock.now())
    this.check()
  }

  check(): void {
    const now = this.#clock.now()
    const change = this.#watch.check(now)
    if (change === undefined) return
    this.#listeners.emit(this.#watch.status(now))
    const consensus = this.#consensus
    if (change.kind === 'stalled') {
      const report = stallReport(consensus, this.#network.peerId, this.#network.peers())
      this.#log.warn(
        { since: new Date(change.since).toISOString(), lastRound: consensus.state.round, ...report },
        `consensus stalled: no certified round for ${Math.round((now - change.since) / 1000)} s`,
      )
    } else {
      this.#log.info({ round: consensus.state.round, stalledForMs: change.lastedMs }, 'consensus certifying again')
    }
  }
}
