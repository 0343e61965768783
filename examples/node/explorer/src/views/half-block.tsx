/** One half-block's fields as a list of facts (the transaction page shows two, the block page one). */
import type { HalfBlockView } from '../browser/api-types.js'
import { formatJson, formatTimestamp, isNoKey } from '../model/format.js'
import { hrefOf } from '../model/route.js'
import { Facts, Hex } from './common.js'

export function HalfBlockFacts({ block, label }: { readonly block: HalfBlockView; readonly label: string }) {
  return (
    <Facts
      label={label}
      items={[
        ['hash', <Hex value={block.hash} href={hrefOf({ view: 'block', hash: block.hash })} />],
        ['chain', <Hex value={block.publicKey} href={hrefOf({ view: 'chain', publicKey: block.publicKey })} />],
        ['sequence number', block.sequenceNumber],
        [
          'link',
          isNoKey(block.linkPublicKey) ? (
            <span class="muted">none</span>
          ) : (
            <>
              <Hex value={block.linkPublicKey} href={hrefOf({ view: 'chain', publicKey: block.linkPublicKey })} />
              {block.linkSequenceNumber === 0 ? ' (the counterparty)' : ` #${block.linkSequenceNumber}`}
            </>
          ),
        ],
        ['previous', <Hex value={block.previousHash} />],
        ['time', formatTimestamp(block.timestamp)],
        ['type', block.type],
        ['payload', <code class="json">{formatJson(block.payload, 240)}</code>],
        ['signature', <Hex value={block.signature} />],
      ]}
    />
  )
}
