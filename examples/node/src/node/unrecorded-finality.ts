/**
 * Transfers a node took part in before it (re)started whose finality its journal does not hold. A node that stops
 * between a transfer's agreement and the round that finalised it — or after applying that round but before its
 * record reached the journal — would otherwise never mark it: the tracker starts empty, and a round names transfers
 * only by their halves' hashes. So a starting node looks through its newest blocks for agreed transfers without a
 * final record; the rounds it applies while catching up (or holds already) then mark them.
 */
import { type Crypto, toHex } from '@constellation/crypto'
import { blockHash, type BlockStore, type HalfBlock, isProposal } from '@constellation/trustchain'
import type { CertificateJournal } from './certificate-journal.js'
import { storedAnswer } from './stored-answer.js'

/** Own blocks, the newest, a starting node looks through: the transfers a stop can have caught are recent. */
export const UNRECORDED_SCAN_BLOCKS = 4_096

/** An agreed transfer without a final record. */
export interface UnrecordedTransfer {
  /** The transfer's id: its proposal's hash. */
  readonly id: Uint8Array
  readonly proposal: HalfBlock
  readonly agreement: HalfBlock
}

/** The agreed transfers among `blocks` (this node's own) whose finality `journal` has not recorded, by the hex hash of this node's half. */
export async function unrecordedFinality(
  crypto: Crypto,
  store: BlockStore,
  journal: Pick<CertificateJournal, 'finalRound'>,
  blocks: readonly HalfBlock[],
): Promise<Map<string, UnrecordedTransfer>> {
  const unrecorded = new Map<string, UnrecordedTransfer>()
  for (const own of blocks) {
    if (own.type !== 'tx') continue
    const proposal = isProposal(own) ? own : await store.get(own.linkPublicKey, own.linkSequenceNumber)
    if (proposal === undefined) continue
    const id = blockHash(crypto, proposal)
    if ((await journal.finalRound(id)) !== undefined) continue
    let agreement: HalfBlock | undefined = own
    if (own === proposal) {
      const answer = await storedAnswer(store, proposal)
      agreement = answer.status === 'agreed' ? answer.agreement : undefined
    }
    if (agreement !== undefined) unrecorded.set(toHex(blockHash(crypto, own)), { id, proposal, agreement })
  }
  return unrecorded
}
