/**
 * The agent's logger for in-process agents and links in tests: lines are kept in memory, for assertions and for
 * a failing test's diagnostics, instead of interleaving with the TAP stream.
 */
import { createLogger, type Level, type Logger } from '../../agent/log'

export function memoryLogger(level: Level = 'warn'): Logger & { lines: string[] } {
  const lines: string[] = []
  return Object.assign(
    createLogger({
      level,
      write: (l) => {
        lines.push(l)
      },
    }),
    { lines },
  )
}
