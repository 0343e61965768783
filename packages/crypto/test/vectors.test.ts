import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { toHex } from '../src/index.js'
import { BACKENDS, hexBytes, loadAllBackends } from './helpers.js'

interface Ed25519Vector {
  name: string
  seed: string
  publicKey: string
  message: string
  signature: string
}

const rfc8032 = JSON.parse(readFileSync(new URL('./vectors/rfc8032-ed25519.json', import.meta.url), 'utf8')) as {
  vectors: Ed25519Vector[]
}
const nist = JSON.parse(readFileSync(new URL('./vectors/nist-sha256.json', import.meta.url), 'utf8')) as {
  vectors: { ascii: string; digest: string }[]
  millionA: string
}

const cryptos = await loadAllBackends()

describe.each(BACKENDS)('known answers on the %s backend', (name) => {
  const crypto = cryptos[name]

  it.each(rfc8032.vectors)('RFC 8032 $name: public key, signature and verification', (vector) => {
    const keyPair = crypto.keyPairFromSeed(hexBytes(vector.seed))
    expect(toHex(keyPair.publicKey)).toBe(vector.publicKey)
    const message = hexBytes(vector.message)
    expect(toHex(crypto.sign(message, keyPair))).toBe(vector.signature)
    expect(crypto.verify(hexBytes(vector.signature), message, keyPair.publicKey)).toBe(true)
  })

  it.each(nist.vectors)('SHA-256 of "$ascii"', ({ ascii, digest }) => {
    expect(toHex(crypto.sha256(new TextEncoder().encode(ascii)))).toBe(digest)
  })

  it('SHA-256 of one million "a"', () => {
    expect(toHex(crypto.sha256(new Uint8Array(1_000_000).fill(0x61)))).toBe(nist.millionA)
  })

  it('reports the backend it runs on', () => {
    expect(crypto.backend).toBe(name)
  })
})
