/**
 * A facilitator's round machine (any level: anchored checkpoints or child certificates as inputs) behind the
 * adversarial scheduler's `Machine` interface: started with its inputs and its proposal timer, then handed messages;
 * its output is the certificate it assembles.
 */
import type { CheckpointCertificate } from '../../src/index.js'
import type { FacilitatorRoundState, RoundEvent, RoundMessage } from '../../src/round.js'
import { stepRound } from '../../src/round.js'
import type { Machine, StepOutcome } from './adversarial-scheduler.js'

export function roundMachine<I>(initial: FacilitatorRoundState<I>, inputs: readonly I[]): Machine<RoundMessage, CheckpointCertificate> {
  let state = initial
  const drive = (event: RoundEvent<I>): StepOutcome<RoundMessage, CheckpointCertificate> => {
    const stepped = stepRound(state, event)
    state = stepped.state
    const outbox = []
    let output: CheckpointCertificate | undefined
    for (const effect of stepped.effects) {
      if (effect.type === 'send') outbox.push({ to: effect.to, message: effect.message })
      else output = effect.certificate
    }
    return output === undefined ? { outbox } : { outbox, output }
  }
  return {
    start() {
      const outbox = []
      let output: CheckpointCertificate | undefined
      for (const event of [...inputs.map((block) => ({ type: 'checkpoint' as const, block })), { type: 'proposal-timeout' as const }]) {
        const outcome = drive(event)
        outbox.push(...outcome.outbox)
        output ??= outcome.output
      }
      return output === undefined ? { outbox } : { outbox, output }
    },
    receive: (from, message) => drive({ type: 'message', from, message }),
  }
}
