/**
 * The certified history of a group this node follows, by level and name: its own solar system, a group above level 0
 * it validates, a child of one (the validator follows each child's certificates), or a group it follows without
 * running it (another solar system, the root). Undefined for any other group: the node does not hold it, and says so
 * rather than guess.
 */
import type { CertificateHistory } from '@constellation/consensus'
import type { FullNode } from './full-node.js'

export function followedHistory(node: FullNode, level: number, group: string): CertificateHistory | undefined {
  const own = node.consensus.history
  if (level === 0 && group === own.genesis.group) return own
  for (const validated of node.levels) {
    if (validated.genesis.level === level && validated.genesis.group === group) return validated.history
    if (validated.genesis.level === level + 1) {
      const child = validated.childHistory(group)
      if (child !== undefined) return child
    }
  }
  return node.followed.find((followed) => followed.genesis.level === level && followed.genesis.group === group)?.history
}
