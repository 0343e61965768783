/** What one simulated node hands another for a gossip message: the message, and how it travelled. */
export interface GossipEnvelope {
  readonly id: string
  readonly topic: string
  readonly data: Uint8Array
  readonly hops: number
  /** Sent in answer to this node's own anti-entropy digest rather than forwarded unasked. */
  readonly pulled: boolean
}
