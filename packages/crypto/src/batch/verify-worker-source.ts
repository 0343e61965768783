/**
 * The code each verification worker runs, kept as a string and started with `eval: true`.
 *
 * A worker given a file path would need that file to exist as JavaScript next to the calling module, which is
 * true of the built package but not of its TypeScript sources under test. A self-contained script works in both;
 * it loads only libsodium (by the absolute path the pool resolved) or node:crypto.
 *
 * Job layout (one transferred ArrayBuffer, no per-item structured cloning):
 *   [count: u32][message offsets: (count + 1) × u32][public keys: 32 × count][signatures: 64 × count][messages]
 * Reply: one byte per item, 1 = valid.
 */
export const VERIFY_WORKER_SOURCE = `
'use strict'
// getBuiltinModule works whether Node runs this script as CommonJS or as a module.
const { parentPort, workerData } = process.getBuiltinModule('node:worker_threads')
const { createRequire } = process.getBuiltinModule('node:module')

function nodeVerifier() {
  const crypto = process.getBuiltinModule('node:crypto')
  const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')
  const keys = new Map()
  return (signature, message, publicKey) => {
    const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, 32).toString('latin1')
    let key = keys.get(id)
    try {
      if (key === undefined) {
        key = crypto.createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' })
        if (keys.size >= 4096) keys.delete(keys.keys().next().value)
        keys.set(id, key)
      }
      return crypto.verify(null, message, key, signature)
    } catch {
      return false
    }
  }
}

function sodiumVerifier(path) {
  const sodium = createRequire(path)(path)
  return (signature, message, publicKey) => sodium.crypto_sign_verify_detached(signature, message, publicKey)
}

const verify = workerData.sodiumPath ? sodiumVerifier(workerData.sodiumPath) : nodeVerifier()

parentPort.on('message', (job) => {
  const bytes = new Uint8Array(job.buffer)
  const words = new DataView(job.buffer)
  const count = words.getUint32(0, true)
  const keysAt = 4 + 4 * (count + 1)
  const signaturesAt = keysAt + 32 * count
  const messagesAt = signaturesAt + 64 * count
  const results = new Uint8Array(count)
  for (let i = 0; i < count; i++) {
    const from = messagesAt + words.getUint32(4 + 4 * i, true)
    const to = messagesAt + words.getUint32(8 + 4 * i, true)
    const ok = verify(
      bytes.subarray(signaturesAt + 64 * i, signaturesAt + 64 * i + 64),
      bytes.subarray(from, to),
      bytes.subarray(keysAt + 32 * i, keysAt + 32 * i + 32),
    )
    results[i] = ok ? 1 : 0
  }
  parentPort.postMessage({ id: job.id, results }, [results.buffer])
})
`
