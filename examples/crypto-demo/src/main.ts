/**
 * A tour of @constellation/crypto, the README's main-job command until the full node and its devnet exist.
 * It makes a node identity in a key file, signs a canonical record, checks it on every backend, and verifies a
 * batch of signatures on worker threads.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { availableBackends, createKeyFile, createVerifyPool, decodeCanonical, encodeCanonical, loadCrypto, loadKeyFile, toHex } from '@constellation/crypto'

const crypto = await loadCrypto()
console.log(`backends available: ${(await availableBackends()).join(', ')}; using ${crypto.backend}`)

const dataDir = await mkdtemp(join(tmpdir(), 'constellation-demo-'))
try {
  const keyPath = join(dataDir, 'node.key')
  const created = await createKeyFile(keyPath, { crypto, passphrase: 'demo passphrase', kdf: { N: 2 ** 14, r: 8, p: 1 } })
  const identity = await loadKeyFile(keyPath, { crypto, passphrase: 'demo passphrase' })
  console.log(`node id ${toHex(identity.publicKey)} (key file ${keyPath}, owner-only, encrypted)`)
  if (toHex(created.publicKey) !== toHex(identity.publicKey)) throw new Error('key file round trip failed')

  const record = { type: 'tx', sequenceNumber: 1, payload: { kind: 'transfer', amount: 25 } }
  const encoded = encodeCanonical(record)
  const hash = crypto.sha256(encoded)
  const signature = crypto.sign(hash, identity)
  console.log(`record ${toHex(encoded)}\n  hash ${toHex(hash)}\n  signature ${toHex(signature).slice(0, 32)}…`)
  console.log(`decoded back: ${JSON.stringify(decodeCanonical(encoded))}`)

  for (const backend of await availableBackends()) {
    const other = await loadCrypto({ backend })
    console.log(`  ${backend.padEnd(6)} verifies: ${other.verify(signature, hash, identity.publicKey)}`)
  }
  const tampered = Uint8Array.from(hash)
  tampered[0] = (tampered[0] as number) ^ 1
  console.log(`  a tampered hash verifies: ${crypto.verify(signature, tampered, identity.publicKey)}`)

  const pool = await createVerifyPool({ crypto, workers: 2 })
  try {
    const signers = Array.from({ length: 16 }, () => crypto.generateKeyPair())
    const items = Array.from({ length: 4000 }, (_, i) => {
      const signer = signers[i % signers.length]
      // i % signers.length is always an index of the 16 signers.
      if (signer === undefined) throw new Error(`no signer at ${i % signers.length}`)
      const message = crypto.sha256(new TextEncoder().encode(`transaction ${i}`))
      return { publicKey: signer.publicKey, message, signature: crypto.sign(message, signer) }
    })
    const started = performance.now()
    const results = await pool.verifyBatch(items)
    const ms = performance.now() - started
    console.log(`verified ${results.filter(Boolean).length}/${items.length} signatures on ${pool.workers} ${pool.backend} workers in ${ms.toFixed(1)} ms`)
  } finally {
    await pool.close()
  }
} finally {
  await rm(dataDir, { recursive: true, force: true })
}
