/**
 * Who can reach whom in a `SimNetwork`, and what each node is told about it: the links between nodes, the
 * partitions that cut them, and the `peer:join` / `peer:leave` events those cause. Events alternate per pair of
 * nodes (a node is never told twice that a peer joined), and a leave is announced only after the failure-detection
 * delay, and only if the peer is still gone then.
 */
import { GossipError, GossipErrorCode } from '../errors.js'
import type { PeerId } from '../network.js'
import type { SimNode } from './sim-node.js'
import type { VirtualClock } from './virtual-clock.js'

export class SimTopology {
  readonly #clock: VirtualClock
  readonly #failureDetectionMs: number
  readonly #nodes: SimNode[] = []
  readonly #byId = new Map<PeerId, SimNode>()
  readonly #links: SimNode[][] = []
  /** Per node, the peers it has been told joined and not since left: events always alternate per pair. */
  readonly #announced: Set<SimNode>[] = []
  /** Partition group of each node index; all zero when the network is whole. */
  #group: number[] = []

  constructor(clock: VirtualClock, failureDetectionMs: number) {
    this.#clock = clock
    this.#failureDetectionMs = failureDetectionMs
  }

  get nodes(): readonly SimNode[] {
    return this.#nodes
  }

  nodeById(peerId: string): SimNode | undefined {
    return this.#byId.get(peerId)
  }

  /** Takes in a new node (its index is the number of nodes before it), linked to nobody, in the first group. */
  add(node: SimNode): void {
    this.#nodes.push(node)
    this.#byId.set(node.peerId, node)
    this.#links.push([])
    this.#announced.push(new Set())
    this.#group.push(0)
  }

  /** Links two nodes (both directions); running nodes that can reach each other are told at once. */
  connect(a: SimNode, b: SimNode): void {
    if (a === b) return
    const linksA = this.#links[a.index] as SimNode[]
    if (linksA.includes(b)) return
    linksA.push(b)
    ;(this.#links[b.index] as SimNode[]).push(a)
    if (a.running && b.running && this.reachable(a, b)) {
      this.#announceJoin(a, b)
      this.#announceJoin(b, a)
    }
  }

  /** Running neighbours on this node's side of any partition. */
  neighboursOf(node: SimNode): readonly SimNode[] {
    const links = this.#links[node.index] as SimNode[]
    return links.filter((other) => other.running && this.reachable(node, other))
  }

  reachable(a: SimNode, b: SimNode): boolean {
    return this.#group[a.index] === this.#group[b.index]
  }

  /** Splits the network: nodes in different groups cannot reach each other; unlisted nodes form one more group. */
  partition(groups: readonly (readonly PeerId[])[]): void {
    const before = this.#group
    const next = new Array<number>(this.#nodes.length).fill(groups.length)
    groups.forEach((group, g) => {
      for (const peer of group) {
        const node = this.#byId.get(peer)
        if (node === undefined) throw new GossipError(GossipErrorCode.INVALID_INPUT, `unknown peer ${peer}`)
        if (next[node.index] !== groups.length) {
          throw new GossipError(GossipErrorCode.INVALID_INPUT, `peer ${peer.slice(0, 16)} is in two partition groups`)
        }
        next[node.index] = g
      }
    })
    this.#regroup(before, next)
  }

  /** Joins all partitions again. */
  heal(): void {
    this.#regroup(this.#group, new Array<number>(this.#nodes.length).fill(0))
  }

  /** A node started (or restarted): it and its reachable running neighbours meet. */
  nodeStarted(node: SimNode): void {
    for (const other of this.neighboursOf(node)) {
      this.#announceJoin(other, node)
      this.#announceJoin(node, other)
    }
  }

  /** A node stopped or crashed: its neighbours notice after the failure-detection delay. */
  nodeStopped(node: SimNode): void {
    // A stopped or crashed node's own view of its peers is gone with it.
    ;(this.#announced[node.index] as Set<SimNode>).clear()
    for (const other of this.#links[node.index] as SimNode[]) {
      if (other.running) this.#announceLeaveLater(other, node)
    }
  }

  #regroup(before: readonly number[], after: number[]): void {
    this.#group = after
    for (const node of this.#nodes) {
      if (!node.running) continue
      for (const other of this.#links[node.index] as SimNode[]) {
        const was = before[node.index] === before[other.index]
        const now = after[node.index] === after[other.index]
        if (was === now || !other.running) continue
        if (now) this.#announceJoin(node, other)
        else this.#announceLeaveLater(node, other)
      }
    }
  }

  /** Tells `observer` that `peer` joined, unless it already believes so. */
  #announceJoin(observer: SimNode, peer: SimNode): void {
    const announced = this.#announced[observer.index] as Set<SimNode>
    if (!observer.running || announced.has(peer)) return
    announced.add(peer)
    observer.emit({ type: 'peer:join', peer: peer.peerId })
  }

  /**
   * After the failure-detection delay, tells `observer` that `peer` left — if it is still gone then. A peer that
   * restarted or a cut that healed within the delay is never announced as left.
   */
  #announceLeaveLater(observer: SimNode, peer: SimNode): void {
    this.#clock.setTimer(this.#failureDetectionMs, () => {
      const announced = this.#announced[observer.index] as Set<SimNode>
      if (!announced.has(peer) || (peer.running && this.reachable(observer, peer))) return
      announced.delete(peer)
      observer.emit({ type: 'peer:leave', peer: peer.peerId })
    })
  }
}
