/**
 * The agent's one backoff: capped exponential with "equal jitter". Retry n (0 = the first retry after a failure)
 * waits between half and all of min·2ⁿ, capped at max, so a fleet that lost the same broker or camera service
 * does not retry in lock-step. Used by the MQTT link's reconnects (mqtt.js only offers a fixed period) and by
 * capture retries (agent/capture/retry.ts: `deepn run` and `deepn calibrate`).
 */
export function backoffDelay(retry: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const base = Math.min(maxMs, minMs * 2 ** Math.min(retry, 30))
  return Math.round(base / 2 + random() * (base / 2))
}
