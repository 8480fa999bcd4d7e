/** `telemetry` (agent → backend, periodic, not retained, QoS 0): a health report. Pure. */
import { Fields, decodeJsonObject, type Payload } from './payload'

export const TELEMETRY_COUNTERS = [
  'captured',
  'published',
  'dropped',
  'rejected',
  'expired',
  'setAside',
  'captureErrors',
  'publishErrors',
  'bufferRecoveries',
  'lostFrames',
] as const

export interface TelemetryMessage {
  deviceId: string
  at: string
  version: string
  uptimeSec: number
  backlog: { frames: number; bytes: number }
  counters: Record<(typeof TELEMETRY_COUNTERS)[number], number>
  encodeMs: { p50?: number; p95?: number }
  /** `typescript` means this runtime lacks WebAssembly SIMD: same bytes, about 6-9x slower encoding. */
  encoderKernel: 'wasm-simd' | 'typescript'
  meanBytesPerFrame?: number
  /** Frames encoded per second over the last minute (absent from agents before it was added). */
  framesPerSec?: number
  /**
   * The keep map (`encoder.keepMap`) frames are encoded with, and the mean share (0..1) of its cells kept in full
   * (all 64 coefficients, by the map or raised by motion) over the recent frames. Absent without a map.
   */
  keepMap?: { id: string; fullShare: number }
  memory: { rss: number; heapUsed: number }
  mqtt: { protocol?: '5' | '3.1.1'; maxPacketSize?: number }
  delivery: string
  lastError?: { at: string; message: string }
}

export function buildTelemetry(m: TelemetryMessage): string {
  return JSON.stringify(m)
}

/** Throws ContractError naming the wrong field. Fields added by newer agents are kept as they are. */
export function parseTelemetry(payload: Payload): TelemetryMessage {
  const doc = decodeJsonObject(payload, '{"deviceId", "at", "version", …}')
  const f = new Fields(doc, 'telemetry ')
  f.string('deviceId', { nonEmpty: true })
  f.time('at')
  f.string('version')
  f.number('uptimeSec')
  const backlog = f.object('backlog')
  backlog.integer('frames')
  backlog.integer('bytes')
  const counters = f.object('counters')
  for (const c of TELEMETRY_COUNTERS) counters.integer(c)
  const encodeMs = f.object('encodeMs')
  encodeMs.optional('p50', encodeMs.number)
  encodeMs.optional('p95', encodeMs.number)
  f.oneOf('encoderKernel', ['wasm-simd', 'typescript'] as const)
  f.optional('meanBytesPerFrame', f.number)
  f.optional('framesPerSec', f.number)
  const keepMap = f.optional('keepMap', f.object)
  if (keepMap) {
    keepMap.string('id', { nonEmpty: true })
    const share = keepMap.number('fullShare')
    if (share < 0 || share > 1) keepMap.fail('fullShare', 'a share between 0 and 1')
  }
  const memory = f.object('memory')
  memory.integer('rss')
  memory.integer('heapUsed')
  const mqtt = f.object('mqtt')
  mqtt.optional('protocol', (n) => mqtt.oneOf(n, ['5', '3.1.1'] as const))
  mqtt.optional('maxPacketSize', (n) => mqtt.integer(n))
  f.string('delivery')
  const lastError = f.optional('lastError', f.object)
  if (lastError) {
    lastError.time('at')
    lastError.string('message')
  }
  return doc as unknown as TelemetryMessage
}
