/**
 * Turning the explorer off: `explorer.enabled` in config.json, `CONSTELLATION_EXPLORER`, `--explorer`/`--no-explorer`,
 * layered like every other setting (flags > environment > file > the default, on), and the modules `start` runs.
 */
import { describe, expect, it } from 'vitest'
import { configFromEnvironment, configFromFlags, layerConfig } from '../src/cli/load-config.js'
import { nodeModules } from '../src/cli/node-modules.js'
import { isNodeError } from '../src/errors.js'

const dataDir = '/var/lib/constellation'

function explorerEnabled(file: Record<string, unknown>, env: Record<string, string>, flags: Parameters<typeof configFromFlags>[0] = {}): boolean {
  return layerConfig({ dataDir, file, fileName: 'config.json', env: configFromEnvironment(env), flags: configFromFlags(flags) }).explorer.enabled
}

describe('explorer.enabled', () => {
  it('is on by default, also for a config file written before the setting existed', () => {
    expect(explorerEnabled({}, {})).toBe(true)
    expect(explorerEnabled({ contracts: { enabled: true, price: 0 } }, {})).toBe(true)
  })

  it('layers flags over the environment over the file', () => {
    expect(explorerEnabled({ explorer: { enabled: false } }, {})).toBe(false)
    expect(explorerEnabled({ explorer: { enabled: false } }, { CONSTELLATION_EXPLORER: 'true' })).toBe(true)
    expect(explorerEnabled({}, { CONSTELLATION_EXPLORER: 'FALSE' })).toBe(false)
    expect(explorerEnabled({}, { CONSTELLATION_EXPLORER: 'false' }, { explorer: true })).toBe(true)
    expect(explorerEnabled({}, {}, { explorer: false })).toBe(false)
  })

  it('refuses a value that is not true or false, naming its source', () => {
    const refusal = (run: () => unknown) => {
      try {
        run()
      } catch (error) {
        return isNodeError(error) ? error.message : String(error)
      }
      return 'accepted'
    }
    expect(refusal(() => explorerEnabled({}, { CONSTELLATION_EXPLORER: 'yes' }))).toMatch(/^environment variable CONSTELLATION_EXPLORER: /)
    expect(refusal(() => explorerEnabled({ explorer: { enabled: 'no' } }, {}))).toMatch(/config file config\.json: explorer\.enabled/)
    expect(refusal(() => explorerEnabled({ explorer: { enable: false } }, {}))).toMatch(/unknown field explorer\.enable/)
  })

  it('decides whether start runs the explorer module', () => {
    expect(nodeModules({ explorer: { enabled: true } })).toHaveLength(3)
    expect(nodeModules({ explorer: { enabled: false } })).toHaveLength(2)
  })
})
