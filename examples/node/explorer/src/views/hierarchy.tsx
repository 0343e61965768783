/**
 * The hierarchy this network runs, level by level from its solar systems up to its root (star clusters, galaxies,
 * a universe exist only once the network has that many solar systems); a network of one solar system is told so.
 */
import type { HierarchyView } from '../browser/api-types.js'
import { useView } from '../browser/use-view.js'
import { hierarchySummary } from '../model/hierarchy-summary.js'
import { DataTable, Hex, HexList, Loaded, PageHeading } from './common.js'

const COLUMNS = ['group', 'certified by', 'round', 'result hash', 'members', 'facilitators', 'children committed', 'this node']

/** What this node is to the group: facilitating, validating, following (a member or a child it follows), or nothing. */
function roleOf(group: HierarchyView['levels'][number]['groups'][number]): string {
  if (group.facilitating) return group.level === 0 ? 'member, facilitating' : 'validator, facilitating'
  if (group.validating) return 'validator'
  if (group.followed) return 'follows it'
  return 'does not follow it'
}

export function HierarchyPage() {
  const state = useView<HierarchyView>('/v1/hierarchy', ['levels', 'root'], (event) => event.kind === 'round')
  return (
    <>
      <PageHeading title="Hierarchy">Hierarchy</PageHeading>
      <Loaded state={state} what="the hierarchy">
        {(view) => (
          <>
            <p class="lead" data-testid="hierarchy-summary">
              {hierarchySummary(view)}
            </p>
            <p data-testid="hierarchy-roles">
              This node is a member of {view.solarSystem}; its roles: {view.roles.join(', ')}.
            </p>
            {view.levels
              .filter((level) => level.groups.length > 0)
              .map((level) => (
                <section key={level.level} aria-labelledby={`level-${level.level}`} class="panel">
                  <h2 id={`level-${level.level}`}>
                    Level {level.level}: {level.name === 'galaxy' ? 'galaxies' : `${level.name}s`}
                  </h2>
                  <DataTable
                    caption={`${level.groups.length} ${level.groups.length === 1 ? level.name : `${level.name} groups`} at level ${level.level}`}
                    columns={COLUMNS}
                  >
                    {level.groups.map((group) => (
                      <tr key={group.group}>
                        <th scope="row">
                          {group.group}
                          {group.group === view.root.group && group.level === view.root.level ? ' (root)' : ''}
                        </th>
                        <td>{group.parent ?? <span class="muted">none: the root</span>}</td>
                        <td>{group.round ?? <span class="muted">not followed</span>}</td>
                        <td>{group.resultHash === null ? <span class="muted">—</span> : <Hex value={group.resultHash} />}</td>
                        <td>
                          <details>
                            <summary>{group.members.length} members</summary>
                            <HexList values={group.members} />
                          </details>
                        </td>
                        <td>
                          <HexList values={group.facilitators} />
                        </td>
                        <td data-testid={`committed-${group.group}`}>
                          {group.committed.length === 0 ? (
                            <span class="muted">{group.children.length === 0 ? '—' : `${group.children.length} children`}</span>
                          ) : (
                            <ul class="plain">
                              {group.committed.map((child) => (
                                <li key={child.group}>
                                  {child.group}: round {child.round}
                                  {child.in > 0 ? ` (in round ${child.in})` : ''}
                                </li>
                              ))}
                            </ul>
                          )}
                        </td>
                        <td>{roleOf(group)}</td>
                      </tr>
                    ))}
                  </DataTable>
                </section>
              ))}
          </>
        )}
      </Loaded>
    </>
  )
}
