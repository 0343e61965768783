/**
 * Contracts hosted by this node: each one's type signature and invocation count, and a page per contract with its
 * committed state and recent invocations (from /v1/contracts/:id/invocations), refreshed as transactions change.
 */
import type { ContractInvocationsView, ContractsView, ContractView } from '../browser/api-types.js'
import { useView } from '../browser/use-view.js'
import { formatAmount, formatCount, formatDuration, formatJson, formatTimestamp, shortHex } from '../model/format.js'
import { hrefOf } from '../model/route.js'
import { formatSignature, formatType } from '../model/type-signature.js'
import { DataTable, Facts, Hex, Loaded, PageHeading } from './common.js'

const onTransaction = (event: { readonly kind: string }) => event.kind === 'transaction'

function HostedContracts({ view }: { readonly view: ContractsView }) {
  return (
    <>
      <section aria-labelledby="host-heading" class="panel">
        <h2 id="host-heading">This node's contract host</h2>
        <Facts
          label="Contract host"
          items={[
            ['host chain', view.host === null ? 'hosting is off' : <Hex value={view.host} href={hrefOf({ view: 'chain', publicKey: view.host })} />],
            ['caller chain', <Hex value={view.caller} href={hrefOf({ view: 'chain', publicKey: view.caller })} />],
            ['price per invocation', formatAmount(view.price)],
            [
              'service',
              view.sla === null
                ? '—'
                : `${view.sla.successes} of ${view.sla.invocations} invocations succeeded; latency p50 ${formatDuration(view.sla.latencyP50Ms)}, p95 ${formatDuration(view.sla.latencyP95Ms)}`,
            ],
          ]}
        />
      </section>
      <section aria-labelledby="hosted-heading" class="panel">
        <h2 id="hosted-heading">Hosted contracts</h2>
        {view.contracts.length === 0 ? (
          <p class="note">
            This node hosts no contract yet. Deploy one with POST /v1/contracts or <code>constellation contract deploy</code>.
          </p>
        ) : (
          <DataTable
            caption={`${formatCount(view.contracts.length, 'contract')}, in deploy order`}
            columns={['contract', 'type signature', { label: 'invocations', numeric: true }, 'state hash']}
          >
            {view.contracts.map((contract) => (
              <tr key={contract.id}>
                <th scope="row">
                  <Hex value={contract.id} href={hrefOf({ view: 'contract', id: contract.id })} />
                </th>
                <td>
                  <code>{formatSignature(contract.signature)}</code>
                </td>
                <td class="num">{contract.invocations}</td>
                <td>
                  <Hex value={contract.stateHash} />
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </section>
    </>
  )
}

export function ContractsPage() {
  const state = useView<ContractsView>('/v1/contracts', ['contracts', 'caller'], onTransaction)
  return (
    <>
      <PageHeading title="Contracts">Contracts</PageHeading>
      <Loaded state={state} what="the contracts">
        {(view) => <HostedContracts view={view} />}
      </Loaded>
    </>
  )
}

const INVOCATION_COLUMNS = ['transaction', 'caller', 'input', 'output', { label: 'gas', numeric: true }, 'status', 'time']

function Invocations({ id }: { readonly id: string }) {
  const state = useView<ContractInvocationsView>(`/v1/contracts/${id}/invocations?limit=20`, ['id', 'invocations'], onTransaction)
  return (
    <section aria-labelledby="invocations-heading" class="panel">
      <h2 id="invocations-heading">Recent invocations</h2>
      <Loaded state={state} what="the invocations">
        {(view) =>
          view.invocations.length === 0 ? (
            <p class="note">Not invoked yet.</p>
          ) : (
            <DataTable caption={`The last ${formatCount(view.invocations.length, 'invocation')}, newest first`} columns={INVOCATION_COLUMNS}>
              {view.invocations.map((invocation) => (
                <tr key={invocation.transactionId}>
                  <th scope="row">
                    <Hex value={invocation.transactionId} href={hrefOf({ view: 'transaction', id: invocation.transactionId })} />
                  </th>
                  <td>
                    <Hex value={invocation.caller} href={hrefOf({ view: 'chain', publicKey: invocation.caller })} />
                  </td>
                  <td>
                    <code class="json">{formatJson(invocation.input, 60)}</code>
                  </td>
                  <td>
                    <code class="json">{formatJson(invocation.output, 60)}</code>
                  </td>
                  <td class="num">{formatAmount(invocation.gas)}</td>
                  <td>
                    <span class={`badge badge--${invocation.status}`}>{invocation.status}</span>
                  </td>
                  <td>{formatTimestamp(invocation.timestamp)}</td>
                </tr>
              ))}
            </DataTable>
          )
        }
      </Loaded>
    </section>
  )
}

export function ContractPage({ id }: { readonly id: string }) {
  const state = useView<ContractView>(`/v1/contracts/${id}`, ['id', 'signature', 'state'], onTransaction)
  return (
    <>
      <PageHeading title={`Contract ${shortHex(id)}`}>
        Contract <Hex value={id} />
      </PageHeading>
      <Loaded state={state} what="the contract">
        {(contract) => (
          <section aria-labelledby="contract-heading" class="panel">
            <h2 id="contract-heading">Signature and state</h2>
            <Facts
              label="Contract"
              items={[
                ['input', <code>{formatType(contract.signature.input)}</code>],
                ['output', <code>{formatType(contract.signature.output)}</code>],
                ['state type', <code>{formatType(contract.signature.state)}</code>],
                ['invocations', contract.invocations],
                ['state hash', <Hex value={contract.stateHash} />],
              ]}
            />
            <h3>Committed state</h3>
            <pre class="json-block">{JSON.stringify(contract.state, null, 2)}</pre>
          </section>
        )}
      </Loaded>
      <Invocations id={id} />
    </>
  )
}
