/**
 * A node killed with SIGKILL leaves its node.json behind. The CLI checks it against a live process before it sends
 * anything: a process that is gone, a URL that does not answer, or one that answers for another node all end in
 * "no node is running" — and the program now on that URL never gets the request (the old CLI sent it there).
 */
import { spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ExitCode } from '../src/cli/cli-io.js'
import { cli, launch, tempDir } from './cli-helpers.js'

const ID = 'ab'.repeat(32)
const servers: Server[] = []

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))))
})

/** A program on the URL a stale node.json names: it records every request and answers as a node with `id`. */
async function squatter(id: string): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = []
  const server = createServer((request: IncomingMessage, response) => {
    seen.push(`${request.method} ${request.url}`)
    response.writeHead(200, { 'content-type': 'application/json' })
    response.end(JSON.stringify({ id }))
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
  await new Promise((resolve) => child.once('exit', resolve))
  return child.pid as number
}

async function staleDataDir(runtime: { pid: number; api: string }): Promise<string> {
  const dir = await tempDir()
  await writeFile(join(dir, 'node.json'), JSON.stringify({ id: ID, listen: [], ...runtime }))
  return dir
}

describe('node.json checked against a live process', () => {
  it('a process that has exited: the CLI says no node is running, and sends nothing to its URL', async () => {
    const other = await squatter(ID)
    const dir = await staleDataDir({ pid: await deadPid(), api: other.url })
    for (const args of [['status'], ['tx', 'send', '--to', 'cd'.repeat(32), '--amount', '1']]) {
      const run = await cli([...args, '--data-dir', dir])
      expect(run).toMatchObject({ code: ExitCode.FAILURE, stdout: '' })
      expect(run.stderr).toMatch(/^error UNAVAILABLE: no node is running in .*: its node\.json names process \d+, which has exited without removing it/)
    }
    expect(other.seen).toEqual([])
  })

  it('a live process (a reused pid) whose URL answers for another node: no node is running, nothing but the probe is sent', async () => {
    const other = await squatter('ef'.repeat(32))
    const dir = await staleDataDir({ pid: process.pid, api: other.url })
    const run = await cli(['tx', 'send', '--data-dir', dir, '--to', 'cd'.repeat(32), '--amount', '1'])
    expect(run).toMatchObject({ code: ExitCode.FAILURE, stdout: '' })
    expect(run.stderr).toMatch(/^error UNAVAILABLE: no node is running in .*, which answers for another node \(efefefefefefefef…, not abababababababab…\)/)
    expect(other.seen).toEqual(['GET /v1/status'])
  })

  it('after kill -9 of a real node, the CLI says it is not running', async () => {
    const dataDir = join(await tempDir(), 'node')
    expect((await cli(['init', '--data-dir', dataDir, '--new-network', '--group', 'stale'])).code).toBe(ExitCode.OK)
    const node = launch(['start', '--data-dir', dataDir])
    const ready = JSON.parse(await node.firstLine) as { pid: number }
    expect((await cli(['status', '--data-dir', dataDir])).code).toBe(ExitCode.OK)
    // The node itself, not its launcher: the launcher would forward a SIGTERM, but SIGKILL leaves no time for one.
    process.kill(ready.pid, 'SIGKILL')
    await node.exited
    const run = await cli(['status', '--data-dir', dataDir])
    expect(run).toMatchObject({ code: ExitCode.FAILURE, stdout: '' })
    // The process is gone, or (reaped a moment later) its URL no longer answers: either way, not running.
    expect(run.stderr).toMatch(/^error UNAVAILABLE: no node is running in .*(which has exited without removing it|which does not answer)/)
  })
})
