/**
 * The full node's parts, and the in-memory ones a custom node or a test uses instead (see node-parts.ts): LevelDB
 * or memory for the chain, files or memory for the journals, js-libp2p or a simulator node for the network.
 */
import { createMemoryRoundJournal } from '@constellation/consensus'
import { createLibp2pNetwork, type SimNetwork } from '@constellation/gossip'
import { createMemoryBlockStore, openLevelBlockStore } from '@constellation/trustchain'
import { dataPaths, type NodeConfig } from '../config/node-config.js'
import { NodeError, NodeErrorCode } from '../errors.js'
import { createMemoryCertificateJournal, openCertificateJournal } from './certificate-journal.js'
import type { JournalsFactory, NetworkFactory, StoreFactory } from './node-parts.js'
import { openRoundJournalFile } from './round-journal-file.js'

/** Heartbeats of Gossipsub on a local network: meshes form in a few hundred milliseconds after peers connect. */
const GOSSIP_HEARTBEAT_MS = 200
/**
 * Rounds a node sits out past its last stored certificate when its data dir took part in consensus before the
 * round journal existed: it does not know what it sent in the rounds it was facilitating.
 */
const SIT_OUT_MARGIN = 3

/** The chain in LevelDB under `<dataDir>/chain`; a data dir another node holds open is refused with DATA_DIR_LOCKED. */
export function levelStore(): StoreFactory {
  return async ({ crypto, dataDir }) => {
    try {
      return await openLevelBlockStore({ crypto, location: dataPaths(dataDir).chain })
    } catch (error) {
      if (String((error as { code?: unknown }).code).includes('LOCKED') || /lock/i.test(String((error as Error).cause ?? ''))) {
        throw new NodeError(NodeErrorCode.DATA_DIR_LOCKED, `${dataDir} is in use by another node`, {}, { cause: error })
      }
      throw error
    }
  }
}

/** The chain in memory: gone when the process ends. */
export function memoryStore(): StoreFactory {
  return ({ crypto }) => createMemoryBlockStore({ crypto })
}

/**
 * The certificates in LevelDB under `<dataDir>/consensus` and the facilitator's round journal in
 * `<dataDir>/round-journal`, synced before each message leaves, so a restart resumes the round it was in instead of
 * sitting it out (see round-journal-file.ts).
 */
export function fileJournals(): JournalsFactory {
  return async ({ dataDir }) => {
    const paths = dataPaths(dataDir)
    const certificates = await openCertificateJournal(paths.consensus)
    try {
      const rounds = await openRoundJournalFile(paths.roundJournal)
      // Only a data dir that took part in consensus before it had a round journal sits rounds out, once.
      const sitOutThroughRound = certificates.started && rounds.created ? (await certificates.certificates()).length + SIT_OUT_MARGIN : 0
      return {
        certificates,
        rounds,
        sitOutThroughRound,
        opened: { journalledRecords: rounds.size.records, journalTruncatedBytes: rounds.truncatedBytes },
      }
    } catch (error) {
      await certificates.close()
      throw error
    }
  }
}

/** Journals in memory: a restart starts the consensus afresh (the node catches up from its peers). */
export function memoryJournals(): JournalsFactory {
  return () => ({ certificates: createMemoryCertificateJournal(), rounds: createMemoryRoundJournal(), sitOutThroughRound: 0, opened: {} })
}

/** js-libp2p over TCP, as `config.p2p` says: listen and announce addresses, bootstrap peers, the dial address. */
export function libp2pNetwork(p2p: NodeConfig['p2p']): NetworkFactory {
  return ({ crypto, keyPair, isFacilitator }) =>
    createLibp2pNetwork({
      crypto,
      keyPair,
      listen: p2p.listen,
      bootstrap: p2p.bootstrap,
      ...(p2p.announce !== undefined && { announce: p2p.announce }),
      ...(p2p.dialFrom !== undefined && { dialFrom: p2p.dialFrom }),
      gossip: { heartbeatIntervalMs: GOSSIP_HEARTBEAT_MS },
      connectToDiscovered: isFacilitator,
    })
}

/** A node of a `SimNetwork` (one process, virtual time, seeded), named by the node's own key. */
export function simNetwork(sim: SimNetwork): NetworkFactory {
  return ({ keyPair }) => sim.addNode(keyPair)
}
