import { describe, expect, it } from 'vitest'
import { DEFAULT_API_LIMITS, defaultNodeConfig } from '../src/config/node-config.js'
import { isNodeError, NodeErrorCode } from '../src/errors.js'
import { configFromEnvironment, configFromFlags, layerConfig, mergeLayer } from '../src/cli/load-config.js'

const dataDir = '/var/lib/constellation'
const file = {
  dataDir: '/somewhere/else',
  genesisFile: 'network.json',
  p2p: { listen: ['/ip4/127.0.0.1/tcp/4001'], bootstrap: ['/ip4/10.0.0.1/tcp/4001'] },
  api: { host: '127.0.0.1', port: 8080, maxBodyBytes: 65_536 },
  log: { level: 'warn' },
}

function layered(env: Record<string, string>, flags: Parameters<typeof configFromFlags>[0] = {}) {
  return layerConfig({ dataDir, file, fileName: 'config.json', env: configFromEnvironment(env), flags: configFromFlags(flags) })
}

function failure(run: () => unknown): { code: string; message: string } {
  try {
    run()
  } catch (error) {
    if (isNodeError(error)) return { code: error.code, message: error.message }
    throw error
  }
  throw new Error('expected a NodeError')
}

describe('config layering: flags > environment > file > defaults', () => {
  it('takes the file over the defaults, field by field, and keeps defaults the file does not set', () => {
    const config = layered({})
    expect(config.api).toEqual({ host: '127.0.0.1', port: 8080, maxBodyBytes: 65_536, allowedHosts: [], ...DEFAULT_API_LIMITS })
    expect(config.log.level).toBe('warn')
    expect(config.contracts).toEqual(defaultNodeConfig(dataDir).contracts)
    // The data dir is where the file was read from, and a relative genesis lives in it.
    expect(config.dataDir).toBe(dataDir)
    expect(config.genesisFile).toBe(`${dataDir}/network.json`)
  })

  it('takes the environment over the file', () => {
    const config = layered({
      CONSTELLATION_API_PORT: '9090',
      CONSTELLATION_API_HOST: '0.0.0.0',
      CONSTELLATION_LOG_LEVEL: 'debug',
      CONSTELLATION_BOOTSTRAP: '/ip4/10.0.0.2/tcp/1, /ip4/10.0.0.3/tcp/1',
      CONSTELLATION_LISTEN: '/ip4/0.0.0.0/tcp/5000',
    })
    expect(config.api).toEqual({ host: '0.0.0.0', port: 9090, maxBodyBytes: 65_536, allowedHosts: [], ...DEFAULT_API_LIMITS })
    expect(config.log.level).toBe('debug')
    expect(config.p2p).toEqual({ listen: ['/ip4/0.0.0.0/tcp/5000'], bootstrap: ['/ip4/10.0.0.2/tcp/1', '/ip4/10.0.0.3/tcp/1'] })
  })

  it('takes the flags over the environment; lists replace rather than append', () => {
    const config = layered(
      { CONSTELLATION_API_PORT: '9090', CONSTELLATION_BOOTSTRAP: '/ip4/10.0.0.2/tcp/1', CONSTELLATION_LOG_LEVEL: 'debug' },
      { apiPort: 0, bootstrap: ['/ip4/10.0.0.9/tcp/9'], logLevel: 'error' },
    )
    expect(config.api.port).toBe(0)
    expect(config.p2p.bootstrap).toEqual(['/ip4/10.0.0.9/tcp/9'])
    expect(config.p2p.listen).toEqual(['/ip4/127.0.0.1/tcp/4001'])
    expect(config.log.level).toBe('error')
  })

  it('ignores empty environment variables and unset flags', () => {
    expect(layered({ CONSTELLATION_API_PORT: '', CONSTELLATION_LOG_LEVEL: '  ' }, {})).toEqual(layered({}))
  })

  it('names the environment variable whose value is bad', () => {
    expect(failure(() => configFromEnvironment({ CONSTELLATION_API_PORT: '70000' }))).toEqual({
      code: NodeErrorCode.INVALID_CONFIG,
      message: 'environment variable CONSTELLATION_API_PORT: expected Port, got 70000',
    })
    expect(failure(() => configFromEnvironment({ CONSTELLATION_API_PORT: 'eighty' })).message).toContain('got "eighty"')
    expect(failure(() => configFromEnvironment({ CONSTELLATION_LOG_LEVEL: 'loud' })).message).toMatch(/^environment variable CONSTELLATION_LOG_LEVEL: expected/)
    expect(failure(() => configFromEnvironment({ CONSTELLATION_BOOTSTRAP: '/ip4/1.2.3.4/tcp/1,localhost:4001' })).message).toContain(
      'CONSTELLATION_BOOTSTRAP: expected Multiaddr, got "localhost:4001"',
    )
  })

  it('names the file and the field when the file is bad', () => {
    const bad = { ...file, api: { ...file.api, port: -1 } }
    expect(failure(() => layerConfig({ dataDir, file: bad, fileName: '/x/config.json', env: {}, flags: {} }))).toEqual({
      code: NodeErrorCode.INVALID_CONFIG,
      message: 'config file /x/config.json: api.port: expected Port, got -1',
    })
  })

  it('takes p2p.announce and p2p.dialFrom from the file, and refuses bad ones naming the field', () => {
    const behindProxy = { ...file, p2p: { ...file.p2p, announce: ['/ip4/203.0.113.7/tcp/4001'], dialFrom: '127.0.0.3' } }
    expect(layerConfig({ dataDir, file: behindProxy, fileName: 'config.json', env: {}, flags: {} }).p2p).toEqual(behindProxy.p2p)
    expect(layered({}).p2p).not.toHaveProperty('announce')
    const refused = (p2p: Record<string, unknown>) =>
      failure(() => layerConfig({ dataDir, file: { ...file, p2p: { ...file.p2p, ...p2p } }, fileName: '/x/config.json', env: {}, flags: {} }))
    expect(refused({ dialFrom: 'localhost' })).toEqual({
      code: NodeErrorCode.INVALID_CONFIG,
      message: 'config file /x/config.json: p2p.dialFrom: expected IpAddress, got "localhost"',
    })
    expect(refused({ dialFrom: '/ip4/127.0.0.3' }).message).toContain('p2p.dialFrom: expected IpAddress')
    expect(refused({ announce: ['127.0.0.1:4001'] }).message).toContain('p2p.announce: expected Multiaddr, got "127.0.0.1:4001"')
    expect(refused({ announce: Array.from({ length: 17 }, (_, i) => `/ip4/127.0.0.1/tcp/${4000 + i}`) }).message).toContain(
      'p2p.announce: expected Announce (at most 16 multiaddrs)',
    )
  })

  it('refuses fields the config does not have, naming them', () => {
    const misspelt = { ...file, api: { ...file.api, prot: 80 }, logging: { level: 'debug' } }
    expect(failure(() => layerConfig({ dataDir, file: misspelt, fileName: '/x/config.json', env: {}, flags: {} }))).toEqual({
      code: NodeErrorCode.INVALID_CONFIG,
      message: 'config file /x/config.json: unknown field api.prot, logging',
    })
  })

  it('merges objects field by field and replaces everything else', () => {
    expect(mergeLayer({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, d: undefined })).toEqual({ a: { b: 1, c: [3] }, d: 1 })
    expect(mergeLayer({ a: 1 }, undefined)).toEqual({ a: 1 })
  })
})
