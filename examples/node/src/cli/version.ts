/** What `constellation --version` prints: the node's package version and the Node.js that runs it. */
import { readFileSync } from 'node:fs'
import * as t from 'io-ts'
import { decodeWith } from '../config/codecs.js'
import { NodeErrorCode } from '../errors.js'

const PackageCodec = t.type({ name: t.string, version: t.string })

export function versionLine(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8')
  const { version } = decodeWith(PackageCodec, JSON.parse(text) as unknown, NodeErrorCode.INVALID_CONFIG, 'the node package.json')
  return `constellation ${version} (Node.js ${process.version})`
}
