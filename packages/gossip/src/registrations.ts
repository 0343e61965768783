/**
 * What a node has registered: topic handlers and request handlers. Both network implementations keep them the
 * same way, so the rules (checked names, independent duplicate subscriptions, one handler per protocol, combined
 * verdicts, a throwing handler counting as a reject) live here once.
 */
import { checkName } from './checks.js'
import { GossipError, GossipErrorCode } from './errors.js'
import type { GossipMessage, InboundRequest, RequestHandler, TopicHandler, Verdict } from './network.js'
import { combineVerdicts } from './verdict.js'

/** True for a promise (or any thenable): handlers may answer synchronously or not. */
export function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown })?.then === 'function'
}

/** What a responder sends back for one request: the handler's bytes, or a typed failure. */
export type RequestAnswer =
  | { readonly ok: true; readonly data: Uint8Array }
  | {
      readonly ok: false
      readonly code: typeof GossipErrorCode.REMOTE_ERROR | typeof GossipErrorCode.MESSAGE_TOO_LARGE
      readonly message: string
    }

/**
 * Runs a request handler and checks what it returns (bytes, within the limit); a handler that throws or rejects
 * becomes a REMOTE_ERROR with its message. Synchronous when the handler is, so the simulator stays promise-free.
 */
export function answerRequest(handler: RequestHandler, request: InboundRequest, maxMessageBytes: number): RequestAnswer | Promise<RequestAnswer> {
  const check = (result: unknown): RequestAnswer => {
    if (!(result instanceof Uint8Array)) {
      return { ok: false, code: GossipErrorCode.REMOTE_ERROR, message: `handler for ${request.protocol} did not return bytes` }
    }
    if (result.length > maxMessageBytes) {
      return {
        ok: false,
        code: GossipErrorCode.MESSAGE_TOO_LARGE,
        message: `response of ${result.length} bytes is over the limit of ${maxMessageBytes}`,
      }
    }
    return { ok: true, data: result }
  }
  const failure = (error: unknown): RequestAnswer => ({
    ok: false,
    code: GossipErrorCode.REMOTE_ERROR,
    message: error instanceof Error ? error.message : String(error),
  })
  try {
    const result = handler(request)
    return isThenable(result) ? result.then(check, failure) : check(result)
  } catch (error) {
    return failure(error)
  }
}

function checkHandler(handler: unknown): void {
  if (typeof handler !== 'function') throw new GossipError(GossipErrorCode.INVALID_INPUT, 'handler must be a function')
}

export class TopicSubscriptions {
  readonly #topics = new Map<string, Set<TopicHandler>>()

  /** Adds a handler; returns the function that removes it. */
  add(topic: string, handler: TopicHandler): () => void {
    checkName('topic', topic)
    checkHandler(handler)
    let handlers = this.#topics.get(topic)
    if (handlers === undefined) {
      handlers = new Set()
      this.#topics.set(topic, handlers)
    }
    // Wrap so that subscribing the same function twice gives two independent subscriptions.
    const entry: TopicHandler = (message) => handler(message)
    handlers.add(entry)
    return () => {
      handlers.delete(entry)
      if (handlers.size === 0 && this.#topics.get(topic) === handlers) this.#topics.delete(topic)
    }
  }

  /** True when some handler reads `topic`; nodes relay topics nobody reads without judging them. */
  has(topic: string): boolean {
    return this.#topics.has(topic)
  }

  /**
   * Hands the message to every handler of its topic and combines their verdicts. Synchronous when every handler
   * is, so the simulator's hot path allocates no promises.
   */
  judge(message: GossipMessage): Verdict | Promise<Verdict> {
    const handlers = this.#topics.get(message.topic)
    if (handlers === undefined) return 'accept'
    const verdicts: (Verdict | Promise<Verdict>)[] = []
    for (const handler of handlers) {
      try {
        verdicts.push(handler(message))
      } catch {
        verdicts.push('reject') // a handler that throws on a message has judged it malformed
      }
    }
    if (!verdicts.some(isThenable)) return combineVerdicts(verdicts as Verdict[])
    return Promise.all(verdicts.map((v) => Promise.resolve(v).catch((): Verdict => 'reject'))).then(combineVerdicts)
  }
}

export class RequestHandlers {
  readonly #protocols = new Map<string, RequestHandler>()

  /** Registers the one handler of `protocol`; returns the function that removes it. */
  add(protocol: string, handler: RequestHandler): () => void {
    checkName('protocol', protocol)
    checkHandler(handler)
    if (this.#protocols.has(protocol)) {
      throw new GossipError(GossipErrorCode.INVALID_INPUT, `a handler for ${protocol} is already registered`)
    }
    this.#protocols.set(protocol, handler)
    return () => {
      if (this.#protocols.get(protocol) === handler) this.#protocols.delete(protocol)
    }
  }

  get(protocol: string): RequestHandler | undefined {
    return this.#protocols.get(protocol)
  }
}
