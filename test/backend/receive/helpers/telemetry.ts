/** A valid telemetry report as an agent sends it, with the backlog a test wants shown. */
import type { TelemetryMessage } from '../../../../shared/contract/telemetry'

export function telemetry(deviceId: string, backlogFrames: number): TelemetryMessage {
  const zero = { captured: 0, published: 0, dropped: 0, rejected: 0, expired: 0, setAside: 0 }
  return {
    deviceId,
    at: new Date().toISOString(),
    version: '0.1.0',
    uptimeSec: 12,
    backlog: { frames: backlogFrames, bytes: backlogFrames * 1000 },
    counters: { ...zero, captureErrors: 0, publishErrors: 0, bufferRecoveries: 0, lostFrames: 0 },
    encodeMs: { p50: 3 },
    encoderKernel: 'wasm-simd',
    framesPerSec: 2.5,
    memory: { rss: 1, heapUsed: 1 },
    mqtt: {},
    delivery: 'at-least-once',
  }
}
