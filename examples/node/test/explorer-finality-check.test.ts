/**
 * The explorer's in-browser finality check (explorer/src/model/finality-check.ts) against real data: three
 * in-process nodes, two transfers made final, their proofs (the two halves, the certificate of the round that
 * finalised the transfer and the Merkle path into it) and the certificates from GET /v1/consensus/rounds, read over
 * HTTP as the page reads them and checked with the noble backend the page uses. A proof holds; a tampered
 * certificate in the chain, a proof half with a changed signature, genuine halves shown with another field, a
 * transfer re-signed by both parties with another amount, another transaction's path, a proof certificate the
 * committee signed but the chain does not hold (a forked round), a proof certificate short of a signature or with a
 * changed one, and another transaction's proof each fail with their reason; a proof that would need more
 * certificates than the page checks is declined before any is fetched; a second transaction extends the verified
 * history instead of checking it again from round 1.
 */
import {
  type AgreementProof,
  certificateDigest,
  decodeAgreementProof,
  decodeCertificate,
  encodeAgreementProof,
  encodeCertificate,
} from '@constellation/consensus'
import { createCrypto, fromHex, nobleBackend, toHex } from '@constellation/crypto'
import { blockHash, type HalfBlock, signBlock } from '@constellation/trustchain'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FinalitySource, FinalityChecker, type ShownTransaction } from '../explorer/src/model/finality-check.js'
import { transactionView } from '../src/api/views/transaction-view.js'
import { genesisFingerprint } from '../src/config/network-genesis-form.js'
import type { ExplorerAsset } from '../src/explorer/explorer-assets.js'
import type { GenesisBody, ProofBody, RoundsBody, TransactionView } from './api-bodies.js'
import { call, startNetwork, type TestNetwork } from './explorer-api-harness.js'

const crypto = createCrypto(nobleBackend)
const bundler = async (): Promise<readonly ExplorerAsset[]> => []

let net: TestNetwork
const url = (path: string) => net.url(0, path)
/** Two final transactions as the page shows them, with their proofs' hex. */
const finals: { readonly view: ShownTransaction; readonly proof: string; readonly summary: unknown }[] = []

/** A transfer from node 0 to node 1, followed over HTTP until final; its view then (with both halves) and its proof. */
async function finalTransfer(amount: number): Promise<(typeof finals)[number]> {
  const sent = await call<TransactionView>(url('/v1/transactions'), { method: 'POST', body: { to: net.nodes[1]?.id, amount } })
  // Agreed, or pending when the answer took longer than the node waits: either way it goes on to final.
  expect([201, 202]).toContain(sent.status)
  const id = sent.json.id as string
  for (const deadline = Date.now() + 30_000; ; ) {
    const shown = await call<TransactionView>(url(`/v1/transactions/${id}`))
    if (shown.json.status === 'final') {
      const reply = await call<ProofBody>(url(`/v1/transactions/${id}/proof`))
      if (reply.status === 200) return { view: shown.json as ShownTransaction, proof: reply.json.proof as string, summary: reply.json.summary }
    }
    if (Date.now() > deadline) throw new Error(`transaction ${id} not final with a proof in time: ${shown.text}`)
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
    genesis: async () => (await call<GenesisBody>(url('/v1/genesis'))).json,
    async rounds(from, limit) {
      froms.push(from)
      const { json } = await call<RoundsBody>(url(`/v1/consensus/rounds?from=${from}&limit=${limit}`))
      return {
        latestRound: json.latestRound,
        rounds: json.rounds.map((view: { round: number; hex: string }) => ({ round: view.round, hex: tamper(view.round, view.hex) })),
      }
    },
  }
}

const flip = (bytes: Uint8Array) => Uint8Array.from(bytes, (byte, i) => (i === 0 ? byte ^ 1 : byte))
const decoded = (proof: string): AgreementProof => decodeAgreementProof(crypto, fromHex(proof))
const roundOf = (proof: string) => decoded(proof).certificate.result.body.round
const encoded = (proof: AgreementProof) => toHex(encodeAgreementProof(proof))

/** The test node that signs as `publicKey` (hex). */
function keyPairOf(publicKey: string) {
  const keyPair = net.keyPairs.find((candidate) => toHex(candidate.publicKey) === publicKey)
  if (keyPair === undefined) throw new Error(`no test node signs as ${publicKey}`)
  return keyPair
}

describe('FinalityChecker', () => {
  it('verifies both proofs from the genesis, the second on the history the first verified', async () => {
    const [first, second] = finals as [(typeof finals)[number], (typeof finals)[number]]
    const from = source()
    const checker = new FinalityChecker(crypto, from)
    const progress: number[] = []
    const verdict = await checker.verify(first.view, first.proof, (step) => progress.push(step.certificates))
    expect(verdict).toEqual({
      verified: true,
      // Rounds 1 to the one whose certificate finalised the transfer.
      certificates: roundOf(first.proof),
      fingerprint: genesisFingerprint(crypto, net.nodes[0]!.genesis),
      signatures: expect.any(Number),
      // The page's own summary of the proof it verified: the same as an honest node's.
      summary: first.summary,
    })
    if (!verdict.verified) return
    // Each certificate carries a quorum of signatures, the proof's halves theirs.
    expect(verdict.signatures).toBeGreaterThan(verdict.certificates)
    expect(verdict.summary).toMatchObject({ round: roundOf(first.proof), finalised: expect.any(Number), leaf: expect.any(Number) })
    expect(verdict.summary.leaf).toBeLessThan(verdict.summary.finalised)
    expect(progress.at(-1)).toBe(roundOf(first.proof))
    expect(from.froms[0]).toBe(1)

    const again = await checker.verify(second.view, second.proof)
    expect(again).toMatchObject({ verified: true, certificates: Math.max(roundOf(first.proof), roundOf(second.proof)) })
    expect(from.froms.filter((round) => round === 1)).toHaveLength(1)
  })

  it('fails on a certificate of the chain whose signature was changed, naming the round', async () => {
    const [first] = finals as [(typeof finals)[number]]
    // The chain is checked from round 1 up to the proof's round: round 2 is among those checked.
    expect(roundOf(first.proof)).toBeGreaterThanOrEqual(2)
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

  it('fails on a proof whose agreement half carries a changed signature', async () => {
    const [first] = finals as [(typeof finals)[number]]
    const proof = decoded(first.proof)
    // Same hash (the signature is not hashed): only the signature is wrong.
    const agreement = { ...proof.agreement, signature: flip(proof.agreement.signature) }
    const tampered = encoded({ ...proof, agreement })
    const checker = new FinalityChecker(crypto, source())
    // Beside the genuine transaction, the block shown differs from the proof's (its signature is shown too)...
    expect(await checker.verify(first.view, tampered)).toEqual({
      verified: false,
      reason: "the node shows a agreement that is not the one of the proof's transaction",
    })
    // ... and a node that shows the block it sent is caught by the signature check.
    const shown = transactionView(crypto, { id: first.view.id, status: 'final', proposal: proof.proposal, agreement })
    expect(await checker.verify(shown, tampered)).toEqual({ verified: false, reason: 'the agreement proof does not hold: a half is not signed by its author' })
  })

  it('declines a proof that would need more certificates checked than the page allows, before fetching any', async () => {
    const [first] = finals as [(typeof finals)[number]]
    const from = source()
    const verdict = await new FinalityChecker(crypto, from, { maxCertificates: 1 }).verify(first.view, first.proof)
    expect(verdict.verified).toBe(false)
    if (!verdict.verified) {
      expect(verdict.reason).toBe(
        `the proof is of round ${roundOf(first.proof)}: checking the ${roundOf(first.proof)} certificates from the genesis to it is more than this page does (1 at most); check it with the consensus package's verifyAgreementProof`,
      )
    }
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
      expect(await checker.verify(shown, first.proof)).toEqual({
        verified: false,
        reason: `the node shows a ${field} that is not the one of the proof's transaction`,
      })
    }
    // Key order is not a difference: the node's JSON may list fields in any order.
    const reordered = Object.fromEntries(Object.entries(first.view).reverse()) as unknown as ShownTransaction
    expect(await checker.verify(reordered, first.proof)).toMatchObject({ verified: true })
  })

  it('fails on a transfer its two parties re-signed with another amount, shown as it is, beside the genuine certificate and path', async () => {
    const [first] = finals as [(typeof finals)[number]]
    const proof = decoded(first.proof)
    // Both halves valid and matching, signed by their authors: only the round did not finalise this transfer.
    const resign = (half: HalfBlock): HalfBlock =>
      signBlock(crypto, keyPairOf(toHex(half.publicKey)), {
        ...half,
        payload: { ...(half.payload as Record<string, HalfBlock['payload']>), amount: first.view.amount + 1 },
      })
    const proposal = resign(proof.proposal)
    const agreement = resign(proof.agreement)
    const id = toHex(blockHash(crypto, proposal))
    const shown = transactionView(crypto, { id, status: 'final', proposal, agreement })
    const verdict = await new FinalityChecker(crypto, source()).verify(shown, encoded({ ...proof, proposal, agreement }))
    expect(verdict).toEqual({
      verified: false,
      reason: `the agreement proof does not hold: the transaction is not among the transfers round ${roundOf(first.proof)} finalised`,
    })
  })

  it("fails on a proof carrying another transaction's certificate and path", async () => {
    const [first, second] = finals as [(typeof finals)[number], (typeof finals)[number]]
    const other = decoded(second.proof)
    const borrowed = encoded({ ...decoded(first.proof), certificate: other.certificate, path: other.path })
    const verdict = await new FinalityChecker(crypto, source()).verify(first.view, borrowed)
    expect(verdict).toEqual({
      verified: false,
      reason: `the agreement proof does not hold: the transaction is not among the transfers round ${roundOf(second.proof)} finalised`,
    })
  })

  it('fails on a proof whose certificate the committee signed but the chain does not hold (a forked round)', async () => {
    const [first] = finals as [(typeof finals)[number]]
    const proof = decoded(first.proof)
    const { certificate } = proof
    // The same round's committee signs another result for it: same ledger, another previous result.
    const result = { ...certificate.result, body: { ...certificate.result.body, previousResultHash: flip(certificate.result.body.previousResultHash) } }
    const digest = certificateDigest(crypto, result)
    const signatures = certificate.signatures.map(({ signer }) => ({ signer, signature: crypto.sign(digest, keyPairOf(signer)) }))
    const forked = encoded({ ...proof, certificate: { result, signatures } })
    const verdict = await new FinalityChecker(crypto, source()).verify(first.view, forked)
    expect(verdict).toEqual({
      verified: false,
      reason: `the proof's certificate of round ${certificate.result.body.round} is not the one the verified chain holds for that round`,
    })
  })

  it('fails on a proof whose certificate is short of a signature, or carries a changed one', async () => {
    const [first] = finals as [(typeof finals)[number]]
    const proof = decoded(first.proof)
    const { certificate } = proof
    const round = certificate.result.body.round
    const { quorum } = net.nodes[0]!.consensus.history.committeeFor(round)!
    // A certificate carries exactly a quorum of signatures: one fewer is not enough.
    expect(certificate.signatures).toHaveLength(quorum)
    const checker = new FinalityChecker(crypto, source())
    const short = encoded({ ...proof, certificate: { ...certificate, signatures: certificate.signatures.slice(1) } })
    expect(await checker.verify(first.view, short)).toEqual({
      verified: false,
      reason: `the agreement proof does not hold: the certificate of round ${round}: ${quorum - 1} signatures, ${quorum} needed`,
    })
    const [share, ...rest] = certificate.signatures
    const changed = encoded({ ...proof, certificate: { ...certificate, signatures: [{ signer: share!.signer, signature: flip(share!.signature) }, ...rest] } })
    expect(await checker.verify(first.view, changed)).toEqual({
      verified: false,
      reason: `the agreement proof does not hold: the certificate of round ${round}: the signature of ${share!.signer.slice(0, 16)} does not verify`,
    })
    // The genuine proof still holds on the same checker.
    expect(await checker.verify(first.view, first.proof)).toMatchObject({ verified: true })
  })

  it("fails on another transaction's proof, before fetching any certificate", async () => {
    const [first, second] = finals as [(typeof finals)[number], (typeof finals)[number]]
    const from = source()
    const verdict = await new FinalityChecker(crypto, from).verify(second.view, first.proof)
    expect(verdict).toEqual({
      verified: false,
      reason: `the proof is about proposal ${first.view.id.slice(0, 16)}…, not this transaction's ${second.view.id.slice(0, 16)}…`,
    })
    expect(from.froms).toEqual([])
  })
})
