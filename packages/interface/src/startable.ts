/**
 * A part with a lifetime: started once before use, stopped once at the end. A node starts its parts in the order it
 * builds them and stops them in reverse, so a part may rely on what it was given being started before it.
 */
export interface Startable {
  start(): Promise<void>
  /** Releases everything the part holds; pending work ends with the part's typed "closed" error. Idempotent. */
  stop(): Promise<void>
}
