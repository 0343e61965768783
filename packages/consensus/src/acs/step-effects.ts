/**
 * What one ACS step produces besides its next state: the outbox, the messages this facilitator sends itself
 * (handled later in the same step, never put on the wire) and the drop counts. Created per step and thrown away,
 * so the state machine stays pure from the outside while its handlers append effects cheaply.
 */
import type { AcsDropReason, AcsOutgoing } from './acs-api.js'
import type { AcsMessage } from './acs-messages.js'

export interface QueuedMessage {
  readonly from: number
  readonly message: AcsMessage
}

export class StepEffects {
  readonly outbox: AcsOutgoing[] = []
  readonly toSelf: QueuedMessage[] = []
  /** Created on the first drop: most steps drop nothing. */
  drops: Map<AcsDropReason, number> | undefined

  constructor(
    private readonly participants: readonly string[],
    private readonly selfIndex: number,
  ) {}

  /** To every other participant, and to this facilitator itself. */
  broadcast(message: AcsMessage): void {
    this.outbox.push({ to: 'all', message })
    this.toSelf.push({ from: this.selfIndex, message })
  }

  send(to: number, message: AcsMessage): void {
    if (to === this.selfIndex) this.toSelf.push({ from: to, message })
    else this.outbox.push({ to: this.participants[to] as string, message })
  }

  drop(reason: AcsDropReason): void {
    this.drops ??= new Map()
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1)
  }
}
