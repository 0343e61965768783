/**
 * The explorer's in-browser finality check (explorer/src/model/finality-check.ts) against real data: three
 * in-process nodes, two transfers made final, their proofs and the certificates from GET /v1/consensus/rounds, read
 * over HTTP as the page reads them and checked with the noble backend the page uses. A proof holds; a tampered
 * certificate, a tampered block in a proof, genuine halves shown with another field, a proof closed by a forked
 * certificate and a proof of another transaction each fail with their reason; a second
 * transaction extends the verified history instead of checking it again from round 1.
 */
import { certificateDigest, decodeAgreementProof, decodeCertificate, encodeAgreementProof, encodeCertificate } from '@constellation/consensus'
import { createCrypto, fromHex, nobleBackend, toHex } from '@constellation/crypto'
import { decodeBlock } from '@constellation/trustchain'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FinalitySource, FinalityChecker, type ShownTransaction } from '../explorer/src/model/finality-check.js'
import { genesisFingerprint } from '../src/config/network-genesis-form.js'
import type { ExplorerAsset } from '../src/explorer/explorer-assets.js'
import { call, startNetwork, type TestNetwork } from './explorer-api-harness.js'

const crypto = createCrypto(nobleBackend)
const bundler = async (): Promise<readonly ExplorerAsset[]> => []

let net: TestNetwork
const url = (path: string) => net.url(0, path)
/** Two final transactions as the page shows them, with their proofs' hex. */
const finals: { readonly view: ShownTransaction; readonly proof: string; readonly summary: unknown }[] = []

async function finalTransfer(amount: number): Promise<(typeof finals)[number]> {
  const sent = await call(url('/v1/transactions'), { method: 'POST', body: { to: net.nodes[1]?.id, amount } })
  expect(sent.status).toBe(201)
  const halves = { proposal: decodeBlock(crypto, fromHex(sent.json.proposal.hex)), agreement: decodeBlock(crypto, fromHex(sent.json.agreement.hex)) }
  await net.nodes[0]!.consensus.waitForFinality(halves, { signal: AbortSignal.timeout(25_000) })
  for (const deadline = Date.now() + 10_000; ; ) {
    const reply = await call(url(`/v1/transactions/${sent.json.id}/proof`))
    if (reply.status === 200) return { view: sent.json as ShownTransaction, proof: reply.json.proof as string, summary: reply.json.summary }
    if (Date.now() > deadline) throw new Error(`no proof for ${sent.json.id}: ${reply.text}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

beforeAll(async () => {
  net = await startNetwork({ count: 3, bundler })
  finals.push(...(await Promise.all([finalTransfer(3), finalTransfer(4)])))
}, 60_000)

afterAll(async () => {
  await net?.close()
})

/** Node 0 over HTTP, each certificate's hex passed through `tamper`; the `from` of every rounds request is kept. */
function source(tamper: (round: number, hex: string) => string = (_, hex) => hex): FinalitySource & { readonly froms: number[] } {
  const froms: number[] = []
  return {
    froms,
    genesis: async () => (await call(url('/v1/genesis'))).json,
    async rounds(from, limit) {
      froms.push(from)
      const { json } = await call(url(`/v1/consensus/rounds?from=${from}&limit=${limit}`))
      return { latestRound: json.latestRound, rounds: json.rounds.map((view: { round: number; hex: string }) => ({ round: view.round, hex: tamper(view.round, view.hex) })) }
    },
  }
}

const flip = (bytes: Uint8Array) => Uint8Array.from(bytes, (byte, i) => (i === 0 ? byte ^ 1 : byte))

describe('FinalityChecker', () => {
  it('verifies both proofs from the genesis, the second on the history the first verified', async () => {
    const [first, second] = finals as [(typeof finals)[number], (typeof finals)[number]]
    const from = source()
    const checker = new FinalityChecker(crypto, from)
    const progress: number[] = []
    const verdict = await checker.verify(first.view, first.proof, (step) => progress.push(step.certificates))
    const closing = (proof: string) => {
      const decoded = decodeAgreementProof(crypto, fromHex(proof))
      return Math.max(decoded.proposalSide.closing.result.body.round, decoded.agreementSide.closing.result.body.round)
    }
    expect(verdict).toEqual({
      verified: true,
      certificates: closing(first.proof),
      fingerprint: genesisFingerprint(crypto, net.nodes[0]!.genesis),
      signatures: expect.any(Number),
      // The page's own summary of the proof it verified: the same as an honest node's.
      summary: first.summary,
    })
    if (!verdict.verified) return
    // Each certificate carries a quorum of signatures, the proof's halves and fragments theirs.
    expect(verdict.signatures).toBeGreaterThan(verdict.certificates)
    expect(progress.at(-1)).toBe(closing(first.proof))
    expect(from.froms[0]).toBe(1)

    const again = await checker.verify(second.view, second.proof)
    expect(again).toMatchObject({ verified: true, certificates: Math.max(closing(first.proof), closing(second.proof)) })
    expect(from.froms.filter((round) => round === 1)).toHaveLength(1)
  })

  it('fails on a certificate whose signature was changed, naming the round', async () => {
    const [first] = finals as [(typeof finals)[number]]
    const tampered = source((round, hex) => {
      if (round !== 2) return hex
      const certificate = decodeCertificate(fromHex(hex))
      const [share, ...rest] = certificate.signatures
      return toHex(encodeCertificate({ ...certificate, signatures: [{ signer: share!.signer, signature: flip(share!.signature) }, ...rest] }))
    })
    const verdict = await new FinalityChecker(crypto, tampered).verify(first.view, first.proof)
    expect(verdict.verified).toBe(false)
    if (!verdict.verified) expect(verdict.reason).toMatch(/^the certificate chain does not hold after round \d+: invalid certificate for round 2/)
  })

  it('fails on a proof whose fragment holds a block with a changed signature', async () => {
    const [first] = finals as [(typeof finals)[number]]
    const proof = decodeAgreementProof(crypto, fromHex(first.proof))
    const [opening, ...rest] = proof.proposalSide.fragment.blocks
    const forged = { ...opening!, signature: flip(opening!.signature) }
    const tampered = toHex(encodeAgreementProof({ ...proof, proposalSide: { ...proof.proposalSide, fragment: { ...proof.proposalSide.fragment, blocks: [forged, ...rest] } } }))
    const verdict = await new FinalityChecker(crypto, source()).verify(first.view, tampered)
    expect(verdict.verified).toBe(false)
    if (!verdict.verified) expect(verdict.reason).toMatch(/^the agreement proof does not hold: proposal side: /)
  })

  it('declines a proof that would need more certificates checked than the page allows, before fetching any', async () => {
    const [first] = finals as [(typeof finals)[number]]
    const from = source()
    const verdict = await new FinalityChecker(crypto, from, { maxCertificates: 1 }).verify(first.view, first.proof)
    expect(verdict.verified).toBe(false)
    if (!verdict.verified) expect(verdict.reason).toMatch(/^the proof closes in round \d+: checking the \d+ certificates from the genesis to it is more than this page does \(1 at most\)/)
    expect(from.froms).toEqual([])
  })

  it('fails when the node shows the genuine halves beside another amount, party or block field', async () => {
    const [first] = finals as [(typeof finals)[number]]
    const checker = new FinalityChecker(crypto, source())
    const otherKey = net.nodes[2]!.id
    const lies: [string, ShownTransaction][] = [
      ['amount', { ...first.view, amount: first.view.amount + 1_000 }],
      ['to', { ...first.view, to: otherKey }],
      ['proposal', { ...first.view, proposal: { ...first.view.proposal, timestamp: first.view.proposal.timestamp + 1 } }],
      ['agreement', { ...first.view, agreement: { ...first.view.agreement!, payload: { amount: 1 } } }],
    ]
    for (const [field, shown] of lies) {
      expect(await checker.verify(shown, first.proof)).toEqual({ verified: false, reason: `the node shows a ${field} that is not the one of the proof's transaction` })
    }
    // Key order is not a difference: the node's JSON may list fields in any order.
    const reordered = Object.fromEntries(Object.entries(first.view).reverse()) as unknown as ShownTransaction
    expect(await checker.verify(reordered, first.proof)).toMatchObject({ verified: true })
  })

  it('fails on a proof whose closing certificate the committee signed but the chain does not hold (a forked round)', async () => {
    const [first] = finals as [(typeof finals)[number]]
    const proof = decodeAgreementProof(crypto, fromHex(first.proof))
    const { closing } = proof.proposalSide
    // The same round's committee signs another result for it: same checkpoints, another previous result.
    const result = { ...closing.result, body: { ...closing.result.body, previousResultHash: flip(closing.result.body.previousResultHash) } }
    const digest = certificateDigest(crypto, result)
    const signatures = closing.signatures.map(({ signer }) => {
      const node = net.nodes.find((candidate) => candidate.id === signer)
      if (node === undefined) throw new Error(`no test node signs as ${signer}`)
      return { signer, signature: crypto.sign(digest, node.keyPair) }
    })
    const forked = toHex(encodeAgreementProof({ ...proof, proposalSide: { ...proof.proposalSide, closing: { result, signatures } } }))
    const verdict = await new FinalityChecker(crypto, source()).verify(first.view, forked)
    expect(verdict).toEqual({
      verified: false,
      reason: `the proof's certificate of round ${closing.result.body.round} is not the one the verified chain holds for that round`,
    })
  })

  it("fails on another transaction's proof, before fetching any certificate", async () => {
    const [first, second] = finals as [(typeof finals)[number], (typeof finals)[number]]
    const from = source()
    const verdict = await new FinalityChecker(crypto, from).verify(second.view, first.proof)
    expect(verdict).toEqual({ verified: false, reason: `the proof is about proposal ${first.view.id.slice(0, 16)}…, not this transaction's ${second.view.id.slice(0, 16)}…` })
    expect(from.froms).toEqual([])
  })
})
