/**
 * @constellation/example-node — the full node as parts a user assembles: `createNode(config, { parts, modules })`
 * with the full node's parts (LevelDB, files, js-libp2p, the wall clock, the genesis's rules) or others (memory,
 * a `SimNetwork` node, a virtual clock, your own scorer), and the modules `constellation start` runs beside it.
 */
export { apiModule, type ApiModule, type ApiModuleOptions } from './api/api-server.js'
export type { Route, RouteContext, RouteResponse } from './api/router.js'
export { type GenesisMember, genesisFingerprint, type NetworkGenesis } from './config/network-genesis.js'
export { defaultNodeConfig, type NodeConfig } from './config/node-config.js'
export { contractsModule, type ContractsModuleOptions } from './contracts/contracts-module.js'
export { isNodeError, NodeError, NodeErrorCode } from './errors.js'
export { explorerModule, type ExplorerModuleOptions } from './explorer/explorer-module.js'
export { type CertificateJournal, createMemoryCertificateJournal } from './node/certificate-journal.js'
export { createNode, type NodeOptions } from './node/create-node.js'
export { fileJournals, levelStore, libp2pNetwork, memoryJournals, memoryStore, simNetwork } from './node/default-parts.js'
export type {
  ConsensusView,
  FullNode,
  NetworkView,
  NodeModule,
  NodeModuleFactory,
  NodeStatus,
  ReadingModuleFactory,
  SigningComponents,
  SigningModuleFactory,
  TransferRejection,
  TransferRequest,
  TransferResult,
} from './node/full-node.js'
export type {
  JournalComponents,
  JournalsFactory,
  NetworkComponents,
  NetworkFactory,
  NodeJournals,
  NodeNetwork,
  NodeParts,
  RulesFactory,
  StoreComponents,
  StoreFactory,
} from './node/node-parts.js'
