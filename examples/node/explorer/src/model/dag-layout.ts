/**
 * Lays out the DAG of personal chains for the explorer's SVG: one lane per chain, each block in the column of its
 * sequence number, the newest blocks of every chain at the right edge (chains have different heights, and what
 * people watch is the recent end), and a link from each proposal to the agreement that answers it in another lane.
 * Pure: the view draws what this returns, and the unit tests check the geometry without a browser.
 */
import type { DagBlock, DagBlockRole, DagChain, DagView } from '../../../src/explorer/explorer-views.js'

export interface DagLayoutOptions {
  /** Width of the lane labels on the left. */
  readonly labelWidth: number
  readonly columnWidth: number
  readonly laneHeight: number
  /** Side of a block's square. */
  readonly blockSize: number
}

export const DEFAULT_DAG_LAYOUT: DagLayoutOptions = { labelWidth: 168, columnWidth: 40, laneHeight: 44, blockSize: 22 }

export interface DagLane {
  readonly publicKey: string
  readonly kind: DagChain['kind']
  readonly self: boolean
  readonly height: number
  /** Centre line of the lane. */
  readonly y: number
}

export interface PlacedBlock {
  readonly block: DagBlock
  /** Centre of the block. */
  readonly x: number
  readonly y: number
  /** Where a click leads: the transaction of a proposal, agreement or void when known, else the block itself. */
  readonly target: { readonly view: 'transaction'; readonly id: string } | { readonly view: 'block'; readonly hash: string }
}

export interface DagLink {
  /** The proposal's hash. */
  readonly from: string
  /** The agreement's hash. */
  readonly to: string
  readonly x1: number
  readonly y1: number
  readonly x2: number
  readonly y2: number
}

export interface DagLayout {
  readonly width: number
  readonly height: number
  readonly columns: number
  readonly lanes: readonly DagLane[]
  readonly blocks: readonly PlacedBlock[]
  readonly links: readonly DagLink[]
}

const positionKey = (publicKey: string, sequenceNumber: number) => `${publicKey}:${sequenceNumber}`

/** Columns the view needs: the widest span of sequence numbers any one chain shows (gaps included). */
function columnsOf(chains: readonly DagChain[]): number {
  let columns = 1
  for (const chain of chains) {
    const first = chain.blocks[0]
    const last = chain.blocks.at(-1)
    if (first !== undefined && last !== undefined) columns = Math.max(columns, last.sequenceNumber - first.sequenceNumber + 1)
  }
  return columns
}

function targetOf(block: DagBlock): PlacedBlock['target'] {
  const carriesTransaction: readonly DagBlockRole[] = ['proposal', 'agreement', 'void']
  return carriesTransaction.includes(block.role) && block.transactionId !== null
    ? { view: 'transaction', id: block.transactionId }
    : { view: 'block', hash: block.hash }
}

export function layoutDag(view: DagView, options: DagLayoutOptions = DEFAULT_DAG_LAYOUT): DagLayout {
  const columns = columnsOf(view.chains)
  const lanes: DagLane[] = []
  const blocks: PlacedBlock[] = []
  const byPosition = new Map<string, PlacedBlock>()
  for (const [index, chain] of view.chains.entries()) {
    const y = index * options.laneHeight + options.laneHeight / 2
    lanes.push({ publicKey: chain.publicKey, kind: chain.kind, self: chain.self, height: chain.height, y })
    const newest = chain.blocks.at(-1)?.sequenceNumber ?? 0
    for (const block of chain.blocks) {
      // Right-aligned: the chain's newest shown block sits in the last column.
      const column = columns - 1 - (newest - block.sequenceNumber)
      const placed: PlacedBlock = { block, x: options.labelWidth + column * options.columnWidth + options.columnWidth / 2, y, target: targetOf(block) }
      blocks.push(placed)
      byPosition.set(positionKey(block.publicKey, block.sequenceNumber), placed)
    }
  }
  const links: DagLink[] = []
  for (const placed of blocks) {
    const { block } = placed
    if (block.role !== 'agreement') continue
    // An agreement names the proposal it answers by the counterparty's key and sequence number.
    const proposal = byPosition.get(positionKey(block.linkPublicKey, block.linkSequenceNumber))
    if (proposal === undefined || proposal.block.role !== 'proposal') continue
    links.push({ from: proposal.block.hash, to: block.hash, x1: proposal.x, y1: proposal.y, x2: placed.x, y2: placed.y })
  }
  return {
    width: options.labelWidth + columns * options.columnWidth,
    height: Math.max(1, view.chains.length) * options.laneHeight,
    columns,
    lanes,
    blocks,
    links,
  }
}

/** What a block is, in words, for its accessible name and tooltip. */
export function describeBlock(block: DagBlock): string {
  const parts = [`${block.role} #${block.sequenceNumber}`]
  if (block.role === 'proposal' || block.role === 'agreement') {
    if (block.amount > 0) parts.push(`${block.amount} units`)
    parts.push(
      block.role === 'proposal' ? `to ${block.linkPublicKey.slice(0, 8)}` : `answering ${block.linkPublicKey.slice(0, 8)} #${block.linkSequenceNumber}`,
    )
  }
  if (block.role === 'void') parts.push(`undoes refused proposal #${block.linkSequenceNumber}${block.amount > 0 ? `, ${block.amount} units returned` : ''}`)
  if (block.role === 'checkpoint') {
    parts.push(
      block.certifiedRound !== null
        ? `certified in round ${block.certifiedRound}`
        : block.certified
          ? 'named by no round, below a certified checkpoint'
          : 'not certified yet',
    )
  } else if (block.certified) parts.push('under a certified checkpoint')
  return parts.join(', ')
}
