/**
 * The contracts module of the full node: `contractsModule()` wires @constellation/contracts into a running node,
 * `createNode(config, { modules: [contractsModule(), apiModule({ routes: contractRoutes })] })`.
 *
 * Design. The node's own chain is authored by its anchored TrustChain node (`AnchoredNode`), while the contracts package's host and caller
 * author their chains themselves; two authors cannot share one chain's sequence numbers. So the node hosts
 * contracts under a second key and calls them under a third, both derived from the node key (contract-keys.ts).
 * All three chains live in the node's one LevelDB `BlockStore` and enter it through the node's ledger (with the
 * contract payload kinds registered): deploy and invoke pairs are validated and stored atomically before the host
 * commits, appear in the API like any chain, and are served to crawlers by the node's TrustChain engine.
 * - Hosting (when `config.contracts.enabled`): `ContractHost` at `config.contracts.price` per invocation, sandboxed
 *   in a worker thread (`createWorkerExecutor`: code from other nodes runs under a wall-clock guard), rebuilt at
 *   start from its stored agreements; other nodes reach it on the contracts protocol (contracts-protocol.ts).
 * - Calling: `createCaller` under the caller key, against this node's host or another node's (`host`: its hex
 *   node id), proposals stored before they leave the node (contract-calling.ts). Payments follow the package's
 *   rules: the caller pays the host's advertised price as trustchain value from the caller chain's balance.
 *   The caller chain opens with a balance of 0 and cannot be funded yet (see the README), so a node's calls to a
 *   paid host fail with PAYMENT_REQUIRED before anything is proposed.
 */
import { toHex } from '@constellation/crypto'
import {
  type AsyncExecutor,
  createWorkerExecutor,
  defineContract,
  DEPLOY_KIND,
  type JsonValue,
  registerContractPayloads,
  type SandboxLimits,
  type SignatureDescription,
  type SlaFigures,
  typeFromDescription,
} from '@constellation/contracts'
import type { HalfBlock } from '@constellation/trustchain'
import { NodeError, NodeErrorCode } from '../errors.js'
import type { FullNode, NodeModule, SigningComponents, SigningModuleFactory } from '../node/full-node.js'
import { type ContractCalling, startContractCalling } from './contract-calling.js'
import { type ContractHosting, startContractHosting } from './contract-hosting.js'
import { deriveContractKeys } from './contract-keys.js'
import { serveContracts } from './contracts-server.js'
import { type DeployingEndpoint, remoteHost } from './remote-host.js'

export interface HostedContract {
  /** Hex SHA-256 of the code. */
  readonly id: string
  /** The type signature as the deploy transaction records it. */
  readonly signature: SignatureDescription
  /** Committed invocations. */
  readonly invocations: number
  /** Hex SHA-256 of the committed state's canonical encoding. */
  readonly stateHash: string
}

export interface DeployCall {
  readonly code: string
  readonly signature: SignatureDescription
  readonly initialState: unknown
  /** Hex node id of the host (default: this node). */
  readonly host?: string
}

export interface InvokeCall {
  /** Hex contract id. */
  readonly contract: string
  readonly input: unknown
  readonly host?: string
}

export interface NodeContracts {
  /** Hex key this node hosts contracts under; undefined when hosting is off (`contracts.enabled: false`). */
  readonly hostKey: string | undefined
  /** Hex key this node deploys and invokes under. */
  readonly callerKey: string
  /** Price per invocation this node's host charges. */
  readonly price: number
  hosted(): HostedContract[]
  /** The host's SLA figures (invocations, success rate, latency p50/p95, price); undefined when hosting is off. */
  sla(): SlaFigures | undefined
  hostedContract(id: string): (HostedContract & { readonly state: JsonValue }) | undefined
  deploy(call: DeployCall): Promise<{ id: string; proposal: HalfBlock; agreement: HalfBlock }>
  invoke(call: InvokeCall): Promise<{ output: unknown; gas: number; proposal: HalfBlock; agreement: HalfBlock }>
}

export interface ContractsModuleOptions {
  /** Sandbox limits of the hosted contracts (gas, memory, stack, wall clock; sizes only lower). */
  readonly limits?: Partial<SandboxLimits>
  /**
   * The sandbox the hosted contracts run in (default: QuickJS in a worker thread, `createWorkerExecutor` with
   * `limits`). Every host of one network must reach the same results: re-execution that disagrees is a fault.
   */
  readonly sandbox?: () => AsyncExecutor
}

/** The running contracts module of each node, for the HTTP routes (api/routes/contracts.ts). */
const running = new WeakMap<FullNode, NodeContracts>()

export function nodeContracts(node: FullNode): NodeContracts | undefined {
  return running.get(node)
}

/** The contracts module signs as this node (its caller and host keys derive from the node's key) and serves peers. */
export function contractsModule(options: ContractsModuleOptions = {}): SigningModuleFactory {
  const start = async (node: FullNode, { keyPair, network }: SigningComponents): Promise<NodeModule & NodeContracts> => {
    const log = node.logger.child({ module: 'contracts' })
    const registry = node.chain.ledger.registry
    if (!registry.has(DEPLOY_KIND)) registerContractPayloads(registry)
    const keys = deriveContractKeys(node.crypto, keyPair)
    const limits = node.chain.ledger.limits
    const calling: ContractCalling = await startContractCalling(node, { keyPair: keys.caller, log })
    let hosting: ContractHosting | undefined
    let stopServing = () => {}
    if (node.config.contracts.enabled) {
      const started = await startContractHosting(node, {
        keyPair: keys.host,
        price: node.config.contracts.price,
        executor: options.sandbox?.() ?? createWorkerExecutor(options.limits === undefined ? {} : { limits: options.limits }),
        log,
      })
      hosting = started
      stopServing = serveContracts(network, started, { crypto: node.crypto, limits, log })
    }
    let closed = false

    const open = (): void => {
      if (closed || node.signal.aborted) throw new NodeError(NodeErrorCode.NODE_CLOSED, 'the contracts module is closed')
    }
    const local = (): DeployingEndpoint => {
      if (hosting === undefined) throw new NodeError(NodeErrorCode.UNAVAILABLE, 'this node does not host contracts (contracts.enabled is false)')
      const host = hosting
      return {
        node: undefined,
        publicKey: host.publicKey,
        price: host.price,
        checkDeploy: (payload) => host.checkDeploy(payload),
        deploy: (proposal) => host.deploy(proposal),
        quote: (request) => host.quote(request),
        countersign: (proposal) => host.countersign(proposal),
      }
    }
    const endpoint = (host: string | undefined): Promise<DeployingEndpoint> =>
      host === undefined || host === node.id ? Promise.resolve(local()) : remoteHost(network, node.crypto, host, limits)
    const summary = (id: string): HostedContract | undefined => {
      const contract = hosting?.contract(id)
      if (contract === undefined) return undefined
      return { id, signature: contract.signature, invocations: contract.invocations, stateHash: toHex(contract.hash) }
    }

    const module: NodeModule & NodeContracts = {
      hostKey: hosting === undefined ? undefined : toHex(hosting.publicKey),
      callerKey: toHex(calling.publicKey),
      price: hosting?.price ?? 0,
      hosted: () => (hosting?.ids() ?? []).flatMap((id) => summary(id) ?? []),
      sla: () => hosting?.sla(),
      hostedContract(id) {
        const found = summary(id)
        return found === undefined || hosting === undefined ? undefined : { ...found, state: hosting.state(id) }
      },
      async deploy(call) {
        open()
        const definition = defineContract({
          code: call.code,
          input: typeFromDescription(call.signature.input),
          output: typeFromDescription(call.signature.output),
          state: typeFromDescription(call.signature.state),
          initialState: call.initialState,
        })
        return calling.deploy(await endpoint(call.host), definition)
      },
      async invoke(call) {
        open()
        const done = await calling.invoke(await endpoint(call.host), call.contract, call.input)
        return { output: done.output, gas: done.record.gasUsed, proposal: done.proposal, agreement: done.agreement }
      },
      describe: () => ({
        contracts: { host: hosting === undefined ? null : toHex(hosting.publicKey), caller: toHex(calling.publicKey), price: hosting?.price ?? 0 },
      }),
      async close() {
        if (closed) return
        closed = true
        running.delete(node)
        stopServing()
        await hosting?.close()
      },
    }
    running.set(node, module)
    log.info({ hosting: hosting !== undefined, price: module.price }, 'contracts running')
    return module
  }
  return { signs: true, start }
}
