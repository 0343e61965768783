import type { Crypto } from '@constellation/crypto'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { checkCertificate, ConsensusErrorCode, decodeCertificate, encodeCertificate, isConsensusError, resultHash, verifyCertificate } from '../../src/index.js'
import { foldAgreement, nextResult } from '../../src/round.js'
import { assembleCertificate, signResult } from '../../src/round/certificate.js'
import { testCrypto } from '../support/solar-system-sim.js'
import { roundFixture } from './fixtures.js'

let crypto: Crypto
beforeAll(async () => {
  crypto = await testCrypto()
})

function certified(f: ReturnType<typeof roundFixture>) {
  const { body } = foldAgreement({ crypto, rules: f.rules, state: f.state, committee: f.state.committee, agreed: new Map() })
  const { result } = nextResult(f.rules, f.state, body, resultHash(crypto, body))
  const byId = new Map(f.pairs.map((pair, i) => [f.ids[i]!, pair]))
  const shares = f.state.committee.facilitators.map((id) => signResult(crypto, byId.get(id)!, result))
  return { result, shares, byId }
}

describe('checkpoint certificates', () => {
  it('2t + 1 valid signatures of the committee certify; anything less or else does not', async () => {
    const f = roundFixture(crypto, 8, 7)
    const { result, shares, byId } = certified(f)
    const committee = f.state.committee
    const certificate = assembleCertificate(result, shares, committee)
    expect(certificate.signatures).toHaveLength(5)
    expect(await checkCertificate(crypto, certificate, committee)).toBeUndefined()
    const decoded = decodeCertificate(encodeCertificate(certificate))
    await verifyCertificate(crypto, decoded, committee)

    const cases = {
      'too few': { ...certificate, signatures: certificate.signatures.slice(1) },
      'duplicate signer': { ...certificate, signatures: [certificate.signatures[0]!, ...certificate.signatures.slice(0, 4)] },
      unordered: { ...certificate, signatures: [...certificate.signatures].reverse() },
      'outsider signer': {
        ...certificate,
        signatures: [
          ...certificate.signatures.slice(0, 4),
          signResult(crypto, byId.get(f.ids.find((id) => !committee.facilitators.includes(id))!)!, result),
        ].sort((a, b) => (a.signer < b.signer ? -1 : 1)),
      },
      'bad signature': { ...certificate, signatures: certificate.signatures.map((s, i) => (i === 2 ? { ...s, signature: new Uint8Array(64).fill(1) } : s)) },
      'other result': { ...certificate, result: { ...result, nextFacilitators: [...result.nextFacilitators].slice(1) } },
    }
    for (const [name, bad] of Object.entries(cases)) {
      expect(await checkCertificate(crypto, bad, committee), name).toBeDefined()
      await expect(verifyCertificate(crypto, bad, committee), name).rejects.toSatisfy((e) => isConsensusError(e, ConsensusErrorCode.INVALID_CERTIFICATE))
    }
    expect(() => assembleCertificate(result, shares.slice(0, 4), committee)).toThrow(/needs 5 signatures/)
  })

  it('decoding refuses anything but a canonical, well-shaped, bounded certificate with a typed error', () => {
    const f = roundFixture(crypto, 5, 4)
    const good = encodeCertificate(assembleCertificate(certified(f).result, certified(f).shares, f.state.committee))
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(good.length - 1), (noise, at) => {
        for (const bytes of [noise, Uint8Array.from(good, (b, i) => (i === at ? b ^ 0x41 : b))]) {
          try {
            decodeCertificate(bytes)
          } catch (error) {
            expect(isConsensusError(error, ConsensusErrorCode.MALFORMED_MESSAGE)).toBe(true)
          }
        }
      }),
      { seed: 20261124, numRuns: 300 },
    )
    expect(() => decodeCertificate(new Uint8Array((1 << 20) + 1))).toThrow(/over the limit/)
  })
})
