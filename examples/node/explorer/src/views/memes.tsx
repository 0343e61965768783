/**
 * Proof of Meme as this node sees it: each member's meme (score, bracket, newcomer or not), the committee elected
 * for the next round, and the past elections read from the certificates. Refreshed as rounds are certified.
 */
import type { MemesView } from '../browser/api-types.js'
import { useView } from '../browser/use-view.js'
import { formatScore } from '../model/format.js'
import { hrefOf } from '../model/route.js'
import { ErrorNote, Facts, Hex, HexList, Loading, PageHeading } from './common.js'

const chainHref = (id: string) => hrefOf({ view: 'chain', publicKey: id })

export function MemesPage() {
  const { data: view, error } = useView<MemesView>('/v1/memes?elections=20', ['round', 'committee', 'memes', 'elections'], (event) => event.kind === 'round')
  return (
    <>
      <PageHeading title="Memes">Memes and elections</PageHeading>
      {error !== undefined && <ErrorNote error={error} what="the memes" />}
      {view === undefined && error === undefined && <Loading what="the memes" />}
      {view !== undefined && (
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
            <div class="table-scroll">
              <table>
                <caption>
                  {view.memes.length} members' memes as of round {view.round}, highest score first
                </caption>
                <thead>
                  <tr>
                    <th scope="col">member</th>
                    <th scope="col" class="num">
                      score
                    </th>
                    <th scope="col" class="num">
                      undocked
                    </th>
                    <th scope="col" class="num">
                      penalty
                    </th>
                    <th scope="col">bracket</th>
                    <th scope="col">facilitator next</th>
                    <th scope="col" class="num">
                      age (rounds)
                    </th>
                    <th scope="col">history</th>
                  </tr>
                </thead>
                <tbody>
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
                </tbody>
              </table>
            </div>
          </section>
          <section aria-labelledby="elections-heading" class="panel">
            <h2 id="elections-heading">Election history</h2>
            {view.election !== null && (
              <p class="note">
                Latest election (after round {view.election.round}):{' '}
                {view.election.seats.map((seat) => `${seat.memeId.slice(0, 8)} from ${seat.bracket === 'newcomers' ? 'newcomers' : `bracket ${seat.bracket}`}`).join(', ')}.
              </p>
            )}
            <div class="table-scroll">
              <table>
                <caption>Facilitators elected by the last {view.elections.length} certified rounds</caption>
                <thead>
                  <tr>
                    <th scope="col">certified round</th>
                    <th scope="col">serves round</th>
                    <th scope="col">facilitators</th>
                  </tr>
                </thead>
                <tbody>
                  {view.elections.map((election) => (
                    <tr key={election.round}>
                      <th scope="row">{election.round}</th>
                      <td>{election.servesRound}</td>
                      <td>
                        <HexList values={election.facilitators} hrefOf={chainHref} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
        </>
      )}
    </>
  )
}
