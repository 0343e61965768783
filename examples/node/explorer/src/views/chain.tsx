/** A personal chain: its newest blocks (up to the API's page of 100), each linking to its own page. */
import type { ChainPage as ChainPageView, ExplorerEvent } from '../browser/api-types.js'
import { useView } from '../browser/use-view.js'
import { formatJson, formatTimestamp, isNoKey, shortHex } from '../model/format.js'
import { hrefOf } from '../model/route.js'
import { DataTable, Hex, Loaded, PageHeading } from './common.js'

/** The API's largest page of blocks. */
const PAGE = 100

export function ChainPage({ publicKey }: { readonly publicKey: string }) {
  // The first answer tells the height; the newest page is then asked for by its range.
  // The node announces growth of its own chain only; another chain is read again when a round or a transaction
  // names it (its checkpoints are in the round's certificate).
  const names = (event: ExplorerEvent) =>
    (event.kind === 'chain' && event.publicKey === publicKey) ||
    (event.kind === 'transaction' && (event.from === publicKey || event.to === publicKey)) ||
    (event.kind === 'round' && event.certificate.checkpoints.some((entry) => entry.publicKey === publicKey))
  const first = useView<ChainPageView>(`/v1/chains/${publicKey}`, ['height', 'blocks'], names)
  const height = first.data?.height ?? 0
  const from = Math.max(1, height - PAGE + 1)
  const latest = useView<ChainPageView>(height > PAGE ? `/v1/chains/${publicKey}?from=${from}&to=${height}` : `/v1/chains/${publicKey}`, ['height', 'blocks'])
  const shown = height > PAGE ? latest : first
  return (
    <>
      <PageHeading title={`Chain ${shortHex(publicKey)}`}>
        Chain <Hex value={publicKey} />
      </PageHeading>
      <Loaded state={{ data: shown.data, error: first.error ?? latest.error }} what="the chain">
        {(page) => (
          <section aria-labelledby="chain-blocks" class="panel">
            <h2 id="chain-blocks">Blocks stored here (height {page.height})</h2>
            <DataTable caption={`Blocks #${page.from}–#${page.to} of this chain, newest first`} columns={['#', 'hash', 'type', 'link', 'time', 'payload']}>
              {[...page.blocks].reverse().map((block) => (
                <tr key={block.hash}>
                  <th scope="row">{block.sequenceNumber}</th>
                  <td>
                    <Hex value={block.hash} href={hrefOf({ view: 'block', hash: block.hash })} />
                  </td>
                  <td>{block.type}</td>
                  <td>
                    {isNoKey(block.linkPublicKey) ? (
                      <span class="muted">none</span>
                    ) : (
                      <>
                        <Hex value={block.linkPublicKey} href={hrefOf({ view: 'chain', publicKey: block.linkPublicKey })} />
                        {block.linkSequenceNumber === 0 ? '' : ` #${block.linkSequenceNumber}`}
                      </>
                    )}
                  </td>
                  <td>{formatTimestamp(block.timestamp)}</td>
                  <td>
                    <code class="json">{formatJson(block.payload, 80)}</code>
                  </td>
                </tr>
              ))}
            </DataTable>
          </section>
        )}
      </Loaded>
    </>
  )
}
