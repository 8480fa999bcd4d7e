/** `telemetry`: a periodic JSON health report (not retained). */
import type { AgentContext, Extension } from './extension'
import { errorMessage } from '../log'
import { AGENT_VERSION } from './status'
import { encoderKernel } from '../../shared/codec/wasm/kernels'
import { buildTelemetry, type TelemetryMessage } from '../../shared/contract/telemetry'
import { isoTime } from '../../shared/contract/time'

export type { TelemetryMessage }

export function telemetry(ctx: AgentContext): TelemetryMessage {
  const s = ctx.stats
  const b = ctx.store.stats()
  const m = process.memoryUsage()
  const link = ctx.link.current
  const round = (v?: number): number | undefined => (v === undefined ? undefined : Math.round(v * 100) / 100)
  return {
    deviceId: ctx.config.deviceId,
    at: isoTime(Date.now()),
    version: AGENT_VERSION,
    uptimeSec: Math.round((Date.now() - s.startedAt) / 1000),
    backlog: { frames: b.frames, bytes: b.bytes },
    counters: {
      captured: s.captured,
      published: s.published,
      dropped: b.dropped,
      rejected: b.rejected,
      expired: b.expired,
      setAside: s.setAside,
      captureErrors: s.captureErrors,
      publishErrors: s.publishErrors,
      bufferRecoveries: s.bufferRecoveries,
      lostFrames: s.lostFrames,
    },
    encodeMs: { p50: round(s.encodePercentile(50)), p95: round(s.encodePercentile(95)) },
    encoderKernel: encoderKernel(),
    meanBytesPerFrame: s.meanBytesPerFrame(),
    framesPerSec: s.framesPerSec(),
    keepMap: s.keepMapReport(),
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
    this.ctx.link
      .publish(this.ctx.topic('telemetry'), buildTelemetry(msg), { qos: 0, contentType: 'application/json' })
      .catch((err) => this.ctx.log.debug(`telemetry: ${errorMessage(err)}`))
  }

  private schedule(): void {
    clearInterval(this.timer)
    this.timer = setInterval(() => this.publish(), this.ctx.config.telemetry.intervalMs)
  }
}
