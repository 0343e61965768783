import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import * as acs from '../src/acs.js'
import * as hierarchy from '../src/hierarchy.js'
import * as root from '../src/index.js'
import * as round from '../src/round.js'

// The package's public surface, entry by entry (README, "Interface"): a name added to or dropped from an entry fails
// here until this list — and the README — say so. Runtime names only; the types follow the same entries.
const expected = {
  '.': [
    'CERTIFICATES_PROTOCOL',
    'CHECKPOINT_PROTOCOL',
    'CertificateHistory',
    'ConsensusError',
    'ConsensusErrorCode',
    'DEFAULT_LEVEL_TIMING',
    'DEFAULT_TIMING',
    'EpochFollower',
    'EpochSchedule',
    'HierarchyIndex',
    'JOURNAL_ROUNDS_BEHIND',
    'LevelNode',
    'MAX_AGREEMENT_PROOF_BYTES',
    'MAX_CERTIFICATE_BYTES',
    'MAX_FINALITY_PATH_BYTES',
    'MAX_MEMBERSHIP_REQUEST_BYTES',
    'MAX_ROUND_RECORD_BYTES',
    'ROUND_PROTOCOL',
    'SolarSystemNode',
    'anchorOf',
    'buildAgreementProof',
    'certificateDigest',
    'certificateTopic',
    'checkAgreementProof',
    'checkCertificate',
    'checkCertificateNow',
    'checkFinalityPath',
    'checkMembershipRequest',
    'checkRootedAgreementProof',
    'committeesOf',
    'createCommittee',
    'createEpochFollower',
    'createLevelNode',
    'createMemoryRoundJournal',
    'createSolarSystemNode',
    'decodeAgreementProof',
    'decodeCertificate',
    'decodeFinalityPath',
    'decodeMembershipRequest',
    'decodeRoundRecord',
    'defaultSolarSystemRules',
    'encodeAgreementProof',
    'encodeCertificate',
    'encodeFinalityPath',
    'encodeMembershipRequest',
    'encodeRoundRecord',
    'fetchCertifiedHistory',
    'fetchFinalityPath',
    'fetchRootedAgreementProof',
    'finalisedLeaf',
    'isConsensusError',
    'keptRecords',
    'levelProtocols',
    'membershipTopic',
    'resultHash',
    'scoreOf',
    'signMembershipRequest',
    'submitMembershipRequest',
    'transactionLeaf',
    'verifyAgreementProof',
    'verifyCertificate',
    'verifyCertificateChain',
  ],
  './round': [
    'AWAITING_ROUNDS',
    'EMPTY_LEDGER_DELTA',
    'MAX_CHECKPOINTS_PER_RESULT',
    'MAX_FACILITATORS',
    'MAX_FAULTS_PER_RESULT',
    'MAX_LEDGER_ENTRIES_PER_ROUND',
    'addInput',
    'addToPool',
    'applyLedgerDelta',
    'applyResult',
    'checkSubmission',
    'checkpointInputs',
    'collectionTarget',
    'finishSubmission',
    'foldAgreement',
    'genesisHashOf',
    'genesisLedger',
    'genesisState',
    'journalFloor',
    'nextResult',
    'planSubmission',
    'proposeJournalled',
    'prunePool',
    'resumeRound',
    'scheduleMembers',
    'settleLedger',
    'startRound',
    'stepRound',
    'waitedRounds',
  ],
  './hierarchy': [
    'DEFAULT_MAX_CERTIFICATES_PER_INPUT',
    'EMPTY_MERKLE_ROOT',
    'MAX_MERKLE_LEAVES',
    'applyMembershipRound',
    'assignmentDigest',
    'certifiedRequests',
    'childRun',
    'childRunBytes',
    'deriveEpoch',
    'emptyAssignment',
    'indexMembershipRequests',
    'levelInputs',
    'membersOf',
    'membershipRequestDigest',
    'merkleProof',
    'merkleRoot',
    'settledThrough',
    'solarSystemThreshold',
    'startEpochDerivation',
    'verifyMerkleProof',
  ],
  './acs': [
    'AGREEMENT_ROUND_WINDOW',
    'AcsMessageCodec',
    'DEFAULT_MAX_ACS_VALUE_BYTES',
    'MAX_ACS_INSTANCE',
    'MAX_AGREEMENT_ROUND',
    'MAX_DIGEST_BYTES',
    'acsMessageCodec',
    'acsMessageFromCbor',
    'acsMessageToCbor',
    'acsProgress',
    'acsStep',
    'initialAcsState',
    'isAcsMessage',
  ],
} as const

const entries: Record<keyof typeof expected, object> = { '.': root, './round': round, './hierarchy': hierarchy, './acs': acs }

describe('the public surface', () => {
  for (const [entry, names] of Object.entries(expected)) {
    it(`${entry} exports exactly its listed names`, () => {
      expect(Object.keys(entries[entry as keyof typeof expected]).sort()).toEqual([...names].sort())
    })
  }

  it('gives every name one home: no name is exported by two entries', () => {
    const homes = new Map<string, string[]>()
    for (const [entry, module] of Object.entries(entries)) {
      for (const name of Object.keys(module)) homes.set(name, [...(homes.get(name) ?? []), entry])
    }
    expect([...homes].filter(([, at]) => at.length > 1)).toEqual([])
  })

  it('package.json exports exactly these entries, each from the source file tested here', () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { exports: Record<string, unknown> }
    const subpaths = Object.keys(manifest.exports).filter((subpath) => subpath !== './package.json')
    expect(subpaths.sort()).toEqual(Object.keys(expected).sort())
    for (const subpath of subpaths) {
      const name = subpath === '.' ? 'index' : subpath.slice(2)
      expect(manifest.exports[subpath]).toEqual({ types: `./dist/${name}.d.ts`, source: `./src/${name}.ts`, import: `./dist/${name}.js` })
    }
  })
})
