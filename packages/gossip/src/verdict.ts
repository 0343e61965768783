/** How several handlers of one topic judge a message together: any reject wins, then any ignore. */
import type { Verdict } from './network.js'

export function combineVerdicts(verdicts: readonly Verdict[]): Verdict {
  if (verdicts.includes('reject')) return 'reject'
  if (verdicts.includes('ignore')) return 'ignore'
  return 'accept'
}
