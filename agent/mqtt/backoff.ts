/**
 * Capped exponential backoff with "equal jitter": attempt n waits between half and all of min·2ⁿ (capped at max),
 * so a fleet that lost the same broker does not reconnect in lock-step. mqtt.js only offers a fixed period.
 */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const base = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30))
  return Math.round(base / 2 + random() * (base / 2))
}
