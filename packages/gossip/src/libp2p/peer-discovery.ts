/**
 * Finding peers on libp2p through the neighbours (the wire format is in peer-exchange.ts): a node answers a
 * neighbour's query with the signed peer records identify stored for its other peers, or for the one peer asked
 * about; it asks each new neighbour for its peers, and asks its neighbours for a peer it has to reach but has no
 * address for (as libp2p's peer router). Records are taken only when their seal holds; a neighbour that sends one
 * that does not, or a query that does not decode, has it counted against it.
 */
import { fromHex, toHex } from '@constellation/crypto'
import { type PeerId as Libp2pPeerId, NotFoundError, type PeerInfo, type PeerRouting } from '@libp2p/interface'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import type { Clock } from '../clock.js'
import { GossipError, GossipErrorCode } from '../errors.js'
import type { InboundRequest, PeerId } from '../network.js'
import type { Libp2pNode } from './libp2p-node.js'
import {
  decodePeerExchangeQuery,
  decodePeerRecords,
  encodePeerExchangeQuery,
  encodePeerRecords,
  MAX_EXCHANGED_RECORDS,
  MAX_PEER_RECORD_BYTES,
  PEER_EXCHANGE_PROTOCOL,
  type PeerExchangeQuery,
} from './peer-exchange.js'
import { libp2pIdOf, networkIdOf } from './peer-identity.js'

/** Longest a peer-exchange answer waits for a just-connected peer to be identified (its record to arrive). */
const IDENTIFY_WAIT_MS = 2_000
/** Neighbours asked at once for the record of a peer this node cannot reach. */
const PEER_LOOKUP_FAN_OUT = 8

export interface PeerDiscoveryComponents {
  readonly self: PeerId
  readonly clock: Clock
  /** Aborted when the network stops: waits end and dials are abandoned. */
  readonly stopping: AbortSignal
  /** Which newly learnt peers to connect to at once. */
  connectToDiscovered(peer: PeerId): boolean
  /** Whether the network is running (started, not stopping). */
  isRunning(): boolean
  /** The running libp2p node; throws NETWORK_CLOSED when the network is not running. */
  running(): Libp2pNode
  /** The libp2p node once it is built, running or not. */
  node(): Libp2pNode | undefined
  /** The connected peers (none unless running). */
  peers(): PeerId[]
  request(peer: PeerId, protocol: string, data: Uint8Array): Promise<Uint8Array>
  /** Counts a misbehaviour against `peer`. */
  reject(peer: PeerId): void
}

export class PeerDiscovery {
  readonly #components: PeerDiscoveryComponents

  constructor(components: PeerDiscoveryComponents) {
    this.#components = components
  }

  /** The request handler of `PEER_EXCHANGE_PROTOCOL`: the signed records of this node's other peers, or of the one it names. */
  async answer(request: InboundRequest): Promise<Uint8Array> {
    const query = decodePeerExchangeQuery(request.data)
    const node = this.#components.running()
    const wanted =
      query.kind === 'peer'
        ? [libp2pIdOf(toHex(query.publicKey))]
        : node.getPeers().filter((peer) => {
            const id = networkIdOf(peer)
            return id !== undefined && id !== request.from
          })
    const found = await Promise.all(wanted.slice(0, MAX_EXCHANGED_RECORDS).map((peer) => this.#identifiedRecordOf(node, peer)))
    return encodePeerRecords(found.filter((record): record is Uint8Array => record !== undefined && record.length <= MAX_PEER_RECORD_BYTES))
  }

  /**
   * Asks `neighbour` for peer records and stores those whose seal holds (and that are newer than held); connects to
   * the new ones `connectToDiscovered` names. Resolves with the peers whose records were taken; never rejects.
   */
  async askForPeers(neighbour: PeerId, query: PeerExchangeQuery): Promise<Libp2pPeerId[]> {
    const { self, stopping, connectToDiscovered, isRunning, request, reject } = this.#components
    let records: Uint8Array[]
    try {
      const answer = await request(neighbour, PEER_EXCHANGE_PROTOCOL, encodePeerExchangeQuery(query))
      records = decodePeerRecords(answer)
    } catch (error) {
      if (error instanceof GossipError && error.code === GossipErrorCode.INVALID_INPUT) reject(neighbour)
      return [] // gone, slow or stopping: the next neighbour may know
    }
    const node = this.#components.node()
    if (node === undefined || !isRunning()) return []
    const taken: Libp2pPeerId[] = []
    for (const record of records) {
      let peer: Libp2pPeerId
      try {
        const envelope = await RecordEnvelope.openAndCertify(record, PeerRecord.DOMAIN)
        peer = PeerRecord.createFromProtobuf(envelope.payload).peerId
        const id = networkIdOf(peer)
        if (id === undefined || id === self) continue
        if (!(await node.peerStore.consumePeerRecord(record, { expectedPeer: peer }))) continue
      } catch {
        reject(neighbour) // a record whose seal does not hold: the neighbour made or altered it
        continue
      }
      taken.push(peer)
      const id = networkIdOf(peer) as PeerId
      if (isRunning() && node.getConnections(peer).length === 0 && connectToDiscovered(id)) {
        node.dial(peer, { signal: stopping }).catch(() => {
          // Unreachable at its stated addresses for now: a later exchange or request tries again.
        })
      }
    }
    return taken
  }

  /** A libp2p peer router that asks the neighbours for a peer's signed record. */
  router(): PeerRouting {
    return {
      findPeer: async (peer: Libp2pPeerId): Promise<PeerInfo> => {
        const target = networkIdOf(peer)
        const node = this.#components.node()
        if (target === undefined || node === undefined) throw new NotFoundError(`${peer.toString()} is not a Constellation peer`)
        const neighbours = this.#components
          .peers()
          .filter((id) => id !== target)
          .slice(0, PEER_LOOKUP_FAN_OUT)
        const query: PeerExchangeQuery = { kind: 'peer', publicKey: fromHex(target, 32) }
        await Promise.all(neighbours.map((neighbour) => this.askForPeers(neighbour, query)))
        const known = await node.peerStore.get(peer).catch(() => undefined)
        const multiaddrs = known?.addresses.map((address) => address.multiaddr) ?? []
        if (multiaddrs.length === 0) throw new NotFoundError(`none of ${neighbours.length} neighbours knows where ${target.slice(0, 16)} is`)
        return { id: peer, multiaddrs }
      },
      // This router finds peers by id only; there is no keyspace to walk.
      getClosestPeers: async function* () {},
    }
  }

  /**
   * The signed record identify stored for `peer`. A peer that is connecting or connected a moment ago may not be
   * identified yet: its record is waited for, up to IDENTIFY_WAIT_MS, so that a node that just joined can be found
   * at once (a peer this node never meets costs the asker that wait).
   */
  async #identifiedRecordOf(node: Libp2pNode, peer: Libp2pPeerId): Promise<Uint8Array | undefined> {
    const { clock, stopping, isRunning } = this.#components
    const held = await signedRecordOf(node, peer)
    if (held !== undefined || !isRunning()) return held
    await new Promise<void>((resolve) => {
      const done = () => {
        timer.cancel()
        node.removeEventListener('peer:identify', onIdentify)
        stopping.removeEventListener('abort', done)
        resolve()
      }
      const onIdentify = (event: CustomEvent<{ peerId: Libp2pPeerId }>) => {
        if (event.detail.peerId.equals(peer)) done()
      }
      const timer = clock.setTimer(IDENTIFY_WAIT_MS, done)
      node.addEventListener('peer:identify', onIdentify)
      stopping.addEventListener('abort', done, { once: true })
    })
    return signedRecordOf(node, peer)
  }
}

/** The signed peer record identify stored for `peer`, if any. */
async function signedRecordOf(node: Libp2pNode, peer: Libp2pPeerId): Promise<Uint8Array | undefined> {
  try {
    return (await node.peerStore.get(peer)).peerRecordEnvelope
  } catch {
    return undefined // not in the store
  }
}
