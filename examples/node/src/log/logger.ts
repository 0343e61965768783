/**
 * Structured logs: pino, JSON lines, one child logger per module (`{ module: 'consensus' }`), to a file in the data
 * dir or to stderr. stdout stays free for what the CLI prints for people and scripts.
 */
import { type DestinationStream, type Logger, pino } from 'pino'
import type { LogLevel } from '../config/node-config.js'

export type { Logger } from 'pino'

export function createLogger(options: { level: LogLevel; file?: string; name?: string }): Logger {
  const destination: DestinationStream = options.file === undefined ? pino.destination(2) : pino.destination({ dest: options.file, mkdir: true, sync: false })
  return pino(
    { level: options.level, base: { name: options.name ?? 'constellation', pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    destination,
  )
}

/** Everything thrown, reduced to what a log line needs. */
export function errorFields(error: unknown): { err: { type: string; code?: string; message: string } } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return { err: { type: error.name, ...(typeof code === 'string' ? { code } : {}), message: error.message } }
  }
  return { err: { type: typeof error, message: String(error) } }
}
