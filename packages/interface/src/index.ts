/**
 * @constellation/interface — the few interface types every Constellation package shares, in one place below all of
 * them, so that no package keeps a structural copy of another's: time (`Clock`), peer names (`PeerId`), the message
 * network protocols speak through, a part's lifetime (`Startable`) and the base of every typed error (`CodedError`).
 * No dependencies; the only code is the wall clock, `sleep` and the error base.
 */
export { type Clock, sleep, systemClock, type TimerHandle } from './clock.js'
export { CodedError, isCodedError } from './coded-error.js'
export type { GossipMessage, InboundRequest, MessageNetwork, RequestHandler, RequestOptions, TopicHandler, Verdict } from './message-network.js'
export type { PeerId } from './peer-id.js'
export type { Startable } from './startable.js'
