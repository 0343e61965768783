/**
 * A transaction: how far it got (proposed, agreed, final), both halves, the timings this node recorded, and its
 * agreement proof once it can be built — until then the node answers 409 NOT_FINAL, shown as "not final yet" and
 * asked again whenever a round is certified or the transaction changes.
 */
import { useRef } from 'preact/hooks'
import type { AgreementProofView, ProofSide, TransactionView } from '../browser/api-types.js'
import { type FinalityCheckState, useFinalityCheck } from '../browser/use-finality-check.js'
import { useView } from '../browser/use-view.js'
import { formatAmount, formatBytes, formatDuration, formatTimestamp, shortHex } from '../model/format.js'
import { hrefOf } from '../model/route.js'
import { DataTable, ErrorNote, Facts, Hex, Loaded, Loading, PageHeading } from './common.js'
import { HalfBlockFacts } from './half-block.js'

function Timings({ transaction }: { readonly transaction: TransactionView }) {
  const { submittedAt, agreedAt, finalAt, finalRound } = transaction
  if (submittedAt === undefined) return <p class="note">This node did not propose this transaction, so it holds no timings for it.</p>
  return (
    <Facts
      label="Timings"
      items={[
        ['proposed', formatTimestamp(submittedAt)],
        ['agreed', agreedAt === undefined ? 'not yet' : `${formatTimestamp(agreedAt)} (after ${formatDuration(agreedAt - submittedAt)})`],
        ['final', finalAt === undefined ? 'not yet' : `${formatTimestamp(finalAt)} (after ${formatDuration(finalAt - submittedAt)})`],
        ['final in round', finalRound ?? '—'],
      ]}
    />
  )
}

function SideSummary({ side, name }: { readonly side: ProofSide; readonly name: string }) {
  return (
    <tr>
      <th scope="row">{name}</th>
      <td>
        <Hex value={side.publicKey} href={hrefOf({ view: 'chain', publicKey: side.publicKey })} />
      </td>
      <td>
        #{side.fromSequenceNumber}–#{side.toSequenceNumber} ({side.blocks} blocks)
      </td>
      <td>{side.openingRound}</td>
      <td>{side.closingRound}</td>
    </tr>
  )
}

/** What the page's own check of the proof found: the chain of certificates it verified, or why it failed. */
function ProofCheck({ check }: { readonly check: FinalityCheckState | undefined }) {
  if (check === undefined || check.kind === 'checking') {
    const progress = check?.progress
    return (
      <p class="note" role="status" data-testid="proof-check" aria-busy="true">
        Checking the proof in this browser
        {progress === undefined ? '…' : `: certificate ${progress.certificates.toLocaleString('en')} of ${progress.of.toLocaleString('en')} from the genesis…`}
      </p>
    )
  }
  const { verdict } = check
  if (!verdict.verified) {
    return (
      <p class="note note--error" role="status" data-testid="proof-check">
        Not verified in this browser: {verdict.reason}
      </p>
    )
  }
  return (
    <p class="note note--verified" role="status" data-testid="proof-check">
      Verified in this browser: {verdict.certificates.toLocaleString('en')} {verdict.certificates === 1 ? 'certificate' : 'certificates'} from the genesis
      (fingerprint <Hex value={verdict.fingerprint} full />), {verdict.signatures.toLocaleString('en')} signatures checked. Compare the fingerprint with the one
      published for the network: the check rests on that genesis alone.
    </p>
  )
}

function ProofSection({ transaction, final }: { readonly transaction: TransactionView; readonly final: boolean }) {
  const { id } = transaction
  // A proof once built never changes: asked for again only until it is there.
  const built = useRef(false)
  const { data: proof, error } = useView<AgreementProofView>(
    `/v1/transactions/${id}/proof`,
    ['id', 'bytes', 'proof', 'summary'],
    (event) => !built.current && (event.kind === 'round' || (event.kind === 'transaction' && event.id === id)),
  )
  built.current = proof !== undefined
  const check = useFinalityCheck(transaction, proof?.proof)
  // Once verified, the proof's contents as this page read them from the proof; the node's summary until then.
  const summary = check?.kind === 'done' && check.verdict.verified ? check.verdict.summary : proof?.summary
  const notFinal = error?.code === 'NOT_FINAL'
  return (
    <section aria-labelledby="proof-heading" class="panel" data-testid="proof">
      <h2 id="proof-heading">Agreement proof</h2>
      {proof === undefined && notFinal && (
        <p class="note" data-testid="proof-pending">
          Not final yet: the proof can be built once certified checkpoints close both halves. It is asked for again as rounds are certified.
        </p>
      )}
      {proof === undefined && error !== undefined && !notFinal && <ErrorNote error={error} what="the agreement proof" />}
      {proof === undefined && error === undefined && <Loading what={final ? 'the agreement proof' : 'the agreement proof (if it can be built yet)'} />}
      {proof !== undefined && summary !== undefined && (
        <>
          <p class="note">
            {formatBytes(proof.bytes)} of proof: each half lies in a fragment of its chain between checkpoints that certified rounds committed to. Anyone holding the
            certificate chain from the genesis can check it with <code>verifyAgreementProof</code>; this page does, from the genesis the node names.
          </p>
          <ProofCheck check={check} />
          <DataTable caption="What the proof contains" columns={['half', 'chain', 'fragment', 'opening round', 'closing round']}>
            <SideSummary side={summary.proposalSide} name={`proposal #${summary.proposal.sequenceNumber}`} />
            <SideSummary side={summary.agreementSide} name={`agreement #${summary.agreement.sequenceNumber}`} />
          </DataTable>
          <details>
            <summary>The proof's encoding ({proof.proof.length / 2} bytes, hex)</summary>
            <pre class="hex-dump">{proof.proof}</pre>
          </details>
        </>
      )}
    </section>
  )
}

export function TransactionPage({ id }: { readonly id: string }) {
  // A transaction this node is not party to changes without a `transaction` event: rounds prompt a look until final.
  const final = useRef(false)
  const state = useView<TransactionView>(
    `/v1/transactions/${id}`,
    ['id', 'status', 'proposal'],
    (event) => (event.kind === 'transaction' && event.id === id) || (!final.current && event.kind === 'round'),
  )
  final.current = state.data?.status === 'final'
  return (
    <>
      <PageHeading title={`Transaction ${shortHex(id)}`}>
        Transaction <Hex value={id} />
      </PageHeading>
      <Loaded state={state} what="the transaction">
        {(transaction) => (
          <>
            <section aria-labelledby="tx-summary-heading" class="panel">
              <h2 id="tx-summary-heading">Summary</h2>
              <Facts
                label="Transaction"
                items={[
                  [
                    'status',
                    <span class={`badge badge--${transaction.status}`} data-testid="tx-status">
                      {transaction.status}
                    </span>,
                  ],
                  ['from', <Hex value={transaction.from} href={hrefOf({ view: 'chain', publicKey: transaction.from })} />],
                  ['to', <Hex value={transaction.to} href={hrefOf({ view: 'chain', publicKey: transaction.to })} />],
                  ['amount', formatAmount(transaction.amount)],
                ]}
              />
              <Timings transaction={transaction} />
            </section>
            <div class="halves">
              <section aria-labelledby="proposal-heading" class="panel">
                <h2 id="proposal-heading">Proposal</h2>
                <HalfBlockFacts block={transaction.proposal} label="Proposal half" />
              </section>
              <section aria-labelledby="agreement-heading" class="panel">
                <h2 id="agreement-heading">Agreement</h2>
                {transaction.agreement === null ? (
                  <p class="note">Not countersigned yet (or not known to this node).</p>
                ) : (
                  <HalfBlockFacts block={transaction.agreement} label="Agreement half" />
                )}
              </section>
            </div>
            {/* The proof is checked against the id the page was opened for, not the one the node put in its answer. */}
            <ProofSection transaction={{ ...transaction, id }} final={transaction.status === 'final'} />
          </>
        )}
      </Loaded>
    </>
  )
}
