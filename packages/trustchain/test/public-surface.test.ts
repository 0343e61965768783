import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import * as engine from '../src/engine.js'
import * as root from '../src/index.js'
import * as wire from '../src/wire.js'

// The package's public surface, entry by entry (README, "Interface"): a name added to or dropped from an entry fails
// here until this list — and the README — say so. Runtime names only; the types follow the same entries.
const expected = {
  '.': [
    'CarriedValueCodec',
    'CborValueCodec',
    'CheckpointPayloadCodec',
    'DEFAULT_BLOCK_LIMITS',
    'DEFAULT_MAX_CLOCK_SKEW_MS',
    'DEFAULT_REQUEST_TIMEOUT_MS',
    'DEFAULT_RETRY_POLICY',
    'EMPTY_CHAIN_HEAD',
    'GenesisPayloadCodec',
    'HalfBlockCodec',
    'INFORMATIONAL_REASONS',
    'MAX_REFERENCE_BYTES',
    'NO_LINK',
    'PayloadRegistry',
    'TRANSFER',
    'TransferPayloadCodec',
    'TrustChainError',
    'TrustChainErrorCode',
    'UnsignedHalfBlockCodec',
    'ValidationLevel',
    'ValidationReason',
    'VoidPayloadCodec',
    'ZERO_HASH',
    'advanceHead',
    'blockHash',
    'bytesOfLength',
    'bytesUpTo',
    'carriesValue',
    'checkFragment',
    'checkFraudProof',
    'checkRefusal',
    'checkStretch',
    'closedRecord',
    'containsExactlyOnce',
    'createAgreement',
    'createAnchoredNode',
    'createCheckpoint',
    'createFraudProof',
    'createGenesisBlock',
    'createLedger',
    'createMemoryBlockStore',
    'createNetworkMessenger',
    'createProposal',
    'createTrustChainNode',
    'createVoid',
    'decodeBlock',
    'decodeFraudProof',
    'encodeBlock',
    'encodeFraudProof',
    'encodeUnsigned',
    'extendStretch',
    'extractFragment',
    'fraudProofId',
    'integerIn',
    'isAgreement',
    'isProposal',
    'isTrustChainError',
    'isVoid',
    'openLevelBlockStore',
    'openingAnchor',
    'readChainHead',
    'rebaseStretch',
    'recordWithOptional',
    'refusalDigest',
    'sameContent',
    'signBlock',
    'signFullyValid',
    'signRefusal',
    'statedBalance',
    'stretchFrom',
    'systemClock',
    'transferOf',
    'transferPayload',
    'validateBlock',
    'verifyFraudProof',
    'withValue',
  ],
  './engine': ['initialEngineState', 'step'],
  './wire': [
    'BlocksMessageCodec',
    'ExchangeRequestCodec',
    'ExchangeResponseCodec',
    'MAX_BLOCKS_PER_MESSAGE',
    'MAX_FRAME_BLOCKS',
    'MAX_FRAME_BYTES',
    'RequestCodec',
    'ResponseCodec',
    'TRANSFER_PROTOCOL',
    'TRUSTCHAIN_PROTOCOL',
    'TRUSTCHAIN_TOPIC',
    'decodeExchangeRequest',
    'decodeExchangeResponse',
    'decodeMessage',
    'encodeExchangeRequest',
    'encodeExchangeResponse',
    'encodeMessage',
    'readFrame',
    'resolveRange',
  ],
} as const

const entries: Record<keyof typeof expected, object> = { '.': root, './engine': engine, './wire': wire }

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
