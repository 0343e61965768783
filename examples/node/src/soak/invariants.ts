/**
 * The invariants a soak run is held to, checked after the network has settled, from nothing but what every node's
 * HTTP API serves (read-only routes):
 *
 *   certificates   for each (group, round) every node that holds a certificate holds one for the same result (the
 *                  result hash; the signer sets may differ, any 2t+1 of the facilitators make a certificate);
 *   supply         Σ over the members of the balance each member's own chain states at its head (`GET /v1/status`
 *                  `balance`, checked against the stated balance of the head block `GET /v1/chains/:id` serves)
 *                  equals the genesis supply (Σ of the genesis balances) once no proposal is unanswered: a proposal
 *                  takes its amount off the proposer's stated balance, the agreement adds it to the counterparty's,
 *                  a void gives it back;
 *   transfers      every transfer answered 201 (agreed) is in its proposer's chain and `final` on both sides (the
 *                  proposer's node and the counterparty's node, `GET /v1/transactions/:id`); every transfer answered
 *                  with an error moved nothing (found in no chain, or voided there); 202s and unanswered requests
 *                  ended agreed and final, or refused; no chain holds a proposal the load did not send;
 *   fraud          no certified result carries a fraud proof (every node of a soak run is honest);
 *   caught up      every node's latest round is within `catchUpRounds` of the highest.
 */
import * as t from 'io-ts'
import type { NodeApi } from '../devnet/node-api.js'
import type { TransferRecord } from './soak-load.js'

export interface CheckedNode {
  readonly index: number
  /** Hex public key. */
  readonly id: string
  readonly api: NodeApi
}

export interface InvariantInput {
  readonly nodes: readonly CheckedNode[]
  /** Σ of the genesis balances. */
  readonly supply: number
  readonly records: readonly TransferRecord[]
  readonly catchUpRounds: number
  readonly signal?: AbortSignal
}

export interface InvariantReport {
  readonly certificates: { readonly latestRound: number; readonly roundsCompared: number; readonly conflicting: number }
  readonly supply: { readonly genesis: number; readonly sum: number | null; readonly difference: number | null }
  readonly transfers: {
    readonly acknowledged: number
    readonly final: number
    /** Answered 201 and not final on both sides (or not in the chain): `missing` + `notFinal`. */
    readonly lost: number
    /** Answered 201 and not in the proposer's chain. */
    readonly missing: number
    /** Answered 201, in both chains, and not final on one side or on both. */
    readonly notFinal: number
    /** Answered with an error (or refused) and value moved anyway. */
    readonly errorsThatMoved: number
    /** Signed after a 202 or without an answer, and neither final nor refused by the end. */
    readonly unresolved: number
    /** Proposals in chains that no record of the load accounts for. */
    readonly unaccounted: number
  }
  readonly fraudProofs: number
  readonly rounds: readonly (number | null)[]
  /** One sentence per finding (the first few of each kind). */
  readonly violations: readonly string[]
  readonly ok: boolean
}

const StatusCodec = t.type({ round: t.number, balance: t.number, chainHeight: t.number })
const RoundsPageCodec = t.type({
  latestRound: t.number,
  rounds: t.array(t.type({ round: t.number, group: t.string, resultHash: t.string, faults: t.array(t.type({ memeId: t.string, kind: t.string })) })),
})
const BlockViewCodec = t.type({
  hash: t.string,
  sequenceNumber: t.number,
  linkPublicKey: t.string,
  linkSequenceNumber: t.number,
  type: t.string,
  payload: t.unknown,
})
const ChainPageCodec = t.type({ height: t.number, blocks: t.array(BlockViewCodec) })
const TransactionCodec = t.type({ status: t.string })
type BlockView = t.TypeOf<typeof BlockViewCodec>

const PAGE = 100
/** Parallel reads of transactions, per check. */
const READS_IN_PARALLEL = 16
/** Findings of one kind spelt out in full; the rest are counted. */
const LISTED_PER_KIND = 5

/** A transfer proposal found in a chain. */
interface SignedTransfer {
  readonly hash: string
  readonly from: number
  readonly to: string
  readonly amount: number
}

export async function checkInvariants(input: InvariantInput): Promise<InvariantReport> {
  const findings = new Findings()
  const { nodes, signal } = input
  const statuses = await Promise.all(nodes.map((node) => node.api.get('/v1/status', StatusCodec, signal).catch((error: unknown) => error as Error)))
  statuses.forEach((status, i) => {
    if (status instanceof Error) findings.add('down', `node-${i} does not answer: ${status.message}`)
  })
  const rounds = statuses.map((status) => (status instanceof Error ? null : status.round))

  const certificates = await checkCertificates(nodes, findings, signal)
  const chains = await Promise.all(nodes.map((node) => readOwnChain(node, signal).catch((error: unknown) => error as Error)))

  // ---- supply ----
  let sum: number | null = 0
  nodes.forEach((_, i) => {
    const status = statuses[i]
    const chain = chains[i]
    if (status instanceof Error || status === undefined || chain instanceof Error || chain === undefined) {
      if (chain instanceof Error) findings.add('down', `node-${i}'s chain cannot be read: ${chain.message}`)
      sum = null
      return
    }
    if (chain.statedBalance !== status.balance)
      findings.add('balance', `node-${i} serves balance ${status.balance} in its status, but its head block states ${chain.statedBalance}`)
    if (sum !== null) sum += status.balance
  })
  const supplySum: number | null = sum
  if (supplySum !== null && supplySum !== input.supply)
    findings.add('supply', `the members' stated balances sum to ${supplySum}, not the genesis supply ${input.supply} (${supplySum - input.supply})`)

  // ---- transfers ----
  const signed = new Map<string, SignedTransfer>()
  let unreferenced = 0
  chains.forEach((chain, i) => {
    if (chain instanceof Error) return
    for (const [reference, transfer] of chain.proposals) signed.set(reference, transfer)
    unreferenced += chain.unreferenced
    if (chain.unreferenced > 0)
      findings.add(
        'unaccounted',
        `node-${i}'s chain holds ${chain.unreferenced} transfer proposals without an idempotency reference, which the load never sends`,
      )
  })
  const checked = await checkTransfers(
    input,
    signed,
    chains.some((chain) => chain instanceof Error),
    findings,
  )
  const transfers = { ...checked, unaccounted: checked.unaccounted + unreferenced }

  // ---- caught up ----
  const known = rounds.filter((round): round is number => round !== null)
  const highest = Math.max(0, ...known)
  rounds.forEach((round, i) => {
    if (round !== null && highest - round > input.catchUpRounds)
      findings.add('behind', `node-${i} is at round ${round}, ${highest - round} behind the highest (${highest}; at most ${input.catchUpRounds} allowed)`)
  })

  return {
    certificates: certificates.summary,
    supply: { genesis: input.supply, sum: supplySum, difference: supplySum === null ? null : supplySum - input.supply },
    transfers,
    fraudProofs: certificates.fraudProofs,
    rounds,
    violations: findings.list(),
    ok: findings.count === 0,
  }
}

async function checkCertificates(nodes: readonly CheckedNode[], findings: Findings, signal: AbortSignal | undefined) {
  const byRound = new Map<string, Map<string, number[]>>()
  let latestRound = 0
  let fraudProofs = 0
  const seenFaults = new Set<string>()
  for (const node of nodes) {
    try {
      let from = 1
      for (;;) {
        const page = await node.api.get(`/v1/consensus/rounds?from=${from}&limit=${PAGE}`, RoundsPageCodec, signal)
        latestRound = Math.max(latestRound, page.latestRound)
        for (const certificate of page.rounds) {
          const key = `${certificate.group}/${certificate.round}`
          const results = byRound.get(key) ?? new Map<string, number[]>()
          byRound.set(key, results)
          results.set(certificate.resultHash, [...(results.get(certificate.resultHash) ?? []), node.index])
          for (const fault of certificate.faults) {
            const name = `${key}/${fault.memeId}/${fault.kind}`
            if (seenFaults.has(name)) continue
            seenFaults.add(name)
            fraudProofs++
            findings.add(
              'fraud',
              `round ${certificate.round} (${certificate.group}) carries a ${fault.kind} fraud proof naming ${fault.memeId.slice(0, 16)}…, an honest node`,
            )
          }
        }
        from += PAGE
        if (from > page.latestRound) break
      }
    } catch (error) {
      findings.add('down', `node-${node.index}'s certificates cannot be read: ${(error as Error).message}`)
    }
  }
  let conflicting = 0
  for (const [key, results] of byRound) {
    if (results.size <= 1) continue
    conflicting++
    const described = [...results].map(([hash, holders]) => `${hash.slice(0, 12)}… on ${holders.map((i) => `node-${i}`).join(', ')}`).join('; ')
    findings.add('conflict', `conflicting certificates for ${key}: ${described}`)
  }
  return { summary: { latestRound, roundsCompared: byRound.size, conflicting }, fraudProofs }
}

interface OwnChain {
  /** Transfer proposals by their reference (hex). */
  readonly proposals: Map<string, SignedTransfer>
  readonly unreferenced: number
  /** The balance the newest block that states one states. */
  readonly statedBalance: number | undefined
}

/** A node's own chain from its own API, page by page up to the height its first page reports. */
async function readOwnChain(node: CheckedNode, signal: AbortSignal | undefined): Promise<OwnChain> {
  const proposals = new Map<string, SignedTransfer>()
  let unreferenced = 0
  let statedBalance: number | undefined
  let height = Number.POSITIVE_INFINITY
  for (let from = 1; from <= height; from += PAGE) {
    const page = await node.api.get(`/v1/chains/${node.id}?from=${from}&to=${from + PAGE - 1}`, ChainPageCodec, signal)
    if (height === Number.POSITIVE_INFINITY) height = page.height
    for (const block of page.blocks) {
      statedBalance = balanceOf(block) ?? statedBalance
      if (block.type !== 'tx' || block.linkSequenceNumber !== 0) continue
      const payload = block.payload as { amount?: unknown; reference?: unknown }
      if (typeof payload.reference !== 'string') {
        unreferenced++
        continue
      }
      proposals.set(payload.reference, {
        hash: block.hash,
        from: node.index,
        to: block.linkPublicKey,
        amount: typeof payload.amount === 'number' ? payload.amount : Number.NaN,
      })
    }
    if (page.blocks.length === 0) break
  }
  return { proposals, unreferenced, statedBalance }
}

/** The balance a block's payload states (transfers, genesis, checkpoints and voids state one). */
function balanceOf(block: BlockView): number | undefined {
  const payload = block.payload as { balance?: unknown; value?: { balance?: unknown } } | null
  if (typeof payload?.balance === 'number') return payload.balance
  if (typeof payload?.value?.balance === 'number') return payload.value.balance
  return undefined
}

async function checkTransfers(
  input: InvariantInput,
  signed: ReadonlyMap<string, SignedTransfer>,
  chainsMissing: boolean,
  findings: Findings,
): Promise<InvariantReport['transfers']> {
  const { nodes, records, signal } = input
  const statusOn = async (node: number, id: string): Promise<string> => {
    const api = nodes[node]?.api
    if (api === undefined) return 'no such node'
    try {
      return (await api.get(`/v1/transactions/${id}`, TransactionCodec, signal)).status
    } catch (error) {
      return (error as { code?: string }).code === 'NOT_FOUND' ? 'absent' : `unreadable (${(error as Error).message})`
    }
  }
  let acknowledged = 0
  let final = 0
  let missing = 0
  let notFinal = 0
  let errorsThatMoved = 0
  let unresolved = 0
  const accounted = new Set<string>()
  await inParallel(records, READS_IN_PARALLEL, async (record) => {
    const transfer = signed.get(record.reference)
    if (transfer !== undefined) accounted.add(record.reference)
    const answered = `transfer ${record.key} (node-${record.from} → node-${record.to}, ${record.amount}; answered ${record.answer}${record.code === undefined ? '' : ` ${record.code}`}${record.message === undefined ? '' : ` "${record.message}"`} at ${(record.sentAtMs / 1000).toFixed(1)} s)`
    if (record.answer === 'agreed') acknowledged++
    if (transfer === undefined) {
      // Not in the proposer's chain: nothing was signed. Only an answer that said it was signed is wrong then.
      if (chainsMissing) return
      if (record.answer === 'agreed' || record.answer === 'refused' || record.answer === 'pending' || record.answer === 'replayed') {
        if (record.answer === 'agreed') missing++
        findings.add('lost', `${answered} is not in node-${record.from}'s chain`)
      }
      return
    }
    if (record.id !== undefined && record.id !== transfer.hash)
      findings.add('lost', `${answered} was answered with id ${record.id}, but the chain holds ${transfer.hash}`)
    const [onProposer, onCounterparty] = await Promise.all([statusOn(record.from, transfer.hash), statusOn(record.to, transfer.hash)])
    const bothFinal = onProposer === 'final' && onCounterparty === 'final'
    const moved = onProposer === 'final' || onProposer === 'agreed' || onCounterparty === 'final' || onCounterparty === 'agreed'
    if (bothFinal) final++
    const sides = `proposer: ${onProposer}, counterparty: ${onCounterparty}`
    switch (record.answer) {
      case 'agreed':
        if (!bothFinal) {
          notFinal++
          findings.add('not final', `${answered} is not final on both sides (${sides})`)
        }
        return
      case 'refused':
      case 'rejected':
      case 'not-sent':
        if (moved) {
          errorsThatMoved++
          findings.add('moved', `${answered} moved value (${sides})`)
        } else if (record.answer !== 'refused') findings.add('signed', `${answered} was signed although the answer said nothing was (${sides})`)
        return
      default:
        if (!bothFinal && onProposer !== 'refused') {
          unresolved++
          findings.add('unresolved', `${answered} is neither final on both sides nor refused (${sides})`)
        }
    }
  })
  let unaccounted = 0
  for (const [reference, transfer] of signed) {
    if (accounted.has(reference)) continue
    unaccounted++
    findings.add('unaccounted', `node-${transfer.from}'s chain holds proposal ${transfer.hash.slice(0, 16)}… (reference ${reference}) that the load never sent`)
  }
  return { acknowledged, final, lost: missing + notFinal, missing, notFinal, errorsThatMoved, unresolved, unaccounted }
}

async function inParallel<A>(items: readonly A[], width: number, work: (item: A) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await work(items[next++] as A)
    }),
  )
}

/** Findings by kind: every one counted, the first few of each kind spelt out. */
class Findings {
  readonly #byKind = new Map<string, { listed: string[]; count: number }>()
  count = 0

  add(kind: string, sentence: string): void {
    const entry = this.#byKind.get(kind) ?? { listed: [], count: 0 }
    this.#byKind.set(kind, entry)
    entry.count++
    this.count++
    if (entry.listed.length < LISTED_PER_KIND) entry.listed.push(sentence)
  }

  list(): string[] {
    return [...this.#byKind.values()].flatMap((entry) =>
      entry.count > entry.listed.length ? [...entry.listed, `… and ${entry.count - entry.listed.length} more like it`] : entry.listed,
    )
  }
}
