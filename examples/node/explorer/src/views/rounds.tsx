/**
 * Certified checkpoint rounds per solar system: who signed each certificate, who facilitated the round, the
 * checkpoints it committed to and the facilitators it elected. Rounds arrive live from the event stream; the first
 * page comes from /v1/consensus/rounds.
 */
import { useEffect, useState } from 'preact/hooks'
import { ApiFailure, getView } from '../browser/api.js'
import type { CertificateView, RoundsPage as RoundsPageView } from '../browser/api-types.js'
import { useLiveEvents } from '../browser/use-view.js'
import { mergeCertificates, type RoundRow, roundsByGroup } from '../model/certified-rounds.js'
import { formatCount } from '../model/format.js'
import { hrefOf } from '../model/route.js'
import { DataTable, ErrorNote, Hex, HexList, Loading, PageHeading } from './common.js'

const ROUND_COLUMNS = ['round', 'result hash', 'signers', 'facilitators', 'checkpoints', 'faults', 'elected for next round']

function CheckpointList({ checkpoints }: { readonly checkpoints: CertificateView['checkpoints'] }) {
  if (checkpoints.length === 0) return <span class="muted">none</span>
  return (
    <details>
      <summary>{formatCount(checkpoints.length, 'checkpoint')}</summary>
      <ul class="hex-list">
        {checkpoints.map((checkpoint) => (
          <li key={checkpoint.hash}>
            <Hex value={checkpoint.hash} href={hrefOf({ view: 'block', hash: checkpoint.hash })} /> #{checkpoint.sequenceNumber} of{' '}
            <Hex value={checkpoint.publicKey} href={hrefOf({ view: 'chain', publicKey: checkpoint.publicKey })} />
          </li>
        ))}
      </ul>
    </details>
  )
}

function RoundRowView({ row }: { readonly row: RoundRow }) {
  const { certificate } = row
  return (
    <tr data-testid="round-row" data-round={certificate.round}>
      <th scope="row">{certificate.round}</th>
      <td>
        <Hex value={certificate.resultHash} />
      </td>
      <td>
        <details>
          <summary>{formatCount(certificate.signers.length, 'signer')}</summary>
          <HexList values={certificate.signers} />
        </details>
      </td>
      <td>
        {row.facilitators !== null ? (
          <HexList values={row.facilitators} />
        ) : (
          <span class="muted">{certificate.round === 1 ? 'the genesis committee' : 'elected in a round not listed'}</span>
        )}
      </td>
      <td>
        <CheckpointList checkpoints={certificate.checkpoints} />
      </td>
      <td>
        {certificate.faults.length === 0 ? (
          <span class="muted">none</span>
        ) : (
          certificate.faults.map((fault) => `${fault.kind} by ${fault.memeId.slice(0, 8)}`).join(', ')
        )}
      </td>
      <td>
        <HexList values={certificate.nextFacilitators} />
      </td>
    </tr>
  )
}

export function RoundsPage() {
  const [certificates, setCertificates] = useState<readonly CertificateView[]>([])
  const [loaded, setLoaded] = useState(false)
  const [error, setError] = useState<ApiFailure | undefined>(undefined)

  // The latest page on arrival, and again whenever the stream opens anew (rounds certified during a break).
  const [streams, setStreams] = useState(0)
  useEffect(() => {
    const controller = new AbortController()
    getView<RoundsPageView>('/v1/consensus/rounds?limit=20', ['latestRound', 'rounds'], controller.signal)
      .then((page) => {
        setCertificates((known) => mergeCertificates(known, page.rounds))
        setLoaded(true)
        setError(undefined)
      })
      .catch((failure: unknown) => {
        if (!controller.signal.aborted) setError(failure instanceof ApiFailure ? failure : new ApiFailure(0, 'UNREACHABLE', String(failure)))
      })
    return () => controller.abort()
  }, [streams])

  useLiveEvents((event) => {
    if (event.kind === 'round') setCertificates((known) => mergeCertificates(known, [event.certificate]))
    // The first stream's hello comes with the first page: only a later one means a break.
    else if (event.kind === 'hello' && loaded) setStreams((count) => count + 1)
  })

  const groups = roundsByGroup(certificates)
  return (
    <>
      <PageHeading title="Checkpoint rounds">Checkpoint rounds</PageHeading>
      <p class="note">Each certified round's certificate, newest first; new rounds appear here as this node applies them.</p>
      {error !== undefined && <ErrorNote error={error} what="the certified rounds" />}
      {!loaded && error === undefined && groups.length === 0 && <Loading what="the certified rounds" />}
      {loaded && groups.length === 0 && <p class="note">No round has been certified yet.</p>}
      {groups.map((group) => (
        <section key={`${group.level}/${group.group}`} aria-labelledby={`rounds-${group.level}-${group.group}`} class="panel">
          <h2 id={`rounds-${group.level}-${group.group}`}>
            {group.level === 0 ? 'Solar system' : `Level ${group.level}`} {group.group}
          </h2>
          <DataTable caption={`Certified rounds of ${group.group} (latest ${group.rows.length}, newest first)`} columns={ROUND_COLUMNS}>
            {group.rows.map((row) => (
              <RoundRowView key={row.certificate.round} row={row} />
            ))}
          </DataTable>
        </section>
      ))}
    </>
  )
}
