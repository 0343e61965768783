/**
 * Proof of Meme as this node sees it: each member's meme (score, bracket, newcomer or not), the committee elected
 * for the next round, and the past elections read from the certificates. Refreshed as rounds are certified.
 */
import type { MemesView } from '../browser/api-types.js'
import { useView } from '../browser/use-view.js'
import { formatCount, formatScore } from '../model/format.js'
import { hrefOf } from '../model/route.js'
import { DataTable, Facts, Hex, HexList, Loaded, PageHeading } from './common.js'

const chainHref = (id: string) => hrefOf({ view: 'chain', publicKey: id })

const MEME_COLUMNS = [
  'member',
  { label: 'score', numeric: true },
  { label: 'undocked', numeric: true },
  { label: 'penalty', numeric: true },
  'bracket',
  'facilitator next',
  { label: 'age (rounds)', numeric: true },
  'history',
]

function MemesContent({ view }: { readonly view: MemesView }) {
  return (
    <>
      <section aria-labelledby="committee-heading" class="panel">
        <h2 id="committee-heading">Committee for round {view.committee.servesRound}</h2>
        <Facts
          label="Committee"
          items={[
            ['elected after round', view.round],
            ['facilitators', <HexList values={view.committee.facilitators} hrefOf={chainHref} />],
            ['faults tolerated', view.committee.faultsTolerated],
            ['quorum', view.committee.quorum],
          ]}
        />
      </section>
      <section aria-labelledby="memes-heading" class="panel">
        <h2 id="memes-heading">Memes</h2>
        <DataTable caption={`${view.memes.length} members' memes as of round ${view.round}, highest score first`} columns={MEME_COLUMNS}>
          {[...view.memes]
            .sort((a, b) => b.score - a.score || a.id.localeCompare(b.id))
            .map((meme) => (
              <tr key={meme.id}>
                <th scope="row">
                  <Hex value={meme.id} href={chainHref(meme.id)} />
                </th>
                <td class="num">{formatScore(meme.score)}</td>
                <td class="num">{formatScore(meme.undockedScore)}</td>
                <td class="num">{formatScore(meme.penalty)}</td>
                <td>{meme.bracket === 'newcomers' ? 'newcomers' : `bracket ${meme.bracket}`}</td>
                <td>{meme.facilitator ? 'yes' : 'no'}</td>
                <td class="num">{meme.ageRounds}</td>
                <td>
                  {meme.history.goodObservations} of {meme.history.observations} observations good, {meme.history.provenFaults} proven faults
                </td>
              </tr>
            ))}
        </DataTable>
      </section>
      <section aria-labelledby="elections-heading" class="panel">
        <h2 id="elections-heading">Election history</h2>
        {view.election !== null && (
          <p class="note">
            Latest election (after round {view.election.round}):{' '}
            {view.election.seats
              .map((seat) => `${seat.memeId.slice(0, 8)} from ${seat.bracket === 'newcomers' ? 'newcomers' : `bracket ${seat.bracket}`}`)
              .join(', ')}
            .
          </p>
        )}
        <DataTable
          caption={`Facilitators elected by the last ${formatCount(view.elections.length, 'certified round')}`}
          columns={['certified round', 'serves round', 'facilitators']}
        >
          {view.elections.map((election) => (
            <tr key={election.round}>
              <th scope="row">{election.round}</th>
              <td>{election.servesRound}</td>
              <td>
                <HexList values={election.facilitators} hrefOf={chainHref} />
              </td>
            </tr>
          ))}
        </DataTable>
      </section>
    </>
  )
}

export function MemesPage() {
  const state = useView<MemesView>('/v1/memes?elections=20', ['round', 'committee', 'memes', 'elections'], (event) => event.kind === 'round')
  return (
    <>
      <PageHeading title="Memes">Memes and elections</PageHeading>
      <Loaded state={state} what="the memes">
        {(view) => <MemesContent view={view} />}
      </Loaded>
    </>
  )
}
