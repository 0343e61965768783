/**
 * The parts a node is built from that a user may replace: where the chain is stored, how the node reaches its
 * peers, its clock, the journals of its consensus, the election rules (the scorer among them), and its key and
 * genesis. Each part is a factory in js-libp2p's "components" style — `(components) => part` — that declares only
 * the components it uses, so a custom node passes `memoryStore()` or `simNetwork(sim)` where the full node has
 * `levelStore()` and `libp2pNetwork(config.p2p)`. The defaults (default-parts.ts) are what `constellation start`
 * runs.
 */
import type { RoundJournal, SolarSystemRules } from '@constellation/consensus'
import type { Crypto, KeyPair } from '@constellation/crypto'
import type { Network } from '@constellation/gossip'
import type { Clock, PeerId } from '@constellation/interface'
import type { BlockStore } from '@constellation/trustchain'
import type { NetworkGenesis } from '../config/network-genesis.js'
import type { CertificateJournal } from './certificate-journal.js'

/** What the node needs of its network: a gossip `Network`, plus what a real transport adds when it has it. */
export interface NodeNetwork extends Network {
  /** The addresses peers can dial this node on (none on a simulator). */
  listenAddresses?(): string[]
  /** Connects to a known peer now, rather than on first use (facilitators reach each other this way). */
  connect?(peer: PeerId): Promise<void>
}

export interface NetworkComponents {
  readonly crypto: Crypto
  /** The network identity signs its handshakes and adverts with the node's key. */
  readonly keyPair: KeyPair
  /** Whether `peer` facilitates the current round: such peers are connected to as soon as they are discovered. */
  readonly isFacilitator: (peer: PeerId) => boolean
}

/** Builds the node's network; the node starts it, and stops it when it closes. */
export type NetworkFactory = (components: NetworkComponents) => NodeNetwork | Promise<NodeNetwork>

export interface StoreComponents {
  readonly crypto: Crypto
  readonly dataDir: string
}

/** Opens the node's block store; the node closes it when it closes. */
export type StoreFactory = (components: StoreComponents) => BlockStore | Promise<BlockStore>

/** The consensus's memory across restarts: the certified rounds, and what the facilitator sent in the last ones. */
export interface NodeJournals {
  readonly certificates: CertificateJournal
  readonly rounds: RoundJournal & { close?(): Promise<void> }
  /**
   * Rounds to sit out after a restart: a data dir that took part in consensus before its round journal existed
   * does not know what it sent in the rounds it facilitated (0 otherwise).
   */
  readonly sitOutThroughRound: number
  /** Facts about the journals worth a line in the log when they open. */
  readonly opened: Readonly<Record<string, unknown>>
}

export interface JournalComponents {
  readonly dataDir: string
}

/** Opens the node's journals; the node closes them when it closes. */
export type JournalsFactory = (components: JournalComponents) => NodeJournals | Promise<NodeJournals>

/** Every node of one network must use the same rules: an election is re-checked by everyone. */
export type RulesFactory = (components: { readonly genesis: NetworkGenesis; readonly fromGenesis: SolarSystemRules }) => SolarSystemRules

/** The parts `createNode` accepts in place of its defaults; any left out are the full node's. */
export interface NodeParts {
  /** The node's key pair (default: the key file in the data dir, opened with `passphrase`). Only the signer keeps it. */
  readonly keyPair?: KeyPair
  /** The network's genesis (default: read from `config.genesisFile`). */
  readonly genesis?: NetworkGenesis
  /** Default: `levelStore()`, LevelDB under `<dataDir>/chain`. */
  readonly store?: StoreFactory
  /** Default: `fileJournals()`, LevelDB and an append-only file under the data dir. */
  readonly journals?: JournalsFactory
  /** Default: `libp2pNetwork(config.p2p)`, js-libp2p over TCP. */
  readonly network?: NetworkFactory
  /** Default: the wall clock. A simulator's virtual clock runs the node in virtual time. */
  readonly clock?: Clock
  /** Default: the rules the genesis derives (see config/network-genesis-form.ts). */
  readonly rules?: RulesFactory
}
