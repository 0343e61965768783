/**
 * The DAG of personal chains as this node stores them (`GET /v1/dag`): the last `perChain` blocks of this node's
 * chain and the other genesis members' (a bounded number of them), then of this node's contract host and caller
 * chains when the contracts module runs. Each block
 * says what it is (genesis, proposal, agreement, void, checkpoint), which transaction it belongs to (the proposal's
 * hash; for an agreement or a void, that of the linked proposal when it is stored here — a void's is the refused
 * transaction it undid), and how far certification reached: the round
 * whose certificate included a checkpoint block, and whether a block lies at or below its chain's latest certified
 * checkpoint. Read from the store and the consensus history, never from guesses: a crawled chain has gaps, and a
 * chain consensus does not checkpoint (a contract chain) is never certified.
 */
import { fromHex, toHex } from '@constellation/crypto'
import { blockHash, type HalfBlock, isAgreement, isProposal, isVoid, transferOf, VoidPayloadCodec } from '@constellation/trustchain'
import { networkMembers } from '../config/network-genesis.js'
import { nodeContracts } from '../contracts/contracts-module.js'
import type { FullNode } from '../node/full-node.js'
import type { DagBlock, DagBlockRole, DagChain, DagView } from './explorer-views.js'

/** Blocks per chain, at most and by default (the contract's `perChain`). */
export const MAX_DAG_PER_CHAIN = 50
export const DEFAULT_DAG_PER_CHAIN = 16

function roleOf(block: HalfBlock): DagBlockRole {
  if (block.type === 'genesis') return 'genesis'
  if (block.type === 'checkpoint') return 'checkpoint'
  if (isVoid(block)) return 'void'
  return isProposal(block) ? 'proposal' : 'agreement'
}

/** The value a block moves (a transfer's amount), or for a void the amount it returned. */
function amountOf(block: HalfBlock): number {
  if (isVoid(block)) return VoidPayloadCodec.is(block.payload) ? block.payload.amount : 0
  return transferOf(block.type, block.payload)?.amount ?? 0
}

/**
 * Member chains one answer shows at most: a genesis may name a thousand members, and the overview asks about once a
 * second per open page, so the work per request is bounded (and a thousand lanes would not be readable anyway).
 */
export const MAX_DAG_MEMBER_CHAINS = 32

/**
 * The chains the DAG shows, in order: this node's own chain, other genesis members' in genesis order (up to
 * `MAX_DAG_MEMBER_CHAINS` member chains in all), then this node's contract chains.
 */
function chainsShown(node: FullNode): { readonly shown: { readonly publicKey: string; readonly kind: DagChain['kind'] }[]; readonly omitted: number } {
  const ids = networkMembers(node.genesis).map((member) => member.id)
  const ordered = ids.includes(node.id) ? [node.id, ...ids.filter((id) => id !== node.id)] : ids
  const members = ordered.slice(0, MAX_DAG_MEMBER_CHAINS).map((publicKey) => ({ publicKey, kind: 'member' as const }))
  const contracts = nodeContracts(node)
  const contractKeys = contracts === undefined ? [] : [contracts.hostKey, contracts.callerKey].filter((key): key is string => key !== undefined)
  return { shown: [...members, ...contractKeys.map((publicKey) => ({ publicKey, kind: 'contract' as const }))], omitted: ordered.length - members.length }
}

/**
 * Certification of one chain's blocks from `from` on: the round that certified each checkpoint (by sequence number,
 * matched on the certified hash too) and the highest certified sequence number.
 */
function certificationOf(node: FullNode, publicKey: string, from: number) {
  const certified = node.consensus.history.checkpointsOf(publicKey)
  const rounds = new Map<number, { readonly round: number; readonly hash: string }>()
  // Ascending: only the tail that reaches into the blocks shown is read.
  for (let i = certified.length - 1; i >= 0; i--) {
    const ref = certified[i]
    if (ref === undefined || ref.entry.sequenceNumber < from) break
    rounds.set(ref.entry.sequenceNumber, { round: ref.round, hash: toHex(ref.entry.hash) })
  }
  return { rounds, highest: certified.at(-1)?.entry.sequenceNumber ?? 0 }
}

export async function dagView(node: FullNode, perChain: number): Promise<DagView> {
  const { crypto, store } = node
  const { shown, omitted } = chainsShown(node)
  const chains = await Promise.all(
    shown.map(async ({ publicKey, kind }): Promise<DagChain> => {
      const key = fromHex(publicKey)
      const height = (await store.latest(key))?.sequenceNumber ?? 0
      const from = Math.max(1, height - perChain + 1)
      const blocks = height === 0 ? [] : await store.range(key, from, height)
      const { rounds, highest } = certificationOf(node, publicKey, from)
      // The proposals the agreements answer and the voids undo, in one round trip, for their transaction ids.
      const answering = blocks.filter((block) => isAgreement(block) || isVoid(block))
      const linked = await store.getMany(answering.map((block) => ({ publicKey: block.linkPublicKey, sequenceNumber: block.linkSequenceNumber })))
      const proposalOf = new Map(answering.map((block, i) => [block.sequenceNumber, linked[i]]))
      return {
        publicKey,
        kind,
        self: publicKey === node.id,
        height,
        blocks: blocks.map((block): DagBlock => {
          const hash = toHex(blockHash(crypto, block))
          const role = roleOf(block)
          const proposal = role === 'proposal' ? block : proposalOf.get(block.sequenceNumber)
          const certifiedHere = rounds.get(block.sequenceNumber)
          return {
            hash,
            publicKey,
            sequenceNumber: block.sequenceNumber,
            role,
            linkPublicKey: block.type === 'tx' ? toHex(block.linkPublicKey) : publicKey,
            linkSequenceNumber: role === 'agreement' || role === 'void' ? block.linkSequenceNumber : 0,
            timestamp: block.timestamp,
            amount: amountOf(block),
            transactionId: proposal === undefined ? null : toHex(blockHash(crypto, proposal)),
            certifiedRound: role === 'checkpoint' && certifiedHere?.hash === hash ? certifiedHere.round : null,
            certified: block.sequenceNumber <= highest,
          }
        }),
      }
    }),
  )
  return { latestRound: node.consensus.history.round, chains, omittedChains: omitted }
}
