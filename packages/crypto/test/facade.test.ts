import { describe, expect, it } from 'vitest'
import { availableBackends, createCrypto, CryptoError, CryptoErrorCode, isCryptoError, loadBackend, loadCrypto, nobleBackend } from '../src/index.js'
import { BACKENDS, loadAllBackends } from './helpers.js'

const cryptos = await loadAllBackends()

function codeOf(run: () => unknown): string | undefined {
  try {
    run()
  } catch (error) {
    return error instanceof CryptoError ? error.code : `not a CryptoError: ${String(error)}`
  }
  return undefined
}

describe('backend selection', () => {
  it('auto picks libsodium when it is installed', async () => {
    expect((await loadCrypto()).backend).toBe('sodium')
    expect(await availableBackends()).toEqual(['sodium', 'node', 'noble'])
  })

  it('rejects unknown backend names with a typed error', async () => {
    await expect(loadBackend('openssl' as never)).rejects.toMatchObject({ code: CryptoErrorCode.INVALID_INPUT })
  })

  it('wraps a custom backend in the same checks', () => {
    const crypto = createCrypto(nobleBackend)
    expect(crypto.backend).toBe('noble')
    expect(codeOf(() => crypto.sha256('text' as never))).toBe(CryptoErrorCode.INVALID_INPUT)
  })
})

describe.each(BACKENDS)('input checks on %s', (name) => {
  const crypto = cryptos[name]
  const keyPair = crypto.keyPairFromSeed(new Uint8Array(32).fill(1))
  const message = new Uint8Array([1, 2, 3])
  const signature = crypto.sign(message, keyPair)

  it('rejects wrong lengths and types with INVALID_INPUT', () => {
    expect(codeOf(() => crypto.keyPairFromSeed(new Uint8Array(31)))).toBe(CryptoErrorCode.INVALID_INPUT)
    expect(codeOf(() => crypto.verify(signature.subarray(0, 63), message, keyPair.publicKey))).toBe(CryptoErrorCode.INVALID_INPUT)
    expect(codeOf(() => crypto.verify(signature, message, new Uint8Array(33)))).toBe(CryptoErrorCode.INVALID_INPUT)
    expect(codeOf(() => crypto.verify(signature, 'abc' as never, keyPair.publicKey))).toBe(CryptoErrorCode.INVALID_INPUT)
    expect(codeOf(() => crypto.sign([1, 2] as never, keyPair))).toBe(CryptoErrorCode.INVALID_INPUT)
    expect(codeOf(() => crypto.sign(message, null as never))).toBe(CryptoErrorCode.INVALID_INPUT)
  })

  it('refuses to sign with a key pair whose public key is not its own', () => {
    const other = crypto.keyPairFromSeed(new Uint8Array(32).fill(2))
    const forged = { seed: keyPair.seed, publicKey: other.publicKey }
    expect(codeOf(() => crypto.sign(message, forged))).toBe(CryptoErrorCode.INVALID_INPUT)
  })

  it('signs with a plain key pair object as well as one it made', () => {
    const plain = { seed: Uint8Array.from(keyPair.seed), publicKey: Uint8Array.from(keyPair.publicKey) }
    expect(crypto.sign(message, plain)).toEqual(signature)
  })

  it('copies the seed so later changes to the caller’s buffer do not change the key', () => {
    const seed = new Uint8Array(32).fill(9)
    const pair = crypto.keyPairFromSeed(seed)
    seed.fill(0)
    expect(pair.seed).toEqual(new Uint8Array(32).fill(9))
    expect(Object.isFrozen(pair)).toBe(true)
  })

  it('generates distinct random key pairs', () => {
    const a = crypto.generateKeyPair()
    const b = crypto.generateKeyPair()
    expect(a.publicKey).not.toEqual(b.publicKey)
    expect(crypto.verify(crypto.sign(message, a), message, a.publicKey)).toBe(true)
  })

  it('verifyMany answers per item', () => {
    const results = crypto.verifyMany([
      { publicKey: keyPair.publicKey, message, signature },
      { publicKey: keyPair.publicKey, message: new Uint8Array([9]), signature },
    ])
    expect(results).toEqual([true, false])
  })
})

describe('errors', () => {
  it('carry a code, a message and detail', () => {
    try {
      cryptos.sodium.keyPairFromSeed(new Uint8Array(5))
      expect.unreachable()
    } catch (error) {
      expect(isCryptoError(error, CryptoErrorCode.INVALID_INPUT)).toBe(true)
      expect((error as CryptoError).message).toBe('seed must be 32 bytes, got 5')
      expect((error as CryptoError).detail).toMatchObject({ expected: 32, actual: 5 })
    }
  })
})
