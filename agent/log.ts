/**
 * Minimal leveled logger writing one line per event to stderr, each starting with its own ISO-8601 UTC time, so a
 * log run outside systemd or redirected to a file still says when (under systemd journald adds its own as well).
 */
import { isoTime } from '../shared/contract/time'

export type Level = 'debug' | 'info' | 'warn' | 'error'
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export interface Logger {
  debug(msg: string): void
  info(msg: string): void
  warn(msg: string): void
  error(msg: string): void
  child(component: string): Logger
  setLevel(level: Level): void
}

export function createLogger(opts: { level?: Level; write?: (line: string) => void; component?: string } = {}): Logger {
  const state = { level: opts.level ?? 'info' }
  const write = opts.write ?? ((line: string) => process.stderr.write(`${line}\n`))
  const make = (component: string): Logger => {
    const log =
      (level: Level) =>
      (msg: string): void => {
        if (RANK[level] < RANK[state.level]) return
        write(`${isoTime(Date.now())} ${level.padEnd(5)} ${component ? `[${component}] ` : ''}${msg}`)
      }
    return {
      debug: log('debug'),
      info: log('info'),
      warn: log('warn'),
      error: log('error'),
      child: (c: string) => make(component ? `${component}/${c}` : c),
      setLevel: (level: Level) => {
        state.level = level
      },
    }
  }
  return make(opts.component ?? '')
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
