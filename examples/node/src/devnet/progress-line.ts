/**
 * Where the devnet reports while it runs: on a terminal, one line rewritten in place each second; anywhere else
 * (a pipe, a CI log), one plain line per update. Notes ("8 nodes ready") are printed above the updating line.
 */
import type { Writable } from 'node:stream'

const CLEAR_TO_END = '\x1b[K'

export class ProgressLine {
  readonly #out: Writable
  readonly #tty: boolean
  #showing = false

  constructor(out: Writable) {
    this.#out = out
    this.#tty = (out as Writable & { isTTY?: boolean }).isTTY === true
  }

  update(text: string): void {
    if (this.#tty) {
      this.#out.write(`\r${text}${CLEAR_TO_END}`)
      this.#showing = true
    } else {
      this.#out.write(`${text}\n`)
    }
  }

  note(text: string): void {
    this.end()
    this.#out.write(`${text}\n`)
  }

  /** Leaves the last progress line on screen and moves below it. */
  end(): void {
    if (this.#showing) this.#out.write('\n')
    this.#showing = false
  }
}
