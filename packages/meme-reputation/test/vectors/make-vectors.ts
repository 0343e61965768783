/** Writes hash-vectors.json from the independent reference: `pnpm exec tsx test/vectors/make-vectors.ts`. */
import { writeFileSync } from 'node:fs'
import { makeVectors } from './reference.js'

writeFileSync(new URL('hash-vectors.json', import.meta.url), `${JSON.stringify(makeVectors(), null, 1)}\n`)
