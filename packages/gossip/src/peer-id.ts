/** How the network names a node: the `PeerId` every package shares, from @constellation/interface. */
export type { PeerId } from '@constellation/interface'
