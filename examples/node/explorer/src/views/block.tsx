/**
 * A half-block by its hash, with the way to its chain and, for a proposal, to its transaction; for a void, to the
 * refused transaction it undid.
 */
import type { ChainPage, HalfBlockView } from '../browser/api-types.js'
import { useView } from '../browser/use-view.js'
import { formatAmount, shortHex } from '../model/format.js'
import { hrefOf } from '../model/route.js'
import { Hex, Loaded, PageHeading } from './common.js'
import { HalfBlockFacts } from './half-block.js'

/** A void's refused transaction: the proposal it undoes is the own chain's block its link names. */
function VoidedTransaction({ block }: { readonly block: HalfBlockView }) {
  const n = block.linkSequenceNumber
  const { data } = useView<ChainPage>(`/v1/chains/${block.publicKey}?from=${n}&to=${n}`, ['blocks'])
  const proposal = data?.blocks.find((candidate) => candidate.sequenceNumber === n)
  const payload = block.payload as { readonly amount?: unknown }
  const amount = typeof payload.amount === 'number' ? ` (${formatAmount(payload.amount)} units back to this chain's balance)` : ''
  return (
    <p>
      A void: the counterparty refused this chain's proposal #{n}, and this block undid it{amount}. Nothing moved.{' '}
      {proposal === undefined ? null : <a href={hrefOf({ view: 'transaction', id: proposal.hash })}>The refused transaction</a>}
    </p>
  )
}

export function BlockPage({ hash }: { readonly hash: string }) {
  const state = useView<HalfBlockView>(`/v1/blocks/${hash}`, ['hash', 'publicKey', 'sequenceNumber'])
  return (
    <>
      <PageHeading title={`Block ${shortHex(hash)}`}>
        Block <Hex value={hash} />
      </PageHeading>
      <Loaded state={state} what="the block">
        {(block) => (
          <section aria-labelledby="block-heading" class="panel">
            <h2 id="block-heading">
              #{block.sequenceNumber} of chain <Hex value={block.publicKey} />
            </h2>
            <HalfBlockFacts block={block} label="Half-block" />
            {block.type === 'tx' && block.linkSequenceNumber === 0 && (
              <p>
                <a href={hrefOf({ view: 'transaction', id: block.hash })}>The transaction this proposal opens</a>
              </p>
            )}
            {block.type === 'void' && <VoidedTransaction block={block} />}
          </section>
        )}
      </Loaded>
    </>
  )
}
