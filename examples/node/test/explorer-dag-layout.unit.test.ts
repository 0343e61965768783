/** The DAG's layout: lanes per chain, blocks right-aligned by sequence number, proposal→agreement links, voids. */
import { describe, expect, it } from 'vitest'
import { DEFAULT_DAG_LAYOUT, describeBlock, layoutDag } from '../explorer/src/model/dag-layout.js'
import type { DagBlock, DagChain, DagView } from '../src/explorer/explorer-views.js'

const A = 'a'.repeat(64)
const B = 'b'.repeat(64)
const C = 'c'.repeat(64)

function block(publicKey: string, sequenceNumber: number, fields: Partial<DagBlock> = {}): DagBlock {
  return {
    hash: `${publicKey.slice(0, 2)}${String(sequenceNumber).padStart(62, '0')}`,
    publicKey,
    sequenceNumber,
    role: 'checkpoint',
    linkPublicKey: publicKey,
    linkSequenceNumber: 0,
    timestamp: 1_700_000_000_000 + sequenceNumber,
    amount: 0,
    transactionId: null,
    certifiedRound: null,
    certified: false,
    ...fields,
  }
}

function chain(publicKey: string, blocks: DagBlock[], fields: Partial<DagChain> = {}): DagChain {
  return { publicKey, kind: 'member', self: false, height: blocks.at(-1)?.sequenceNumber ?? 0, blocks, ...fields }
}

// A proposes to B (A#3 → B#5), B proposes to A (B#6 → A#4); C is a short contract chain.
const proposalA = block(A, 3, { role: 'proposal', linkPublicKey: B, amount: 7, transactionId: `${'d'.repeat(64)}` })
const agreementB = block(B, 5, { role: 'agreement', linkPublicKey: A, linkSequenceNumber: 3, amount: 7, transactionId: proposalA.transactionId })
const proposalB = block(B, 6, { role: 'proposal', linkPublicKey: A, amount: 2, transactionId: null })
const agreementA = block(A, 4, { role: 'agreement', linkPublicKey: B, linkSequenceNumber: 6, amount: 2 })
const view: DagView = {
  latestRound: 9,
  omittedChains: 0,
  chains: [
    chain(A, [block(A, 1, { role: 'genesis' }), block(A, 2, { certifiedRound: 4, certified: true }), proposalA, agreementA], { self: true }),
    chain(B, [block(B, 3), block(B, 4), agreementB, proposalB]),
    chain(C, [block(C, 1, { role: 'genesis' })], { kind: 'contract' }),
  ],
}

describe('layoutDag', () => {
  const layout = layoutDag(view)
  const placed = (publicKey: string, sequenceNumber: number) => {
    const found = layout.blocks.find((p) => p.block.publicKey === publicKey && p.block.sequenceNumber === sequenceNumber)
    if (found === undefined) throw new Error(`no block ${publicKey.slice(0, 2)}#${sequenceNumber}`)
    return found
  }
  const { labelWidth, columnWidth, laneHeight } = DEFAULT_DAG_LAYOUT
  const columnX = (column: number) => labelWidth + column * columnWidth + columnWidth / 2

  it('gives each chain a lane, in the order the node lists them', () => {
    expect(layout.lanes.map((lane) => [lane.publicKey, lane.y, lane.self, lane.kind])).toEqual([
      [A, laneHeight / 2, true, 'member'],
      [B, laneHeight * 1.5, false, 'member'],
      [C, laneHeight * 2.5, false, 'contract'],
    ])
    expect(layout.height).toBe(3 * laneHeight)
  })

  it('puts each chain newest block in the last column and the others by sequence number', () => {
    expect(layout.columns).toBe(4)
    expect(layout.width).toBe(labelWidth + 4 * columnWidth)
    expect([1, 2, 3, 4].map((n) => placed(A, n).x)).toEqual([0, 1, 2, 3].map(columnX))
    expect([3, 4, 5, 6].map((n) => placed(B, n).x)).toEqual([0, 1, 2, 3].map(columnX))
    expect(placed(C, 1).x).toBe(columnX(3))
  })

  it('leaves a crawled chain gaps where blocks are missing', () => {
    const gappy = layoutDag({ latestRound: 1, chains: [chain(A, [block(A, 2), block(A, 7)])], omittedChains: 0 })
    expect(gappy.columns).toBe(6)
    expect(gappy.blocks.map((p) => p.x)).toEqual([columnX(0), columnX(5)])
  })

  it('links each proposal to the agreement that answers it', () => {
    expect(layout.links).toEqual([
      { from: proposalB.hash, to: agreementA.hash, x1: placed(B, 6).x, y1: placed(B, 6).y, x2: placed(A, 4).x, y2: placed(A, 4).y },
      { from: proposalA.hash, to: agreementB.hash, x1: placed(A, 3).x, y1: placed(A, 3).y, x2: placed(B, 5).x, y2: placed(B, 5).y },
    ])
  })

  it('draws no link to a proposal outside the view', () => {
    const lone = layoutDag({ latestRound: 1, chains: [chain(B, [agreementB])], omittedChains: 0 })
    expect(lone.links).toEqual([])
  })

  it('sends a click to the transaction when known, else to the block', () => {
    expect(placed(A, 3).target).toEqual({ view: 'transaction', id: proposalA.transactionId })
    expect(placed(B, 6).target).toEqual({ view: 'block', hash: proposalB.hash })
    expect(placed(A, 2).target).toEqual({ view: 'block', hash: placed(A, 2).block.hash })
  })

  it('links no void, and sends a click on one to the refused transaction it undid', () => {
    // A#5 proposes to B, B refuses, A#6 voids it (a void links to its own chain's proposal).
    const refused = block(A, 5, { role: 'proposal', linkPublicKey: B, amount: 9, transactionId: 'e'.repeat(64) })
    const voided = block(A, 6, { role: 'void', linkPublicKey: A, linkSequenceNumber: 5, amount: 9, transactionId: refused.transactionId })
    const drawn = layoutDag({ latestRound: 1, chains: [chain(A, [refused, voided]), chain(B, [block(B, 1, { role: 'genesis' })])], omittedChains: 0 })
    expect(drawn.links).toEqual([])
    expect(drawn.blocks.find((p) => p.block.role === 'void')?.target).toEqual({ view: 'transaction', id: refused.transactionId })
    expect(describeBlock(voided)).toBe('void #6, undoes refused proposal #5, 9 units returned')
    expect(layoutDag({ latestRound: 1, chains: [chain(A, [{ ...voided, transactionId: null }])], omittedChains: 0 }).blocks[0]?.target).toEqual({
      view: 'block',
      hash: voided.hash,
    })
  })

  it('lays out an empty view without dividing by nothing', () => {
    const empty = layoutDag({ latestRound: 0, chains: [], omittedChains: 0 })
    expect(empty).toMatchObject({ columns: 1, lanes: [], blocks: [], links: [], height: laneHeight })
  })

  it('describes blocks in words', () => {
    expect(describeBlock(placed(A, 2).block)).toBe('checkpoint #2, certified in round 4')
    expect(describeBlock(placed(B, 4).block)).toBe('checkpoint #4, not certified yet')
    expect(describeBlock({ ...placed(B, 4).block, certified: true })).toBe('checkpoint #4, named by no round, below a certified checkpoint')
    expect(describeBlock(proposalA)).toBe('proposal #3, 7 units, to bbbbbbbb')
    expect(describeBlock({ ...agreementB, certified: true })).toBe('agreement #5, 7 units, answering aaaaaaaa #3, under a certified checkpoint')
  })
})
