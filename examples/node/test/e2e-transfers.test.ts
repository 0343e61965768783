/**
 * End to end, with real node processes on 127.0.0.1 (`constellation start`, as a user runs it): transfers submitted
 * through the HTTP API of one node to another become final, and each one's agreement proof, fetched over HTTP, is
 * checked here against a certificate chain fetched over HTTP and verified from the genesis — the client trusts
 * nothing but the genesis file.
 */
import {
  checkAgreementProof,
  committeesOf,
  decodeAgreementProof,
  decodeCertificate,
  verifyAgreementProof,
  verifyCertificateChain,
} from '@constellation/consensus'
import { fromHex, loadCrypto } from '@constellation/crypto'
import * as t from 'io-ts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { solarSystemOf } from '../src/config/network-genesis.js'
import type { DevnetCluster } from '../src/devnet/devnet-cluster.js'
import { type LocalDevnet, startLocalDevnet } from '../src/devnet/local-devnet.js'
import { pollUntil } from '../src/devnet/poll-until.js'

const crypto = await loadCrypto()
const BALANCE = 1_000_000

const TransactionCodec = t.type({ id: t.string, status: t.string, from: t.string, to: t.string, amount: t.number })
const ProofCodec = t.type({ id: t.string, proof: t.string })

let devnet: LocalDevnet | undefined
let cluster: DevnetCluster | undefined

beforeAll(async () => {
  devnet = await startLocalDevnet({ crypto, name: 'e2e-transfers', nodes: 4, facilitators: 4, balance: BALANCE })
  cluster = devnet.cluster
}, 75_000)

afterAll(async () => {
  const reports = (await devnet?.close()) ?? []
  // Every node stopped cleanly on SIGTERM.
  expect(reports.filter((report) => report.failed)).toEqual([])
}, 30_000)

describe('transfers between node processes', () => {
  it('become final, and their agreement proofs verify against the certificate chain from the genesis', async () => {
    const nodes = (cluster as DevnetCluster).nodes
    // Node i sends i + 1 units to node i + 1: each balance moves by a different amount.
    const submitted = await Promise.all(
      nodes.map((node, i) => {
        const to = nodes[(i + 1) % nodes.length]?.layout.id as string
        return node.api.post('/v1/transactions', { to, amount: i + 1 }, TransactionCodec)
      }),
    )
    for (const [i, transaction] of submitted.entries()) {
      expect(transaction).toMatchObject({ status: 'agreed', from: nodes[i]?.layout.id, to: nodes[(i + 1) % nodes.length]?.layout.id, amount: i + 1 })
    }

    // Final as the proposer and as the counterparty see it: both learn it from the certified result that finalised it.
    await pollUntil(
      () =>
        Promise.all(
          submitted.flatMap((transaction, i) =>
            [i, (i + 1) % nodes.length].map(
              async (holder) => (await (nodes[holder] as (typeof nodes)[number]).api.get(`/v1/transactions/${transaction.id}`, TransactionCodec)).status,
            ),
          ),
        ),
      (statuses) => statuses.every((status) => status === 'final'),
      { timeoutMs: 30_000, what: 'every transfer to be final on its proposer and its counterparty' },
    )

    const genesis = solarSystemOf((cluster as DevnetCluster).layout.genesis, 'e2e-transfers').genesis
    for (const [i, transaction] of submitted.entries()) {
      // The proof is fetched from the proposer, the certificates from a third node.
      const proposer = nodes[i] as (typeof nodes)[number]
      const { proof } = await proposer.api.get(`/v1/transactions/${transaction.id}/proof`, ProofCodec)
      const decoded = decodeAgreementProof(crypto, fromHex(proof))
      const third = nodes[(i + 2) % nodes.length] as (typeof nodes)[number]
      const certificates = (await third.api.certifiedRounds()).map((round) => decodeCertificate(fromHex(round.hex)))
      const history = await verifyCertificateChain(crypto, genesis, certificates)
      const committees = committeesOf(history)
      expect(await checkAgreementProof(crypto, decoded, committees)).toBeUndefined()
      await verifyAgreementProof(crypto, decoded, committees)
      // The check can fail: the path of another leaf, or the same certificate with a signature missing.
      expect(
        await checkAgreementProof(crypto, { ...decoded, path: { ...decoded.path, index: (decoded.path.index + 1) % (decoded.path.leaves + 1) } }, committees),
      ).toBeDefined()
      const stripped = { ...decoded.certificate, signatures: decoded.certificate.signatures.slice(1) }
      expect(await checkAgreementProof(crypto, { ...decoded, certificate: stripped }, committees)).toMatch(/signatures/)
    }

    // In a network of one solar system there is nothing above to root the proof in: asking for it is refused plainly.
    const first = nodes[0] as (typeof nodes)[number]
    const rooted = await first.api.exchange('GET', `/v1/transactions/${submitted[0]?.id}/proof?rooted=true`, undefined)
    expect(rooted.status).toBe(400)
    expect(rooted.body).toMatchObject({ error: { code: 'INVALID_REQUEST', message: expect.stringMatching(/is the network's root/) } })
    expect((await first.api.exchange('GET', `/v1/transactions/${submitted[0]?.id}/proof?rooted=maybe`, undefined)).status).toBe(400)

    // Balances moved by exactly the amounts transferred: node i paid i + 1 and received i (node 0 received 4).
    const statuses = await Promise.all(nodes.map((node) => node.api.status()))
    expect(statuses.map((status) => status.balance)).toEqual([BALANCE - 1 + 4, BALANCE - 2 + 1, BALANCE - 3 + 2, BALANCE - 4 + 3])
  }, 60_000)
})
