import { describePublicSurface } from '../../../scripts/public-surface.mjs'
import * as root from '../src/index.js'

// The package's public surface (README, "Interface"): a name added to or dropped from the index fails here until
// this list — and the README — say so. Runtime names only; the types follow the same README entries.
const expected = [
  'HASH_LENGTH',
  'MAX_BRACKETS',
  'MAX_MEME_ID_LENGTH',
  'MAX_SEATS',
  'MemeReputationError',
  'MemeReputationErrorCode',
  'MemeStateCodec',
  'consensusFeatureSchema',
  'createMeme',
  'customScorer',
  'decayFactor',
  'decodeMemeState',
  'defineDockingPolicy',
  'defineElectionConfig',
  'defineFeatureSchema',
  'dockMeme',
  'electCommittee',
  'encodeMemeState',
  'explainScore',
  'featureIndex',
  'featuresAt',
  'goodnessOf',
  'isMemeReputationError',
  'logisticScorer',
  'maxWaitRounds',
  'memeAge',
  'mempoolPriority',
  'observeMeme',
  'orderMempool',
  'prepareSortKeys',
  'runElection',
  'scoreMeme',
  'scoreMemes',
  'sortKeyOf',
  'updateMemes',
  'weightedLinearScorer',
] as const

describePublicSurface(new URL('..', import.meta.url), { '.': root }, { '.': expected })
