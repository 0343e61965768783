/**
 * The explorer in a real browser against a real devnet: Debian's Chromium (headless, driven by playwright-core)
 * loads the explorer from node 0 of a 4-node devnet of `constellation start` processes, sees the DAG of chains,
 * follows a fresh transfer from its block in the DAG to its page until it is final with its agreement proof (which
 * the page verifies itself from the genesis, and summarises as the round that finalised it, the transfer's place
 * among that round's finalised transfers and the certificate's signatures), shows the node's transaction totals,
 * shows a pending transaction and a refused one (its reason, its void, nothing moved, no proof asked for: answers
 * the page is given by intercepting the node's, since a healthy devnet refuses nothing) and which side the node is on
 * (an outgoing transfer, and an incoming one, timed from its agreement), watches certified rounds
 * arrive without reloading, and visits the hierarchy, memes and contracts views. A screenshot of each view goes to
 * test-artifacts/ (not committed).
 *
 * Chromium is a system package, not an npm one: `.ci/run` and `pnpm test` install it with apt when they can; this
 * test fails (it does not skip) when it is missing, saying how to install it.
 */
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadCrypto } from '@constellation/crypto'
import * as t from 'io-ts'
import { type BrowserContext, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DevnetCluster } from '../src/devnet/devnet-cluster.js'
import { type LocalDevnet, startLocalDevnet } from '../src/devnet/local-devnet.js'

const CHROMIUM = '/usr/bin/chromium'
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url))
/** A laptop screen: the explorer must be usable at this size. */
const VIEWPORT = { width: 1366, height: 768 }

const crypto = await loadCrypto()
const TransactionCodec = t.type({ id: t.string, status: t.string })
/** A transaction view as GET /v1/transactions/:id answers it (the fields the pending and refused pages are made from). */
const TransactionViewCodec = t.type({
  id: t.string,
  status: t.string,
  amount: t.number,
  proposal: t.type({ hash: t.string, sequenceNumber: t.number }),
  agreement: t.unknown,
})
const DeployedCodec = t.type({ id: t.string })
const InvokedCodec = t.type({ output: t.unknown })

const COUNTER = {
  code: 'function invoke(state, input) { return { state: state + input, output: state + input } }',
  signature: { input: { kind: 'integer' }, output: { kind: 'integer' }, state: { kind: 'integer' } },
  initialState: 0,
}

let devnet: LocalDevnet | undefined
let profileDir: string | undefined
let context: BrowserContext | undefined
let page: Page

function cluster(): DevnetCluster {
  if (devnet === undefined) throw new Error('the devnet did not start')
  return devnet.cluster
}

async function screenshot(name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `explorer-${name}.png`), fullPage: true })
}

/** Follows a link of the labelled navigation, as a person would. */
async function openSection(name: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Explorer views' }).getByRole('link', { name, exact: true }).click()
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `the explorer's browser tests need Chromium at ${CHROMIUM}, which is missing: install it with \`apt-get update && apt-get install -y chromium\` (as root; \`pnpm test\` and .ci/run do this when they can)`,
    )
  }
  await mkdir(ARTIFACTS, { recursive: true })
  devnet = await startLocalDevnet({ crypto, name: 'explorer-browser', nodes: 4, facilitators: 4, balance: 1_000_000 })
  const node = cluster().nodes[0]?.api
  if (node === undefined) throw new Error('the devnet has no node 0')
  // A contract with one invocation, so the contracts views have something to show.
  const { id } = await node.post('/v1/contracts', COUNTER, DeployedCodec)
  await node.post(`/v1/contracts/${id}/invoke`, { input: 5 }, InvokedCodec)
  profileDir = await mkdtemp(join(tmpdir(), 'constellation-chromium-'))
  context = await chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: VIEWPORT })
  page = context.pages()[0] ?? (await context.newPage())
}, 90_000)

afterAll(async () => {
  await context?.close()
  if (profileDir !== undefined) await rm(profileDir, { recursive: true, force: true })
  const reports = (await devnet?.close()) ?? []
  expect(reports.filter((report) => report.failed)).toEqual([])
}, 40_000)

describe('the explorer in Chromium', () => {
  it('shows the DAG live, and a transfer followed from it becomes final with its agreement proof', async () => {
    const [node0, node1] = cluster().nodes
    if (node0 === undefined || node1 === undefined) throw new Error('the devnet has fewer than 2 nodes')
    // The first event stream is cut off: the app opens another by itself and shows it live.
    let streams = 0
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/v1/events') streams++
    })
    await page.route('**/v1/events', (route) => route.abort('connectionreset'), { times: 1 })
    await page.goto(`${node0.api.url}/`)
    // GET / redirects to the explorer.
    expect(new URL(page.url()).pathname).toBe('/explorer/')
    await expect.poll(() => page.getByTestId('live-status').textContent(), { timeout: 10_000 }).toBe('live')
    expect(streams).toBeGreaterThanOrEqual(2)
    expect(await page.getByRole('banner').count()).toBe(1)
    expect(await page.getByRole('main').count()).toBe(1)
    await page.getByRole('heading', { level: 2, name: 'Personal chains' }).waitFor()
    await page.getByTestId('dag-block').first().waitFor({ timeout: 10_000 })
    expect(await page.getByTestId('dag').locator('[data-role="checkpoint"]').count()).toBeGreaterThan(0)

    // A transfer sent now: its proposal block appears in the DAG on its own (live), and leads to its page.
    const transfer = await node0.api.post('/v1/transactions', { to: node1.layout.id, amount: 3 }, TransactionCodec)
    const block = page.locator(`[data-testid="dag-block"][data-hash="${transfer.id}"]`)
    await block.waitFor({ timeout: 15_000 })
    expect(await block.getAttribute('data-role')).toBe('proposal')
    // The first ask for its proof is answered 409 NOT_FINAL, as the node does until a certified round finalises the
    // transfer: the page says so and asks again on its own as rounds are certified.
    const notFinal = { error: { code: 'NOT_FINAL', message: `transaction ${transfer.id} is not final yet` } }
    // The node's summary of the proof is not what the page shows once it verified the proof: it shows its own. (A
    // route added later is asked first: this one serves every ask after the NOT_FINAL one below.)
    await page.route(`**/v1/transactions/${transfer.id}/proof`, async (route) => {
      const response = await route.fetch()
      if (response.status() !== 200) return route.fulfill({ response })
      const body = (await response.json()) as { summary: { round: number } }
      body.summary.round = 987_654
      return route.fulfill({ response, json: body })
    })
    await page.route(
      `**/v1/transactions/${transfer.id}/proof`,
      (route) => route.fulfill({ status: 409, contentType: 'application/json', body: JSON.stringify(notFinal) }),
      { times: 1 },
    )
    await block.click()
    await page.waitForURL(`**/explorer/#/tx/${transfer.id}`)
    await page.getByRole('heading', { level: 1, name: /^Transaction/ }).waitFor()
    // Looked for before the status turns final, not after: the refresh that finds the transaction final may bring
    // the real proof with it, and then the pending note is gone before anyone looks.
    const proof = page.getByTestId('proof')
    await proof.getByTestId('proof-pending').waitFor()
    expect(await proof.getByTestId('proof-pending').textContent()).toMatch(/^Not final yet/)
    await expect.poll(() => page.getByTestId('tx-status').textContent(), { timeout: 30_000 }).toBe('final')
    expect(await page.locator('dl[aria-label="Transaction"]').textContent()).toMatch(/this node:?\s*proposer: an outgoing transfer/)
    await proof.getByRole('table', { name: 'What the proof contains' }).waitFor({ timeout: 15_000 })
    expect(await proof.textContent()).toMatch(/verifyAgreementProof/)
    // A header, the two halves, the certificate and the Merkle path.
    expect(await proof.getByRole('row').count()).toBe(5)
    // The page checks the proof itself, from the genesis the node names: certificates from round 1, then the proof.
    const check = proof.getByTestId('proof-check')
    await proof.getByText(/^Verified in this browser/).waitFor({ timeout: 15_000 })
    const { fingerprint } = (await (await fetch(`${node0.api.url}/v1/genesis`)).json()) as { fingerprint: string }
    expect(await check.textContent()).toMatch(
      new RegExp(`^Verified in this browser: \\d+ certificates? from the genesis \\(fingerprint ${fingerprint}\\), \\d+ signatures checked\\.`),
    )
    const contents = proof.getByRole('table', { name: 'What the proof contains' })
    const text = (await contents.textContent()) ?? ''
    expect(text).not.toContain('987654')
    // The round the page read from the proof it verified, the one the node records as final, and the transfer's
    // place among that round's finalised transfers.
    const { finalRound } = (await (await fetch(`${node0.api.url}/v1/transactions/${transfer.id}`)).json()) as { finalRound: number }
    expect(text).toMatch(new RegExp(`round ${finalRound} of explorer-browser, the round that finalised the transfer: \\d+ signatures? of its committee`))
    expect(text).toMatch(new RegExp(`transfer \\d+ of the \\d+ that round ${finalRound} finalised, up to their Merkle root`))
    const [, leaf, of] = /transfer (\d+) of the (\d+)/.exec(text) ?? []
    expect(Number(leaf)).toBeLessThanOrEqual(Number(of))
    await screenshot('transaction')

    // Back on the overview, the DAG now links the transfer's proposal to its agreement in node 1's chain.
    await openSection('Overview')
    await page.locator(`[data-testid="dag-block"][data-hash="${transfer.id}"]`).waitFor()
    // It is also listed among the transfers this node proposed, final.
    const listed = page
      .getByRole('table', { name: 'The latest, newest first' })
      .getByRole('row')
      .filter({ has: page.locator(`a[href="#/tx/${transfer.id}"]`) })
    await expect.poll(() => listed.locator('.badge').textContent(), { timeout: 10_000 }).toBe('final')
    // The node's totals: its proposals and how far they got, the transfers it refused unsigned, the ones it received.
    expect(await page.getByTestId('tx-totals').textContent()).toMatch(
      /^\d+ sent: \d+ agreed \(\d+ final, \d+ awaiting finality\), \d+ pending, \d+ refused; \d+ rejected before signing; \d+ received \(\d+ final\)$/,
    )
    await screenshot('overview')
    await page.emulateMedia({ colorScheme: 'dark' })
    await screenshot('overview-dark')
    await page.emulateMedia({ colorScheme: 'light' })
  }, 60_000)

  it('shows a pending transaction as one that may still be agreed, a refused one as nothing moved, with its void, and an incoming one', async () => {
    const [node0, node1] = cluster().nodes
    if (node0 === undefined || node1 === undefined) throw new Error('the devnet has fewer than 2 nodes')
    // A real transaction's view, as the node serves it, made into a pending one and a refused one under ids of their own.
    const sent = await node0.api.post('/v1/transactions', { to: node1.layout.id, amount: 5 }, TransactionCodec)
    const real = await node0.api.get(`/v1/transactions/${sent.id}`, TransactionViewCodec)
    const fields = real as unknown as Record<string, unknown>
    const pendingId = 'a1'.repeat(32)
    const refusedId = 'b2'.repeat(32)
    const { agreedAt: _agreed, finalAt: _final, finalRound: _round, ...unanswered } = fields
    const pending = { ...unanswered, id: pendingId, status: 'pending', agreement: null }
    const voidBlock = {
      ...(real.proposal as Record<string, unknown>),
      hash: 'c3'.repeat(32),
      sequenceNumber: real.proposal.sequenceNumber + 1,
      linkPublicKey: fields.from,
      linkSequenceNumber: real.proposal.sequenceNumber,
      type: 'void',
      payload: { amount: real.amount, balance: 1_000_000, refusal: 'd4'.repeat(64) },
    }
    const refused = {
      ...unanswered,
      id: refusedId,
      status: 'refused',
      agreement: null,
      refusal: { code: 'PROPOSAL_REJECTED', reason: 'policy', void: voidBlock },
    }
    const incomingId = 'e5'.repeat(32)
    const incoming = { ...fields, id: incomingId, role: 'counterparty' }
    const proofAsks: string[] = []
    page.on('request', (request) => {
      if (request.url().endsWith('/proof')) proofAsks.push(new URL(request.url()).pathname)
    })
    await page.route(`**/v1/transactions/${pendingId}`, (route) => route.fulfill({ json: pending }))
    await page.route(`**/v1/transactions/${pendingId}/proof`, (route) =>
      route.fulfill({ status: 409, json: { error: { code: 'NOT_FINAL', message: `transaction ${pendingId} has no agreement` } } }),
    )
    await page.route(`**/v1/transactions/${refusedId}`, (route) => route.fulfill({ json: refused }))
    await page.route(`**/v1/transactions/${incomingId}`, (route) => route.fulfill({ json: incoming }))

    // Moved to by the location hash, as a link would: the app is not loaded again.
    const open = (hash: string) => page.evaluate((to) => ((globalThis as unknown as { location: { hash: string } }).location.hash = to), hash)
    await open(`#/tx/${pendingId}`)
    await page.getByRole('heading', { level: 1, name: /^Transaction/ }).waitFor()
    await expect.poll(() => page.getByTestId('tx-status').textContent(), { timeout: 10_000 }).toBe('pending')
    expect(await page.getByTestId('tx-status-text').textContent()).toMatch(/may still be agreed/)
    await page.getByText('No answer from the counterparty yet: it may still agree (or refuse).').waitFor()
    await page.getByTestId('proof').getByTestId('proof-pending').waitFor()
    expect(await page.locator('dl[aria-label="Timings"]').textContent()).toMatch(/agreed:?\s*not yet/)
    await screenshot('transaction-pending')

    await open(`#/tx/${refusedId}`)
    await expect.poll(() => page.getByTestId('tx-status').textContent(), { timeout: 10_000 }).toBe('refused')
    expect(await page.getByTestId('tx-status-text').textContent()).toMatch(/nothing moved, and it can never become final/)
    const refusal = page.getByRole('region', { name: 'Refused' })
    expect(await refusal.textContent()).toMatch(/^RefusedNothing moved: the counterparty refused this transfer \(PROPOSAL_REJECTED: policy\)/)
    const voided = refusal.locator('dl[aria-label="Void half"]')
    expect(
      await voided
        .locator('dd')
        .filter({ hasText: /^void$/ })
        .count(),
    ).toBe(1)
    expect(await voided.textContent()).toContain('c3c3c3')
    expect(await page.getByTestId('proof').textContent()).toMatch(/None: a refused transaction can never become final/)
    expect(await page.getByRole('region', { name: 'Agreement', exact: true }).count()).toBe(0)
    // A refused transaction's proof is never asked for.
    expect(proofAsks.filter((path) => path.includes(refusedId))).toEqual([])
    await screenshot('transaction-refused')

    // The role the node states, not who sent it, tells an incoming transfer: its timings start at the agreement.
    await open(`#/tx/${incomingId}`)
    await page.getByText('counterparty: an incoming transfer').waitFor({ timeout: 10_000 })
    expect(await page.locator('dl[aria-label="Timings"]').textContent()).toMatch(/^agreed here/)
  }, 30_000)

  it('adds certified rounds as they happen, without reloading', async () => {
    await openSection('Rounds')
    await page.getByRole('heading', { level: 1, name: 'Checkpoint rounds' }).waitFor()
    await page.getByTestId('round-row').first().waitFor()
    const rounds = async () => await page.getByTestId('round-row').evaluateAll((rows) => rows.map((row) => Number(row.getAttribute('data-round'))))
    const newest = Math.max(...(await rounds()))
    // A mark on the window survives only if the page is not loaded again.
    await page.evaluate(() => Object.assign(globalThis, { explorerTestMark: 'same page' }))
    await expect.poll(async () => Math.max(...(await rounds())), { timeout: 15_000 }).toBeGreaterThan(newest)
    expect(await page.evaluate(() => (globalThis as { explorerTestMark?: string }).explorerTestMark)).toBe('same page')
    await expect.poll(() => page.getByRole('table', { name: /^Certified rounds of/ }).count()).toBe(1)
    await screenshot('rounds')
  }, 30_000)

  it('shows the hierarchy, memes and contracts', async () => {
    await openSection('Hierarchy')
    await page.getByRole('heading', { level: 1, name: 'Hierarchy' }).waitFor()
    await expect
      .poll(() => page.getByTestId('hierarchy-summary').textContent(), { timeout: 10_000 })
      .toMatch(/single solar system, explorer-browser, and it is the network's root/)
    await screenshot('hierarchy')

    await openSection('Memes')
    await page.getByRole('heading', { level: 1, name: 'Memes and elections' }).waitFor()
    const memes = page.getByRole('table', { name: /members' memes/ })
    await memes.waitFor()
    expect(await memes.locator('tbody tr').count()).toBe(4)
    await page.getByRole('table', { name: /^Facilitators elected by the last/ }).waitFor()
    await screenshot('memes')

    await openSection('Contracts')
    const hosted = page.getByRole('table', { name: /contracts?, in deploy order/ })
    await hosted.waitFor()
    expect(await hosted.textContent()).toContain('(input: integer, state: integer) => integer')
    await screenshot('contracts')
    await hosted.locator('tbody th a').first().click()
    await page.getByRole('heading', { level: 1, name: /^Contract/ }).waitFor()
    await page.getByRole('heading', { level: 3, name: 'Committed state' }).waitFor()
    expect(await page.locator('pre.json-block').textContent()).toBe('5')
    const invocations = page.getByRole('table', { name: /invocations?, newest first/ })
    await invocations.waitFor({ timeout: 10_000 })
    expect(await invocations.locator('tbody tr').count()).toBe(1)
    await screenshot('contract')

    // A checkpoint in the DAG opens its block's page, and from there its chain.
    await openSection('Overview')
    await page.locator('[data-testid="dag-block"][data-role="checkpoint"]').first().click()
    await page.getByRole('heading', { level: 1, name: /^Block/ }).waitFor()
    const facts = page.locator('dl[aria-label="Half-block"]')
    await facts.waitFor()
    expect(
      await facts
        .locator('dd')
        .filter({ hasText: /^checkpoint$/ })
        .count(),
    ).toBe(1)
    await facts.locator('dd a').nth(1).click()
    await page.getByRole('table', { name: /^Blocks #\d+–#\d+ of this chain/ }).waitFor()
    await screenshot('chain')
  }, 30_000)
})
