import { describe, expect, it } from 'vitest'
import { hostNameOf, isAllowedHost } from '../src/api/host-check.js'

describe('the Host names the API answers for', () => {
  it('reads the host name of every Host form', () => {
    expect(hostNameOf('127.0.0.1:8080')).toBe('127.0.0.1')
    expect(hostNameOf('Node.Example')).toBe('node.example')
    expect(hostNameOf('[::1]:80')).toBe('::1')
    expect(hostNameOf('[::1]')).toBe('::1')
    expect(hostNameOf('[::1')).toBeUndefined()
    expect(hostNameOf('[::1]x')).toBeUndefined()
    expect(hostNameOf('a:b:c')).toBeUndefined()
    expect(hostNameOf('name:123456')).toBeUndefined()
  })

  it('answers IP addresses, localhost and allowed names; refuses other names and malformed values', () => {
    for (const host of [undefined, '127.0.0.1', '127.0.0.1:1', '10.1.2.3:80', '[::1]:9', 'localhost:3000', 'app.localhost', 'localhost.']) {
      expect(isAllowedHost(host, []), String(host)).toBe(true)
    }
    for (const host of ['attacker.example', 'attacker.example:80', '127.0.0.1.attacker.example', 'localhost.attacker.example', '', ':80', '[::1']) {
      expect(isAllowedHost(host, []), host).toBe(false)
    }
    expect(isAllowedHost('Node.Example:443', ['node.example'])).toBe(true)
    expect(isAllowedHost('other.example', ['node.example'])).toBe(false)
  })
})
