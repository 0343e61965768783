/**
 * @constellation/trustchain/wire — what the two protocols put on the network, for those who speak them without the
 * package's nodes (a transport, a monitor, a test that plays one side) and for engine drivers
 * (`@constellation/trustchain/engine`).
 *
 * The crawling protocol (`createTrustChainNode` over a `TrustChainMessenger`): `RequestCodec` / `ResponseCodec` /
 * `BlocksMessageCodec` with `encodeMessage` / `decodeMessage` (`createNetworkMessenger` puts its requests on
 * `TRUSTCHAIN_PROTOCOL` and its broadcasts on `TRUSTCHAIN_TOPIC`). The anchored exchange (`createAnchoredNode`), on
 * `TRANSFER_PROTOCOL`: `transfers` frames answered by `answers` / `resend` / `behind` / `declined`, `range` requests
 * answered by `blocks`, and `readFrame`, the counterparty's pure check of a frame from the proposer's certified
 * anchor. Blocks inside stay in their wire form (`encodeBlock`, package root).
 */
export {
  type BlocksMessage,
  BlocksMessageCodec,
  decodeMessage,
  encodeMessage,
  MAX_BLOCKS_PER_MESSAGE,
  type Request,
  RequestCodec,
  resolveRange,
  type Response,
  ResponseCodec,
} from './protocol/messages.js'
export { TRUSTCHAIN_PROTOCOL, TRUSTCHAIN_TOPIC } from './protocol/network-messenger.js'
export {
  type Answer,
  decodeExchangeRequest,
  decodeExchangeResponse,
  encodeExchangeRequest,
  encodeExchangeResponse,
  type ExchangeRequest,
  ExchangeRequestCodec,
  type ExchangeResponse,
  ExchangeResponseCodec,
  MAX_FRAME_BLOCKS,
  MAX_FRAME_BYTES,
  TRANSFER_PROTOCOL,
} from './exchange/exchange-messages.js'
export { type FrameReading, type ReadProposal, readFrame } from './exchange/frame-reading.js'
