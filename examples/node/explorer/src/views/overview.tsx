/**
 * The overview: this node's status, the DAG of the chains it knows and the transfers it proposed last (a way to a
 * transaction that does not need the DAG), all refreshed as the network moves.
 */
import type { DagView, NodeStatus, TransactionsPage, TransactionView } from '../browser/api-types.js'
import { useView } from '../browser/use-view.js'
import { formatAmount, formatDuration, formatTransactionTotals } from '../model/format.js'
import { hrefOf } from '../model/route.js'
import { DataTable, Facts, Hex, Loaded, PageHeading } from './common.js'
import { DagGraph, DagLegend } from './dag-graph.js'

/** Blocks shown per chain: enough to see several transactions and checkpoints at 1366 px wide. */
const BLOCKS_PER_CHAIN = 16

function StatusPanel() {
  const state = useView<NodeStatus>('/v1/status', ['id', 'round', 'chainHeight'], () => true)
  return (
    <section aria-labelledby="status-heading" class="panel">
      <h2 id="status-heading">Node status</h2>
      <Loaded state={state} what="the node's status">
        {(status) => (
          <Facts
            label="Node status"
            items={[
              ['node', <Hex value={status.id} href={hrefOf({ view: 'chain', publicKey: status.id })} />],
              ['solar system', status.group],
              ['certified round', <a href={hrefOf({ view: 'rounds' })}>{status.round}</a>],
              ['facilitating', status.facilitating ? 'yes' : 'no'],
              ['chain height', status.chainHeight],
              ['balance', formatAmount(status.balance)],
              ['spendable now', formatAmount(status.available)],
              ['peers', status.peers],
              ['up for', formatDuration(status.uptimeMs)],
              ['transactions', <span data-testid="tx-totals">{formatTransactionTotals(status.transactions)}</span>],
            ]}
            wide={['transactions']}
          />
        )}
      </Loaded>
    </section>
  )
}

function DagPanel() {
  const state = useView<DagView>(`/v1/dag?perChain=${BLOCKS_PER_CHAIN}`, ['latestRound', 'chains', 'omittedChains'], () => true)
  return (
    <section aria-labelledby="dag-heading" class="panel">
      <h2 id="dag-heading">Personal chains</h2>
      <p class="note">The last {BLOCKS_PER_CHAIN} blocks this node stores of each chain, newest at the right. Select a block to open its transaction.</p>
      <Loaded state={state} what="the DAG">
        {(dag) => (
          <>
            <DagGraph view={dag} />
            {dag.omittedChains > 0 && (
              <p class="note">{dag.omittedChains} more members' chains are not shown here; open a chain from the memes or rounds pages.</p>
            )}
          </>
        )}
      </Loaded>
      <DagLegend />
    </section>
  )
}

/** Transfers listed: a screenful beside the DAG. */
const RECENT_TRANSACTIONS = 8

const elapsed = (transaction: TransactionView, at: number | undefined) =>
  at === undefined || transaction.submittedAt === undefined ? '—' : formatDuration(at - transaction.submittedAt)

function RecentTransactions() {
  const state = useView<TransactionsPage>(`/v1/transactions?limit=${RECENT_TRANSACTIONS}`, ['transactions'], (event) => event.kind === 'transaction')
  return (
    <section aria-labelledby="recent-heading" class="panel">
      <h2 id="recent-heading">Transfers this node proposed</h2>
      <Loaded state={state} what="the transfers">
        {(page) =>
          page.transactions.length === 0 ? (
            <p class="note">
              None yet: send one with POST /v1/transactions or <code>constellation tx send</code>.
            </p>
          ) : (
            <DataTable
              caption="The latest, newest first"
              columns={['transaction', 'to', { label: 'amount', numeric: true }, 'status', 'agreed after', 'final after']}
            >
              {page.transactions.map((transaction) => (
                <tr key={transaction.id}>
                  <th scope="row">
                    <Hex value={transaction.id} href={hrefOf({ view: 'transaction', id: transaction.id })} />
                  </th>
                  <td>
                    <Hex value={transaction.to} href={hrefOf({ view: 'chain', publicKey: transaction.to })} />
                  </td>
                  <td class="num">{formatAmount(transaction.amount)}</td>
                  <td>
                    <span class={`badge badge--${transaction.status}`}>{transaction.status}</span>
                  </td>
                  <td>{transaction.status === 'refused' ? 'refused: nothing moved' : elapsed(transaction, transaction.agreedAt)}</td>
                  <td>{elapsed(transaction, transaction.finalAt)}</td>
                </tr>
              ))}
            </DataTable>
          )
        }
      </Loaded>
    </section>
  )
}

export function OverviewPage() {
  return (
    <>
      <PageHeading title="Overview">Overview</PageHeading>
      <StatusPanel />
      <DagPanel />
      <RecentTransactions />
    </>
  )
}
