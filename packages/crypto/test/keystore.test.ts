import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createKeyFile, CryptoErrorCode, loadKeyFile, openKeyFile, sealKeyPair, toHex } from '../src/index.js'
import { loadAllBackends } from './helpers.js'

const { sodium: crypto } = await loadAllBackends()
// Cheap KDF parameters keep the suite fast; the default (N = 2^17) is exercised once below.
const kdf = { N: 2 ** 10, r: 8, p: 1 }

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'constellation-keystore-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

let counter = 0
const freshPath = () => join(dir, `node-${counter++}`, 'node.key')

describe('key files', () => {
  it('creates an owner-only plain key file and loads the same key pair', async () => {
    const path = freshPath()
    const created = await createKeyFile(path, { crypto })
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    const loaded = await loadKeyFile(path, { crypto })
    expect(loaded.publicKey).toEqual(created.publicKey)
    expect(loaded.seed).toEqual(created.seed)
    const json = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>
    expect(json).toMatchObject({ type: 'constellation/ed25519-key', version: 1, publicKey: toHex(created.publicKey) })
  })

  it('encrypts with a passphrase; the file does not contain the seed', async () => {
    const path = freshPath()
    const created = await createKeyFile(path, { crypto, passphrase: 'correct horse', kdf })
    const text = await readFile(path, 'utf8')
    expect(text).not.toContain(toHex(created.seed))
    const loaded = await loadKeyFile(path, { crypto, passphrase: 'correct horse' })
    expect(loaded.seed).toEqual(created.seed)
  })

  it('uses strong scrypt parameters by default', async () => {
    const keyPair = crypto.generateKeyPair()
    const text = await sealKeyPair(keyPair, { passphrase: 'pw' })
    expect(JSON.parse(text)).toMatchObject({ kdf: { N: 2 ** 17, r: 8, p: 1 } })
    expect((await openKeyFile(text, { crypto, passphrase: 'pw' })).seed).toEqual(keyPair.seed)
  })

  it('stores a given key pair', async () => {
    const keyPair = crypto.keyPairFromSeed(new Uint8Array(32).fill(5))
    const path = freshPath()
    await createKeyFile(path, { crypto, keyPair })
    expect((await loadKeyFile(path, { crypto })).publicKey).toEqual(keyPair.publicKey)
  })

  it('refuses to store a key pair whose public key is not its own', async () => {
    const keyPair = { seed: new Uint8Array(32).fill(5), publicKey: crypto.generateKeyPair().publicKey }
    await expect(createKeyFile(freshPath(), { crypto, keyPair })).rejects.toMatchObject({
      code: CryptoErrorCode.INVALID_INPUT,
    })
    await expect(sealKeyPair({ seed: new Uint8Array(3), publicKey: keyPair.publicKey })).rejects.toMatchObject({
      code: CryptoErrorCode.INVALID_INPUT,
    })
  })

  it('gives typed errors for a wrong or missing passphrase', async () => {
    const path = freshPath()
    await createKeyFile(path, { crypto, passphrase: 'right', kdf })
    await expect(loadKeyFile(path, { crypto, passphrase: 'wrong' })).rejects.toMatchObject({
      code: CryptoErrorCode.KEYSTORE_WRONG_PASSPHRASE,
    })
    await expect(loadKeyFile(path, { crypto })).rejects.toMatchObject({
      code: CryptoErrorCode.KEYSTORE_PASSPHRASE_REQUIRED,
    })
    await expect(loadKeyFile(path, { crypto, passphrase: '' })).rejects.toMatchObject({
      code: CryptoErrorCode.INVALID_INPUT,
    })
  })

  it('detects edits to the public key or KDF parameters of an encrypted file', async () => {
    const path = freshPath()
    await createKeyFile(path, { crypto, passphrase: 'pw', kdf })
    const original = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown> & {
      kdf: Record<string, unknown>
    }
    const otherKey = toHex(crypto.generateKeyPair().publicKey)
    const edits = [
      { ...original, publicKey: otherKey },
      { ...original, kdf: { ...original.kdf, N: 2 ** 11 } },
    ]
    for (const edited of edits) {
      await expect(openKeyFile(JSON.stringify(edited), { crypto, passphrase: 'pw' })).rejects.toMatchObject({
        code: CryptoErrorCode.KEYSTORE_WRONG_PASSPHRASE,
      })
    }
  })

  it('reports corrupt files clearly', async () => {
    const keyPair = crypto.generateKeyPair()
    const plain = JSON.parse(await sealKeyPair(keyPair)) as Record<string, unknown>
    const encrypted = JSON.parse(await sealKeyPair(keyPair, { passphrase: 'pw', kdf })) as Record<string, unknown> & {
      kdf: Record<string, unknown>
    }
    const corrupt: [string, string][] = [
      ['not json {', 'not valid JSON'],
      ['[]', 'not a JSON object'],
      [JSON.stringify({ ...plain, type: 'other' }), '"type" must be'],
      [JSON.stringify({ ...plain, version: 2 }), 'unsupported version 2'],
      [JSON.stringify({ ...plain, seed: 'zz' }), '"seed" must be 32 bytes of hex'],
      [JSON.stringify({ ...plain, extra: 1 }), 'unexpected field "extra"'],
      [JSON.stringify({ ...plain, seed: toHex(crypto.generateKeyPair().seed) }), 'does not match the public key'],
      [JSON.stringify({ ...plain, encryption: 'rot13' }), 'unknown encryption'],
      [JSON.stringify({ ...encrypted, kdf: { ...encrypted.kdf, N: 2 ** 30 } }), 'scrypt N must be'],
      [JSON.stringify({ ...encrypted, kdf: { ...encrypted.kdf, N: 1000 } }), 'scrypt N must be'],
      [JSON.stringify({ ...encrypted, nonce: '00' }), '"nonce" must be 12 bytes'],
      [' '.repeat(20_000), 'larger than'],
    ]
    for (const [text, message] of corrupt) {
      const opening = openKeyFile(text, { crypto, passphrase: 'pw' })
      await expect(opening).rejects.toMatchObject({ code: CryptoErrorCode.KEYSTORE_CORRUPT })
      await expect(opening).rejects.toThrow(message)
    }
  })

  it('refuses files other users can read, unless allowed', async () => {
    const path = freshPath()
    const created = await createKeyFile(path, { crypto })
    await chmod(path, 0o644)
    await expect(loadKeyFile(path, { crypto })).rejects.toMatchObject({
      code: CryptoErrorCode.KEYSTORE_INSECURE_PERMISSIONS,
    })
    expect((await loadKeyFile(path, { crypto, allowInsecurePermissions: true })).publicKey).toEqual(created.publicKey)
  })

  it('never replaces an existing key unless asked, and leaves no temporary files', async () => {
    const path = freshPath()
    const first = await createKeyFile(path, { crypto })
    await expect(createKeyFile(path, { crypto })).rejects.toMatchObject({ code: CryptoErrorCode.KEYSTORE_EXISTS })
    expect((await loadKeyFile(path, { crypto })).publicKey).toEqual(first.publicKey)
    const second = await createKeyFile(path, { crypto, overwrite: true })
    expect((await loadKeyFile(path, { crypto })).publicKey).toEqual(second.publicKey)
    const { readdir } = await import('node:fs/promises')
    expect(await readdir(join(path, '..'))).toEqual(['node.key'])
  })

  it('reports a missing file and a directory in its place', async () => {
    await expect(loadKeyFile(join(dir, 'absent.key'), { crypto })).rejects.toMatchObject({
      code: CryptoErrorCode.KEYSTORE_NOT_FOUND,
    })
    await expect(loadKeyFile(dir, { crypto, allowInsecurePermissions: true })).rejects.toMatchObject({
      code: CryptoErrorCode.KEYSTORE_CORRUPT,
    })
  })
})
