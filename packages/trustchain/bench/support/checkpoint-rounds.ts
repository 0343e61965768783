/**
 * A stand-in for the consensus in the anchored-flow benchmark, so that anchors move as they do in the real system.
 *
 * At the start and then every `roundMs` of virtual time one "round" ends: the checkpoint each node appended when the
 * round before ended is certified (`TestAnchors.certify`, as this package's tests do), and each node appends a new checkpoint through
 * its chain API (`node.checkpoint`, as the consensus's member shell does after each certificate). So a checkpoint
 * is certified one round after it was appended, and a counterparty checks only the proposer's blocks after an
 * anchor at most about two rounds old.
 *
 * What it does not do: check anything. The real consensus's facilitators check each stretch in full (signatures
 * included) before they certify it; that work is measured by the consensus package's benchmarks, not here. The
 * spendable balance it certifies is the previous one minus the stretch's transfer proposals plus its voids: value
 * received is not counted (the real ledger adds it once both halves are certified), which can only make a node
 * refuse a transfer for funds, never accept one the real consensus would refuse.
 */
import type { Crypto } from '@constellation/crypto'
import type { TimerHandle } from '@constellation/interface'
import { type AnchoredNode, type Clock, type HalfBlock, isProposal, isVoid, transferOf, VoidPayloadCodec } from '../../src/index.js'
import type { TestAnchors } from '../../test/anchored-harness.js'

export interface CheckpointRoundsStats {
  /** Rounds ended. */
  rounds: number
  /** Checkpoints appended, and certified. */
  checkpoints: number
  certified: number
}

export interface CheckpointRounds {
  readonly stats: CheckpointRoundsStats
  stop(): void
}

export function startCheckpointRounds(options: {
  readonly crypto: Crypto
  readonly clock: Clock
  readonly anchors: TestAnchors
  readonly nodes: readonly AnchoredNode[]
  readonly roundMs: number
}): CheckpointRounds {
  const { crypto, clock, anchors, nodes, roundMs } = options
  const stats: CheckpointRoundsStats = { rounds: 0, checkpoints: 0, certified: 0 }
  /** Per node: the checkpoint appended at the end of the last round, to be certified at the end of this one. */
  const appended = new Map<AnchoredNode, HalfBlock>()
  let timer: TimerHandle | undefined
  let stopped = false

  /** What the node may spend after `checkpoint`: its anchor's spendable, less what the stretch up to it pays out. */
  const spendableAt = async (node: AnchoredNode, checkpoint: HalfBlock): Promise<number> => {
    const anchor = anchors.anchorOf(node.publicKey)
    if (anchor === undefined) throw new Error('a benchmark node without an anchor')
    let spendable = anchor.spendable
    for (const block of await node.stretch(anchor.sequenceNumber)) {
      if (block.sequenceNumber > checkpoint.sequenceNumber) break
      const moved = isProposal(block) ? transferOf(block.type, block.payload) : undefined
      if (moved !== undefined) spendable -= moved.amount
      else if (isVoid(block) && VoidPayloadCodec.is(block.payload)) spendable += block.payload.amount
    }
    return spendable
  }

  const endRound = async () => {
    stats.rounds++
    const round = anchors.round()
    const certifying = [...appended]
    appended.clear()
    const spendable = await Promise.all(certifying.map(([node, checkpoint]) => spendableAt(node, checkpoint)))
    certifying.forEach(([, checkpoint], i) => anchors.certify(crypto, checkpoint, spendable[i] as number))
    stats.certified += certifying.length
    const consensusResultHash = crypto.sha256(new TextEncoder().encode(`bench-round/${round}`))
    await Promise.all(
      nodes.map(async (node) => {
        try {
          appended.set(node, await node.checkpoint({ consensusResultHash, round }))
          stats.checkpoints++
        } catch {
          // A stopped node appends nothing.
        }
      }),
    )
  }

  const schedule = () => {
    timer = clock.setTimer(roundMs, () => {
      if (stopped) return
      void endRound().finally(() => {
        if (!stopped) schedule()
      })
    })
  }
  // The first checkpoints are appended at once, so the first certification comes one round in.
  void endRound().finally(() => {
    if (!stopped) schedule()
  })
  return {
    stats,
    stop() {
      stopped = true
      timer?.cancel()
    },
  }
}
