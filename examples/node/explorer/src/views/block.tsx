/** A half-block by its hash, with the way to its chain and, for a proposal, to its transaction. */
import type { HalfBlockView } from '../browser/api-types.js'
import { useView } from '../browser/use-view.js'
import { shortHex } from '../model/format.js'
import { hrefOf } from '../model/route.js'
import { Hex, Loaded, PageHeading } from './common.js'
import { HalfBlockFacts } from './half-block.js'

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
          </section>
        )}
      </Loaded>
    </>
  )
}
