/**
 * The parent side of a solar system over libp2p between local processes: spawns node processes
 * (solar-node-process.ts) under tsx with the `source` condition, shares the members out among them, connects
 * every member to every other (a full mesh on 127.0.0.1), starts the consensus, and collects what the processes
 * report — certificates as they happen, transactions, load results and stats. Used by the libp2p test and the
 * libp2p benchmark; nothing here waits for a fixed time, everything waits for a reply or an event.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { CertificateReport, EncodedTransaction, LoadReport, MemberStats, NodeCommand, NodeReply, SolarSystemPlan } from './solar-genesis.js'

const NODE_SCRIPT = fileURLToPath(new URL('./solar-node-process.ts', import.meta.url))
const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url))

type Reply<K extends NodeReply['reply']> = Extract<NodeReply, { reply: K }>

export class NodeProcess {
  readonly hosted: readonly number[]
  readonly #child: ChildProcess
  readonly #inbox: NodeReply[] = []
  readonly #waiters: { match: (reply: NodeReply) => boolean; resolve: (reply: NodeReply) => void; reject: (error: Error) => void }[] = []
  readonly #exited: Promise<number | null>
  readonly errors: string[] = []
  #exitCode: number | null | undefined

  constructor(hosted: readonly number[], onCertificate: (report: CertificateReport) => void) {
    this.hosted = hosted
    // tsx as a loader (not its CLI) keeps the IPC channel between this process and the node process.
    this.#child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', NODE_SCRIPT], {
      cwd: PACKAGE_DIR,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    this.#child.on('message', (reply: NodeReply) => {
      if (reply.reply === 'certificate') return onCertificate(reply.report)
      if (reply.reply === 'error') this.errors.push(reply.message)
      const index = this.#waiters.findIndex((waiter) => waiter.match(reply))
      if (index < 0) this.#inbox.push(reply)
      else this.#waiters.splice(index, 1)[0]?.resolve(reply)
    })
    this.#exited = new Promise((resolve) =>
      this.#child.once('exit', (code, signal) => {
        this.#exitCode = code
        const error = new Error(`node process (members ${hosted.join(',')}) exited with ${code ?? signal}`)
        for (const waiter of this.#waiters.splice(0)) waiter.reject(error)
        resolve(code)
      }),
    )
  }

  get pid(): number | undefined {
    return this.#child.pid
  }

  get exitCode(): number | null | undefined {
    return this.#exitCode
  }

  send(command: NodeCommand): void {
    if (this.#child.connected) this.#child.send(command)
  }

  /** The next reply of this kind (queued ones first); rejects if the process exits first. */
  next<K extends Exclude<NodeReply['reply'], 'certificate'>>(kind: K, match: (reply: Reply<K>) => boolean = () => true): Promise<Reply<K>> {
    const matches = (reply: NodeReply): boolean => reply.reply === kind && match(reply as Reply<K>)
    const queued = this.#inbox.findIndex(matches)
    if (queued >= 0) return Promise.resolve(this.#inbox.splice(queued, 1)[0] as Reply<K>)
    if (this.#exitCode !== undefined) return Promise.reject(new Error(`node process (members ${this.hosted.join(',')}) has exited`))
    return new Promise((resolve, reject) => this.#waiters.push({ match: matches, resolve: resolve as (reply: NodeReply) => void, reject }))
  }

  exited(): Promise<number | null> {
    return this.#exited
  }

  kill(): void {
    if (this.#exitCode === undefined) this.#child.kill('SIGKILL')
  }
}

export interface SolarCluster {
  readonly plan: SolarSystemPlan
  readonly processes: readonly NodeProcess[]
  /** Every certificate every member reported, in arrival order. */
  readonly certificates: readonly CertificateReport[]
  /** Whether every member's gossip mesh formed before the consensus started. */
  readonly gossipReady: boolean
  /** Resolves once every member has certified `round` (rejects when a process exits first). */
  untilRound(round: number): Promise<void>
  /** Certificates as each member saw them: member -> round -> report. */
  byMember(): Map<number, Map<number, CertificateReport>>
  /** A transfer of `transfer` from member `from` to member `to`, once `to` agreed (rejects otherwise); `final`: already final then. */
  propose(from: number, to: number, transfer: number): Promise<{ transaction: EncodedTransaction; final: boolean }>
  /** Waits until `member` applied the round that finalised the transaction; `final` says its agreement proof checks there. */
  awaitFinal(member: number, transaction: EncodedTransaction): Promise<Reply<'final'>>
  load(concurrencyPerProcess: number, durationMs: number): Promise<LoadReport[]>
  stats(): Promise<MemberStats[]>
  /** Stops every process and resolves with their exit codes. */
  stop(): Promise<(number | null)[]>
}

/** Shares members 0..members-1 out over `processes` processes, round robin. */
export function shareMembers(members: number, processes: number): number[][] {
  const count = Math.min(members, processes)
  return Array.from({ length: count }, (_, p) => Array.from({ length: members }, (_, i) => i).filter((i) => i % count === p))
}

export async function startSolarCluster(plan: SolarSystemPlan, processCount: number): Promise<SolarCluster> {
  const certificates: CertificateReport[] = []
  const roundWaiters = new Set<() => void>()
  const reached = new Map<number, number>()
  const onCertificate = (report: CertificateReport) => {
    certificates.push(report)
    reached.set(report.member, Math.max(reached.get(report.member) ?? 0, report.round))
    for (const check of [...roundWaiters]) check()
  }
  const processes = shareMembers(plan.members, processCount).map((hosted) => new NodeProcess(hosted, onCertificate))
  const ownerOf = (member: number) => processes.find((p) => p.hosted.includes(member)) as NodeProcess
  const cluster: SolarCluster = {
    plan,
    processes,
    certificates,
    gossipReady: false,
    untilRound(round) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (Array.from({ length: plan.members }, (_, i) => reached.get(i) ?? 0).every((r) => r >= round)) {
            roundWaiters.delete(check)
            resolve()
          }
        }
        roundWaiters.add(check)
        for (const p of processes) {
          p.exited().then(() => {
            if (roundWaiters.delete(check)) reject(new Error(`a node process exited before round ${round}: ${p.errors.join('; ')}`))
          }, reject)
        }
        check()
      })
    },
    byMember() {
      const out = new Map<number, Map<number, CertificateReport>>()
      for (const report of certificates) {
        const rounds = out.get(report.member) ?? new Map<number, CertificateReport>()
        rounds.set(report.round, report)
        out.set(report.member, rounds)
      }
      return out
    },
    async propose(from, to, transfer) {
      const owner = ownerOf(from)
      owner.send({ cmd: 'propose', from, to, transfer })
      const { transaction, final } = await owner.next('proposed')
      return { transaction, final }
    },
    async awaitFinal(member, transaction) {
      const owner = ownerOf(member)
      owner.send({ cmd: 'await-final', member, transaction })
      return owner.next('final', (reply) => reply.member === member)
    },
    async load(concurrencyPerProcess, durationMs) {
      for (const p of processes) p.send({ cmd: 'load', concurrency: concurrencyPerProcess, durationMs })
      return Promise.all(processes.map(async (p) => (await p.next('loaded')).report))
    },
    async stats() {
      for (const p of processes) p.send({ cmd: 'stats' })
      return (await Promise.all(processes.map((p) => p.next('stats')))).flatMap((reply) => reply.stats)
    },
    async stop() {
      for (const p of processes) p.send({ cmd: 'stop' })
      return Promise.all(processes.map((p) => p.exited()))
    },
  }
  try {
    for (const p of processes) p.send({ cmd: 'start', plan, hosted: p.hosted })
    const addresses: string[] = []
    for (const started of await Promise.all(processes.map((p) => p.next('started')))) {
      for (const { member, address } of started.addresses) addresses[member] = address
    }
    for (const p of processes) p.send({ cmd: 'connect', addresses })
    const connected = await Promise.all(processes.map((p) => p.next('connected')))
    for (const p of processes) p.send({ cmd: 'run' })
    await Promise.all(processes.map((p) => p.next('running')))
    return { ...cluster, gossipReady: connected.every((reply) => reply.gossipReady) }
  } catch (error) {
    for (const p of processes) p.kill()
    throw error
  }
}
