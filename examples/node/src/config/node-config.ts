/**
 * A node's configuration: what `createNode` needs, as one validated value. `constellation init` writes it to
 * `<dataDir>/config.json`; the CLI layers environment variables and flags over that file (see cli/load-config.ts)
 * and decodes the result with `NodeConfigCodec`, so every source is checked by the same codec.
 */
import { isIP } from 'node:net'
import { join } from 'node:path'
import { MAX_ANNOUNCED_ADDRESSES } from '@constellation/gossip'
import * as t from 'io-ts'
import { NodeErrorCode } from '../errors.js'
import { decodeJsonFile, decodeWith, PortCodec, SafeNonNegativeInteger, SafePositiveInteger } from './codecs.js'

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]
const LogLevelCodec = t.keyof(Object.fromEntries(LOG_LEVELS.map((level) => [level, null])) as Record<LogLevel, null>)

export const MultiaddrCodec = t.refinement(t.string, (s) => s.startsWith('/') && s.length <= 512, 'Multiaddr')
/** An IPv4 or IPv6 address literal (`127.0.0.3`, `::1`): not a host name, not a multiaddr. */
const IpAddress = t.refinement(t.string, (s) => isIP(s) !== 0, 'IpAddress')

export const P2pConfigCodec = t.exact(
  t.intersection([
    t.type({ listen: t.array(MultiaddrCodec), bootstrap: t.array(MultiaddrCodec) }),
    t.partial({
      /**
       * Multiaddrs peers are told to dial instead of the listen addresses (default none: the listen addresses), for a
       * node behind a proxy, port forward or NAT mapping: identify, peer exchange and the `listen` the node reports
       * then name these only.
       */
      announce: t.refinement(
        t.array(MultiaddrCodec),
        (list) => list.length <= MAX_ANNOUNCED_ADDRESSES,
        `Announce (at most ${MAX_ANNOUNCED_ADDRESSES} multiaddrs)`,
      ),
      /** The local address every outgoing p2p connection is bound to (default: the OS chooses per route). */
      dialFrom: IpAddress,
    }),
  ]),
)

export const Host = t.refinement(t.string, (s) => s.length > 0 && s.length <= 253 && !/\s/.test(s), 'Host')

/** A server timeout in milliseconds: at least 100 ms, at most an hour. */
const TimeoutMs = t.refinement(t.number, (n) => Number.isSafeInteger(n) && n >= 100 && n <= 3_600_000, 'TimeoutMs (100 to 3600000)')

/**
 * A fixed API token (see api/api-token.ts): the characters of an RFC 6750 bearer token, at least 32 of them, so it
 * cannot be guessed (`openssl rand -hex 32` makes one).
 */
export const ApiTokenCodec = t.refinement(
  t.string,
  (s) => s.length >= 32 && s.length <= 512 && /^[A-Za-z0-9\-._~+/]+=*$/.test(s),
  'ApiToken (32 to 512 of A-Z a-z 0-9 - . _ ~ + /)',
)

export const ApiConfigCodec = t.exact(
  t.intersection([
    t.type({
      /** Interface the HTTP API binds to (default 127.0.0.1: the API is not for the open internet). */
      host: Host,
      /** 0: an OS-chosen port, reported at start. */
      port: PortCodec,
      /** Largest request body accepted (bytes). */
      maxBodyBytes: t.refinement(t.number, (n) => Number.isSafeInteger(n) && n >= 1_024 && n <= 16 << 20, 'BodyLimit'),
      /**
       * DNS names requests may reach the API under, beside IP addresses and `localhost` (see api/host-check.ts: other
       * names are refused, which stops DNS-rebinding pages from driving the node). Empty by default.
       */
      allowedHosts: t.array(Host),
      /** How long a client may take to send a request's headers, from the moment it connects (then 408, closed). */
      headersTimeoutMs: TimeoutMs,
      /** How long a client may take to send a whole request, body included (then 408, closed); at least headersTimeoutMs. */
      requestTimeoutMs: TimeoutMs,
      /** How long a kept-alive connection may sit idle between requests before the node closes it. */
      idleTimeoutMs: TimeoutMs,
      /** Open connections one client address may hold at once; one more is answered 429 and closed. */
      maxConnectionsPerClient: t.refinement(t.number, (n) => Number.isSafeInteger(n) && n >= 1 && n <= 65_535, 'ConnectionLimit (1 to 65535)'),
    }),
    t.partial({
      /**
       * A fixed token for the routes that change state, for clients on other machines. Without one the node makes a
       * new random token at each start. Either way it is written to `<dataDir>/api.cookie`, readable by the owner only.
       */
      token: ApiTokenCodec,
    }),
  ]),
)

export type ApiConfig = t.TypeOf<typeof ApiConfigCodec>

export const ConsensusConfigCodec = t.exact(
  t.partial({
    proposalTimeoutMs: SafePositiveInteger,
    requestTimeoutMs: SafePositiveInteger,
    stallTimeoutMs: SafePositiveInteger,
    checkpointDelayMs: SafeNonNegativeInteger,
    /** Time without a certified round after which the node reports the consensus stalled (default 30 s). */
    stallReportAfterMs: SafePositiveInteger,
    /** Rounds between checkpoints while the node's chain does not move (default 64; 1: every round). */
    idleCheckpointRounds: SafePositiveInteger,
  }),
)

export const ContractsConfigCodec = t.exact(
  t.type({
    /** Host contracts for others (deploy and invoke over the network and the API). */
    enabled: t.boolean,
    /** Price per invocation in the chain's value unit (0: free). */
    price: SafeNonNegativeInteger,
  }),
)

export const ExplorerConfigCodec = t.exact(
  t.type({
    /** Serve the web explorer (/explorer/, /v1/dag, /v1/hierarchy, /v1/events…) on the HTTP API. */
    enabled: t.boolean,
  }),
)

export const NodeConfigCodec = t.exact(
  t.type({
    /** Keys, chains, certificates and logs live here. */
    dataDir: t.string,
    /** The network genesis file shared by all nodes of the network (see network-genesis.ts). */
    genesisFile: t.string,
    p2p: P2pConfigCodec,
    api: ApiConfigCodec,
    consensus: ConsensusConfigCodec,
    contracts: ContractsConfigCodec,
    explorer: ExplorerConfigCodec,
    log: t.exact(t.type({ level: LogLevelCodec })),
  }),
)
export type NodeConfig = t.TypeOf<typeof NodeConfigCodec>

/** Largest config file accepted. */
export const MAX_CONFIG_BYTES = 64 * 1024

export const DEFAULT_API_BODY_BYTES = 1 << 20
/** The HTTP server's limits by default: generous for a client on the same machine, short for one that stalls. */
export const DEFAULT_API_LIMITS = { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, idleTimeoutMs: 5_000, maxConnectionsPerClient: 256 } as const

/** The configuration `init` writes for a data dir: loopback everywhere, OS-chosen ports, the genesis beside it. */
export function defaultNodeConfig(dataDir: string): NodeConfig {
  return {
    dataDir,
    genesisFile: join(dataDir, 'genesis.json'),
    p2p: { listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [] },
    api: { host: '127.0.0.1', port: 0, maxBodyBytes: DEFAULT_API_BODY_BYTES, allowedHosts: [], ...DEFAULT_API_LIMITS },
    consensus: {},
    contracts: { enabled: true, price: 0 },
    explorer: { enabled: true },
    log: { level: 'info' },
  }
}

export function decodeNodeConfig(value: unknown, what = 'config'): NodeConfig {
  return decodeWith(NodeConfigCodec, value, NodeErrorCode.INVALID_CONFIG, what)
}

export function readNodeConfigFile(path: string): Promise<NodeConfig> {
  return decodeJsonFile(path, NodeConfigCodec, MAX_CONFIG_BYTES, NodeErrorCode.INVALID_CONFIG, 'config file')
}

/** Where a data dir keeps each of its parts. */
export function dataPaths(dataDir: string) {
  return {
    config: join(dataDir, 'config.json'),
    key: join(dataDir, 'node.key'),
    chain: join(dataDir, 'chain'),
    consensus: join(dataDir, 'consensus'),
    /** The facilitator's round journal (see node/round-journal-file.ts). */
    roundJournal: join(dataDir, 'round-journal'),
    /** Written once the node is up (its addresses and API URL), removed at a clean close. */
    runtime: join(dataDir, 'node.json'),
    lock: join(dataDir, 'LOCK'),
    /** The API token for the routes that change state (owner-only), while the node runs: see api/api-token.ts. */
    apiCookie: join(dataDir, 'api.cookie'),
    log: join(dataDir, 'node.log'),
  } as const
}
