/** Membership rules for the shell tests: one solar system holds up to 16, joiners are seated at once, nobody goes silent. */
import type { MembershipRules } from '../../src/index.js'

export const SHELL_MEMBERSHIP: MembershipRules = {
  facilitators: 4,
  membersPerFacilitator: 4,
  maxMembersForThroughput: 64,
  admissionsPerRound: 8,
  maxNewcomerShare: 1,
  newcomerAgeRounds: 1,
  silentRounds: 100,
  maxPending: 64,
}
