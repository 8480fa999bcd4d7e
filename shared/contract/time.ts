/**
 * Timestamps as the protocol writes them: ISO 8601 in UTC with milliseconds, the same string as
 * Date#toISOString. Built from the UTC getters because V8's toISOString (and toJSON, so JSON.stringify of a Date)
 * sets up its time-zone cache on first use, which reads ICU's time-zone data: about 0.8 MiB of the node binary
 * that the agent would otherwise keep resident for nothing (scripts/bench/agent-memory.ts, README Memory). Pure.
 */
export function isoTime(ms: number): string {
  const d = new Date(ms)
  const year = d.getUTCFullYear()
  // Outside four-digit years toISOString writes a signed six-digit year (and throws on an invalid time): leave
  // those to it.
  if (!(year >= 0 && year <= 9999)) return d.toISOString()
  return `${pad(year, 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${pad(d.getUTCMilliseconds(), 3)}Z`
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0')
}
