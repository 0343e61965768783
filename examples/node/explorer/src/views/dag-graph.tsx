/**
 * The DAG of personal chains as SVG: a lane per chain (labelled with its key, the node's own and contract chains
 * marked), each block a link to its transaction or its own page, a curve from each proposal to the agreement that
 * answers it, a void (the undoing of a refused proposal) struck through, checkpoint blocks drawn as diamonds and
 * shaded once a certified round committed to them. The
 * geometry comes from model/dag-layout.ts; this only draws it.
 */
import { hrefOf } from '../model/route.js'
import { DEFAULT_DAG_LAYOUT, type DagLayout, describeBlock, layoutDag } from '../model/dag-layout.js'
import { shortHex } from '../model/format.js'
import type { DagView } from '../browser/api-types.js'

/** Gap left between a link's ends and the blocks' centres, so the arrowhead shows outside the agreement's shape. */
const LINK_INSET = DEFAULT_DAG_LAYOUT.blockSize / 2 + 3

function linkPath(link: DagLayout['links'][number]): string {
  // A gentle S-curve from the edge of one block to the edge of the other: straight lines would hide each other.
  const direction = Math.sign(link.y2 - link.y1) || 1
  const y1 = link.y1 + direction * LINK_INSET
  const y2 = link.y2 - direction * LINK_INSET
  const middle = (y1 + y2) / 2
  return `M ${link.x1} ${y1} C ${link.x1} ${middle}, ${link.x2} ${middle}, ${link.x2} ${y2}`
}

export function DagGraph({ view }: { readonly view: DagView }) {
  const layout = layoutDag(view)
  const half = DEFAULT_DAG_LAYOUT.blockSize / 2
  return (
    <div class="dag-scroll">
      {/* biome-ignore lint/a11y/useSemanticElements: an SVG drawing grouped for screen readers; a fieldset cannot hold SVG */}
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
          DAG of {view.chains.length} personal chains up to round {view.latestRound}: {layout.blocks.length} blocks, {layout.links.length} proposal–agreement
          links
        </title>
        <defs>
          <marker id="dag-arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 8 4 L 0 8 z" class="dag__arrow" />
          </marker>
        </defs>
        {layout.lanes.map((lane, index) => (
          <g key={lane.publicKey} class={`dag__lane${index % 2 === 1 ? ' dag__lane--odd' : ''}`}>
            <rect x={0} y={lane.y - DEFAULT_DAG_LAYOUT.laneHeight / 2} width={layout.width} height={DEFAULT_DAG_LAYOUT.laneHeight} class="dag__lane-band" />
            <a
              href={hrefOf({ view: 'chain', publicKey: lane.publicKey })}
              aria-label={`chain ${lane.publicKey}${lane.self ? ', this node' : lane.kind === 'contract' ? ', a contract chain' : ''}`}
            >
              <text x={8} y={lane.self || lane.kind === 'contract' ? lane.y - 3 : lane.y + 4} class="dag__label">
                {shortHex(lane.publicKey, 8, 4)}
              </text>
              {(lane.self || lane.kind === 'contract') && (
                <text x={8} y={lane.y + 12} class="dag__tag">
                  {lane.self ? 'this node' : 'contract chain'}
                </text>
              )}
            </a>
            {!layout.blocks.some((placed) => placed.block.publicKey === lane.publicKey) && (
              <text x={DEFAULT_DAG_LAYOUT.labelWidth + 6} y={lane.y + 4} class="dag__empty">
                no block of this chain stored here yet
              </text>
            )}
          </g>
        ))}
        {/* biome-ignore lint/a11y/noAriaHiddenOnFocusable: the links are decoration beside the blocks' labels and take no focus */}
        <g class="dag__links" aria-hidden="true">
          {layout.links.map((link) => (
            <path key={`${link.from}-${link.to}`} d={linkPath(link)} class="dag__link" marker-end="url(#dag-arrow)" />
          ))}
        </g>
        {layout.blocks.map(({ block, x, y, target }) => {
          const href = target.view === 'transaction' ? hrefOf({ view: 'transaction', id: target.id }) : hrefOf({ view: 'block', hash: target.hash })
          // A checkpoint no certificate named but that lies below one is settled all the same: shaded lighter.
          const shade =
            block.role === 'checkpoint' && block.certifiedRound === null
              ? block.certified
                ? ' dag__block--covered'
                : ''
              : block.certified
                ? ' dag__block--certified'
                : ''
          return (
            <a
              key={block.hash}
              href={href}
              class={`dag__block dag__block--${block.role}${shade}`}
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
              ) : block.role === 'void' ? (
                <path d={`M ${x - half} ${y - half} H ${x + half} V ${y + half} H ${x - half} Z M ${x - half} ${y + half} L ${x + half} ${y - half}`} />
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
          <path d="M 9 1 L 17 9 L 9 17 L 1 9 Z" class="legend__checkpoint legend--covered" />
        </svg>
        checkpoint no round named, below a certified one
      </li>
      <li>
        <svg width="18" height="18" aria-hidden="true" class="dag">
          <path d="M 2 2 H 16 V 16 H 2 Z M 2 16 L 16 2" class="legend__void" />
        </svg>
        void: a refused proposal undone, nothing moved
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
