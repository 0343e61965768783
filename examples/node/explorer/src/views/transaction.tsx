/**
 * A transaction: how far it got (pending, proposed, agreed, refused, final), both halves — or, for a refused one,
 * the counterparty's reason and the void that undid the proposal — the timings this node recorded, and its agreement
 * proof once it can be built: until then the node answers 409 NOT_FINAL, shown as "not final yet" and asked again
 * whenever a round is certified or the transaction changes. A refused transaction can never become final, so no
 * proof is asked for.
 */
import { useRef } from 'preact/hooks'
import type { AgreementProofView, ProofSummary, TransactionStatus, TransactionView } from '../browser/api-types.js'
import { type FinalityCheckState, useFinalityCheck } from '../browser/use-finality-check.js'
import { useView } from '../browser/use-view.js'
import { formatAmount, formatBytes, formatDuration, formatTimestamp, shortHex } from '../model/format.js'
import { hrefOf } from '../model/route.js'
import { DataTable, ErrorNote, Facts, Hex, Loaded, Loading, PageHeading } from './common.js'
import { HalfBlockFacts } from './half-block.js'

/** What each status means, in a sentence beside the badge. */
const STATUS_TEXT: Readonly<Record<TransactionStatus, string>> = {
  pending: 'Signed and sent, and the counterparty has not answered yet: it may still be agreed.',
  proposed: 'This node holds the proposal but no answer to it.',
  agreed: 'Both halves are signed; it becomes final once a certified round finalises it.',
  refused: 'The counterparty refused it and the proposal was voided: nothing moved, and it can never become final.',
  final: 'A certified round finalised it.',
}

const since = (at: number, from: number) => `${formatTimestamp(at)} (after ${formatDuration(at - from)})`

/** Which side this node is on, beside the transaction's summary. */
const ROLE_TEXT: Readonly<Record<NonNullable<TransactionView['role']>, string>> = {
  proposer: 'proposer: an outgoing transfer',
  counterparty: 'counterparty: an incoming transfer',
}

/**
 * The timings this node recorded: as the proposer from its submission, as the counterparty from its agreement
 * (which is when it first saw the transaction). A transaction found final again after a restart has no final time.
 */
function Timings({ transaction }: { readonly transaction: TransactionView }) {
  const { submittedAt, agreedAt, finalAt, finalRound, status } = transaction
  if (submittedAt === undefined) return <p class="note">This node is not party to this transaction, so it holds no timings for it.</p>
  const finalRow = ['final in round', finalRound ?? '—'] as const
  const finalText = (from: number) =>
    finalAt !== undefined ? since(finalAt, from) : status === 'final' ? 'yes (not timed by this run of the node)' : 'not yet'
  if (transaction.role === 'counterparty') {
    const agreed = agreedAt ?? submittedAt
    return <Facts label="Timings" items={[['agreed here', formatTimestamp(agreed)], ['final', finalText(agreed)], finalRow]} />
  }
  const refused = status === 'refused'
  return (
    <Facts
      label="Timings"
      items={[
        ['proposed', formatTimestamp(submittedAt)],
        ['agreed', refused ? 'never: refused' : agreedAt === undefined ? 'not yet' : since(agreedAt, submittedAt)],
        ['final', refused ? 'never' : finalText(submittedAt)],
        finalRow,
      ]}
    />
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
      (fingerprint <Hex value={verdict.fingerprint} full />
      ), {verdict.signatures.toLocaleString('en')} signatures checked. Compare the fingerprint with the one published for the network: the check rests on that
      genesis alone.
    </p>
  )
}

function HalfRow({ name, half }: { readonly name: string; readonly half: ProofSummary['proposal'] }) {
  return (
    <tr>
      <th scope="row">{name}</th>
      <td>
        #{half.sequenceNumber} of chain <Hex value={half.publicKey} href={hrefOf({ view: 'chain', publicKey: half.publicKey })} />, hash{' '}
        <Hex value={half.hash} href={hrefOf({ view: 'block', hash: half.hash })} />
      </td>
    </tr>
  )
}

/** The proof's parts: the two signed halves, the certificate of the round that finalised it, the transfer's place in it. */
function ProofContents({ summary }: { readonly summary: ProofSummary }) {
  return (
    <DataTable caption="What the proof contains" columns={['part', 'contents']}>
      <HalfRow name="proposal" half={summary.proposal} />
      <HalfRow name="agreement" half={summary.agreement} />
      <tr>
        <th scope="row">certificate</th>
        <td data-testid="proof-round">
          round {summary.round} of {summary.group}, the round that finalised the transfer: {formatAmount(summary.signatures)}{' '}
          {summary.signatures === 1 ? 'signature' : 'signatures'} of its committee
        </td>
      </tr>
      <tr>
        <th scope="row">Merkle path</th>
        <td>
          transfer {formatAmount(summary.leaf + 1)} of the {formatAmount(summary.finalised)} that round {summary.round} finalised, up to their Merkle root,
          which the certificate signs
        </td>
      </tr>
    </DataTable>
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
          Not final yet: the proof can be built once a certified round finalises the transfer. It is asked for again as rounds are certified.
        </p>
      )}
      {proof === undefined && error !== undefined && !notFinal && <ErrorNote error={error} what="the agreement proof" />}
      {proof === undefined && error === undefined && <Loading what={final ? 'the agreement proof' : 'the agreement proof (if it can be built yet)'} />}
      {proof !== undefined && summary !== undefined && (
        <>
          <p class="note">
            {formatBytes(proof.bytes)} of proof: both signed halves, the certificate of the round that finalised the transfer, and the Merkle path from the
            transfer to the round's finalised transfers, which the certificate signs. Anyone holding the certificate chain from the genesis can check it with{' '}
            <code>verifyAgreementProof</code>; this page does, from the genesis the node names.
          </p>
          <ProofCheck check={check} />
          <ProofContents summary={summary} />
          <details>
            <summary>The proof's encoding ({proof.proof.length / 2} bytes, hex)</summary>
            <pre class="hex-dump">{proof.proof}</pre>
          </details>
        </>
      )}
    </section>
  )
}

/** A refused transaction's answer: the counterparty's reason and the void that undid the proposal. */
function RefusalSection({ transaction }: { readonly transaction: TransactionView }) {
  const { refusal } = transaction
  return (
    <section aria-labelledby="refusal-heading" class="panel" data-testid="refusal">
      <h2 id="refusal-heading">Refused</h2>
      <p class="note note--refused">
        Nothing moved: the counterparty refused this transfer
        {refusal === undefined ? '' : ` (${refusal.code}: ${refusal.reason})`}, and the proposer voided its proposal, which returned the{' '}
        {formatAmount(transaction.amount)} units to its balance. It can never become final.
      </p>
      {refusal === undefined ? <p class="note">This node holds no record of the void.</p> : <HalfBlockFacts block={refusal.void} label="Void half" />}
    </section>
  )
}

/** Where the agreement half goes: the agreement, or why there is none. */
function AnswerSection({ transaction }: { readonly transaction: TransactionView }) {
  if (transaction.status === 'refused') return <RefusalSection transaction={transaction} />
  return (
    <section aria-labelledby="agreement-heading" class="panel">
      <h2 id="agreement-heading">Agreement</h2>
      {transaction.agreement !== null ? (
        <HalfBlockFacts block={transaction.agreement} label="Agreement half" />
      ) : transaction.status === 'pending' ? (
        <p class="note">No answer from the counterparty yet: it may still agree (or refuse).</p>
      ) : (
        <p class="note">Not countersigned yet (or not known to this node).</p>
      )}
    </section>
  )
}

export function TransactionPage({ id }: { readonly id: string }) {
  // A transaction this node is not party to changes without a `transaction` event: rounds prompt a look until it
  // is settled (final, or refused).
  const settled = useRef(false)
  const state = useView<TransactionView>(
    `/v1/transactions/${id}`,
    ['id', 'status', 'proposal'],
    (event) => (event.kind === 'transaction' && event.id === id) || (!settled.current && event.kind === 'round'),
  )
  settled.current = state.data?.status === 'final' || state.data?.status === 'refused'
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
                  ['amount', transaction.status === 'refused' ? `${formatAmount(transaction.amount)} (not moved)` : formatAmount(transaction.amount)],
                  ['this node', transaction.role === undefined ? 'not party to it' : ROLE_TEXT[transaction.role]],
                ]}
              />
              <p class={transaction.status === 'refused' ? 'note note--refused' : 'note'} data-testid="tx-status-text">
                {STATUS_TEXT[transaction.status]}
              </p>
              <Timings transaction={transaction} />
            </section>
            <div class="halves">
              <section aria-labelledby="proposal-heading" class="panel">
                <h2 id="proposal-heading">Proposal</h2>
                <HalfBlockFacts block={transaction.proposal} label="Proposal half" />
              </section>
              <AnswerSection transaction={transaction} />
            </div>
            {transaction.status === 'refused' ? (
              <section aria-labelledby="proof-heading" class="panel" data-testid="proof">
                <h2 id="proof-heading">Agreement proof</h2>
                <p class="note">None: a refused transaction can never become final, so there is no proof of finality to build.</p>
              </section>
            ) : (
              // The proof is checked against the id the page was opened for, not the one the node put in its answer.
              <ProofSection transaction={{ ...transaction, id }} final={transaction.status === 'final'} />
            )}
          </>
        )}
      </Loaded>
    </>
  )
}
