/** `telemetry`: a periodic JSON health report (not retained). */
import type { AgentContext, Extension } from './extension'
import { errorMessage } from '../log'
import { AGENT_VERSION } from './status'
import { encoderKernel } from '../../shared/codec/wasm/kernels'

export interface TelemetryMessage {
  deviceId: string
  at: string
  version: string
  uptimeSec: number
  backlog: { frames: number; bytes: number }
  counters: { captured: number; published: number; dropped: number; rejected: number; expired: number; setAside: number; captureErrors: number; publishErrors: number; bufferRecoveries: number; lostFrames: number }
  encodeMs: { p50?: number; p95?: number }
  /** `typescript` means this runtime lacks WebAssembly SIMD: same bytes, about 6-9x slower encoding. */
  encoderKernel: 'wasm-simd' | 'typescript'
  meanBytesPerFrame?: number
  memory: { rss: number; heapUsed: number }
  mqtt: { protocol?: '5' | '3.1.1'; maxPacketSize?: number }
  delivery: string
  lastError?: { at: string; message: string }
}

export function telemetry(ctx: AgentContext): TelemetryMessage {
  const s = ctx.stats
  const b = ctx.store.stats()
  const m = process.memoryUsage()
  const link = ctx.link.current
  const round = (v?: number): number | undefined => (v === undefined ? undefined : Math.round(v * 100) / 100)
  return {
    deviceId: ctx.config.deviceId,
    at: new Date().toISOString(),
    version: AGENT_VERSION,
    uptimeSec: Math.round((Date.now() - s.startedAt) / 1000),
    backlog: { frames: b.frames, bytes: b.bytes },
    counters: {
      captured: s.captured, published: s.published, dropped: b.dropped, rejected: b.rejected, expired: b.expired,
      setAside: s.setAside, captureErrors: s.captureErrors, publishErrors: s.publishErrors, bufferRecoveries: s.bufferRecoveries,
      lostFrames: s.lostFrames,
    },
    encodeMs: { p50: round(s.encodePercentile(50)), p95: round(s.encodePercentile(95)) },
    encoderKernel: encoderKernel(),
    meanBytesPerFrame: s.meanBytesPerFrame(),
    memory: { rss: m.rss, heapUsed: m.heapUsed },
    mqtt: link ? { protocol: link.protocolVersion === 5 ? '5' : '3.1.1', maxPacketSize: link.maxPacketSize } : {},
    delivery: ctx.config.delivery,
    lastError: s.lastError,
  }
}

export class TelemetryExtension implements Extension {
  readonly name = 'telemetry'
  private timer?: NodeJS.Timeout
  private readonly onUp = (): void => this.publish()

  constructor(private readonly ctx: AgentContext) {}

  start(): void {
    this.schedule()
    this.ctx.link.on('up', this.onUp)
  }

  stop(): void {
    clearInterval(this.timer)
    this.ctx.link.off('up', this.onUp)
  }

  onConfig(_next: unknown, changed: string[]): void {
    if (changed.includes('telemetry.intervalMs')) this.schedule()
  }

  publish(): void {
    if (!this.ctx.link.up) return
    let msg: TelemetryMessage
    try {
      msg = telemetry(this.ctx)
    } catch (err) {
      this.ctx.log.warn(`telemetry: ${errorMessage(err)}`)
      return
    }
    this.ctx.link.publish(this.ctx.topic('telemetry'), JSON.stringify(msg), { qos: 0, contentType: 'application/json' })
      .catch((err) => this.ctx.log.debug(`telemetry: ${errorMessage(err)}`))
  }

  private schedule(): void {
    clearInterval(this.timer)
    this.timer = setInterval(() => this.publish(), this.ctx.config.telemetry.intervalMs)
  }
}
