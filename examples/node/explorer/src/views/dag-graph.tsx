/**
 * The DAG of personal chains as SVG: a lane per chain (labelled with its key, the node's own and contract chains
 * marked), each block a link to its transaction or its own page, a curve from each proposal to the agreement that
 * answers it, checkpoint blocks drawn as diamonds and shaded once a certified round committed to them. The
 * geometry comes from model/dag-layout.ts; this only draws it.
 */
import { hrefOf } from '../model/route.js'
import { DEFAULT_DAG_LAYOUT, type DagLayout, describeBlock, layoutDag } from '../model/dag-layout.js'
import { shortHex } from '../model/format.js'
import type { DagView } from '../browser/api-types.js'

function linkPath(link: DagLayout['links'][number]): string {
  // A gentle S-curve between lanes: straight lines would hide each other where lanes are close.
  const middle = (link.y1 + link.y2) / 2
  return `M ${link.x1} ${link.y1} C ${link.x1} ${middle}, ${link.x2} ${middle}, ${link.x2} ${link.y2}`
}

export function DagGraph({ view }: { readonly view: DagView }) {
  const layout = layoutDag(view)
  const half = DEFAULT_DAG_LAYOUT.blockSize / 2
  return (
    <div class="dag-scroll">
      <svg
        data-testid="dag"
        class="dag"
        role="group"
        aria-labelledby="dag-title"
        width={layout.width}
        height={layout.height}
        viewBox={`0 0 ${layout.width} ${layout.height}`}
      >
        <title id="dag-title">
          DAG of {view.chains.length} personal chains up to round {view.latestRound}: {layout.blocks.length} blocks, {layout.links.length} proposal–agreement links
        </title>
        <defs>
          <marker id="dag-arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 8 4 L 0 8 z" class="dag__arrow" />
          </marker>
        </defs>
        {layout.lanes.map((lane, index) => (
          <g key={lane.publicKey} class={`dag__lane${index % 2 === 1 ? ' dag__lane--odd' : ''}`}>
            <rect x={0} y={lane.y - DEFAULT_DAG_LAYOUT.laneHeight / 2} width={layout.width} height={DEFAULT_DAG_LAYOUT.laneHeight} class="dag__lane-band" />
            <a href={hrefOf({ view: 'chain', publicKey: lane.publicKey })}>
              <text x={8} y={lane.y + 4} class="dag__label">
                {shortHex(lane.publicKey, 8, 4)}
                {lane.self ? ' (this node)' : lane.kind === 'contract' ? ' (contract)' : ''}
              </text>
            </a>
          </g>
        ))}
        <g class="dag__links" aria-hidden="true">
          {layout.links.map((link) => (
            <path key={`${link.from}-${link.to}`} d={linkPath(link)} class="dag__link" marker-end="url(#dag-arrow)" />
          ))}
        </g>
        {layout.blocks.map(({ block, x, y, target }) => {
          const href = target.view === 'transaction' ? hrefOf({ view: 'transaction', id: target.id }) : hrefOf({ view: 'block', hash: target.hash })
          const shaded = block.role === 'checkpoint' ? block.certifiedRound !== null : block.certified
          return (
            <a
              key={block.hash}
              href={href}
              class={`dag__block dag__block--${block.role}${shaded ? ' dag__block--certified' : ''}`}
              data-testid="dag-block"
              data-hash={block.hash}
              data-role={block.role}
              aria-label={describeBlock(block)}
            >
              <title>{describeBlock(block)}</title>
              {block.role === 'checkpoint' ? (
                <path d={`M ${x} ${y - half - 2} L ${x + half + 2} ${y} L ${x} ${y + half + 2} L ${x - half - 2} ${y} Z`} />
              ) : block.role === 'genesis' ? (
                <circle cx={x} cy={y} r={half} />
              ) : (
                <rect x={x - half} y={y - half} width={half * 2} height={half * 2} rx={block.role === 'agreement' ? 8 : 2} />
              )}
            </a>
          )
        })}
      </svg>
    </div>
  )
}

/** What the shapes and shades mean. */
export function DagLegend() {
  return (
    <ul class="legend" aria-label="Legend">
      <li>
        <svg width="18" height="18" aria-hidden="true" class="dag">
          <rect x="2" y="2" width="14" height="14" rx="2" class="legend__proposal" />
        </svg>
        proposal
      </li>
      <li>
        <svg width="18" height="18" aria-hidden="true" class="dag">
          <rect x="2" y="2" width="14" height="14" rx="6" class="legend__agreement" />
        </svg>
        agreement (arrow from its proposal)
      </li>
      <li>
        <svg width="18" height="18" aria-hidden="true" class="dag">
          <path d="M 9 1 L 17 9 L 9 17 L 1 9 Z" class="legend__checkpoint legend--certified" />
        </svg>
        checkpoint, certified
      </li>
      <li>
        <svg width="18" height="18" aria-hidden="true" class="dag">
          <path d="M 9 1 L 17 9 L 9 17 L 1 9 Z" class="legend__checkpoint" />
        </svg>
        checkpoint, not yet certified
      </li>
      <li>
        <svg width="18" height="18" aria-hidden="true" class="dag">
          <circle cx="9" cy="9" r="7" class="legend__genesis" />
        </svg>
        genesis
      </li>
      <li>solid: at or below a certified checkpoint; hollow: not yet</li>
    </ul>
  )
}
