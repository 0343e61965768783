import { describePublicSurface } from '../../../scripts/public-surface.mjs'
import * as root from '../src/index.js'

// The package's public surface (README, "Interface"): a name added to or dropped from the index fails here until
// this list — and the README — say so. Runtime names only; the types follow the same README entries.
const expected = [
  'DEFAULT_LIMITS',
  'GossipError',
  'GossipErrorCode',
  'Libp2pNetwork',
  'MAX_ANNOUNCED_ADDRESSES',
  'NETWORK_TRAFFIC_KINDS',
  'SimNetwork',
  'VirtualClock',
  'constantLatency',
  'createLibp2pNetwork',
  'createRandom',
  'isGossipError',
  'libp2pPeerIdOf',
  'logNormalLatency',
  'messageId',
  'sleep',
  'systemClock',
  'trafficBytes',
  'uniformLatency',
] as const

describePublicSurface(new URL('..', import.meta.url), { '.': root }, { '.': expected })
