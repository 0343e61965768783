/**
 * The sentence that opens the hierarchy view: how many levels the network runs and which group is its root. A
 * network of one solar system has no star clusters, galaxies or universe, and the view says so rather than showing
 * empty levels.
 */
import type { HierarchyView } from '../../../src/explorer/explorer-views.js'

export function hierarchySummary(view: HierarchyView): string {
  const levels = view.levels.filter((level) => level.groups.length > 0)
  const top = levels.at(-1)
  if (top === undefined) return 'This node knows of no solar system yet.'
  const solarSystems = levels[0]?.groups.length ?? 0
  if (levels.length === 1 && solarSystems === 1) {
    return `This network runs a single solar system, ${view.root.group}, and it is the network's root: there are no star clusters, galaxies or universe above it.`
  }
  const counts = levels.map((level) => `${level.groups.length} ${level.groups.length === 1 ? level.name : pluralOf(level.name)}`)
  return `This network runs ${levels.length} levels — ${counts.join(', ')} — and its root is the ${top.name} ${view.root.group}.`
}

function pluralOf(name: string): string {
  return name === 'galaxy' ? 'galaxies' : `${name}s`
}
