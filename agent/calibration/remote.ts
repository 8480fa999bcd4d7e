/**
 * Remote calibration requests (an agent Extension, ready to register): a backend publishes on the request topic
 * `{ "id"?: string, "frames"?: N, "seconds"?: T, "scale"?: S }` (or `{ "id"?, "cancel": true }`); the agent
 * collects statistics from the frames its capture loop encodes (via the shared CalibrationSession) and answers on
 * the result topic, QoS 1:
 *   `{ id, ok: true, state: 'started', frames, seconds? }` at once, then
 *   `{ id, ok: true, state: 'done', table, report }` (the DeepN table file and σ report), or
 *   `{ id, ok: false, error }` for a bad request, a busy agent or a bad frame.
 * Topics are passed in (the coordinator adds the leaves to shared/contract/topics.ts), so this file does not
 * invent topic names.
 */
import type { AgentConfig } from '../../shared/config'
import { errorMessage, type Logger } from '../log'
import type { Extension } from '../extensions/extension'
import type { MqttLink } from '../mqtt/link'
import type { CalibrationResult } from './collector'
import type { CalibrationSession } from './session'

export interface RemoteCalibrationOptions {
  link: Pick<MqttLink, 'subscribe' | 'publish'>
  config: () => AgentConfig
  session: CalibrationSession
  log: Logger
  topics: { request: string; result: string }
  /** Largest accepted frames value (default 10000). */
  maxFrames?: number
}

interface Request { id: string | null; frames?: number; seconds?: number; scale?: number; cancel?: boolean }

/** Parses and checks one request; throws an Error whose message is the reason sent back. */
export function parseCalibrationRequest(payload: Buffer, maxBytes: number, maxFrames = 10000): Request {
  if (payload.length > maxBytes) throw new Error(`request is ${payload.length} bytes; the limit is ${maxBytes}`)
  let doc: unknown
  try { doc = JSON.parse(payload.toString('utf8')) } catch (err) { throw new Error(`not JSON: ${errorMessage(err)}`) }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new Error('expected a JSON object {"id", "frames", "seconds"}')
  const d = doc as Record<string, unknown>
  const extra = Object.keys(d).filter((k) => !['id', 'frames', 'seconds', 'scale', 'cancel'].includes(k))
  if (extra.length) throw new Error(`unknown field '${extra[0]}' (expected id, frames, seconds, scale, cancel)`)
  if (d.id !== undefined && !(typeof d.id === 'string' && d.id.length <= 128)) throw new Error("'id' must be a string of at most 128 characters")
  const out: Request = { id: (d.id as string | undefined) ?? null }
  if (d.cancel !== undefined) {
    if (d.cancel !== true) throw new Error("'cancel' must be true when present")
    out.cancel = true
    return out
  }
  if (d.frames !== undefined && !(Number.isInteger(d.frames) && (d.frames as number) >= 1 && (d.frames as number) <= maxFrames)) {
    throw new Error(`'frames' must be an integer 1..${maxFrames}, got ${JSON.stringify(d.frames)}`)
  }
  if (d.seconds !== undefined && !(typeof d.seconds === 'number' && d.seconds > 0 && d.seconds <= 86400)) {
    throw new Error(`'seconds' must be a number in (0, 86400], got ${JSON.stringify(d.seconds)}`)
  }
  if (d.scale !== undefined && !(typeof d.scale === 'number' && d.scale > 0 && d.scale <= 32)) {
    throw new Error(`'scale' must be a number in (0, 32], got ${JSON.stringify(d.scale)}`)
  }
  return { ...out, frames: d.frames as number | undefined, seconds: d.seconds as number | undefined, scale: d.scale as number | undefined }
}

export class RemoteCalibration implements Extension {
  readonly name = 'calibration'

  constructor(private readonly o: RemoteCalibrationOptions) {}

  start(): void {
    this.o.link.subscribe(this.o.topics.request, (_t, payload) => this.handle(payload))
  }

  stop(): void {
    this.o.session.cancel()
  }

  /** Processes one request payload (exported for the agent's own callers, e.g. a local command). */
  handle(payload: Buffer): void {
    const cfg = this.o.config()
    let req: Request
    try {
      req = parseCalibrationRequest(payload, cfg.mqtt.maxConfigBytes, this.o.maxFrames)
    } catch (err) {
      this.reply({ id: null, ok: false, error: errorMessage(err) })
      return
    }
    if (req.cancel) {
      const partial = this.o.session.cancel()
      this.reply(partial ? { id: req.id, ok: true, state: 'cancelled', ...partial } : { id: req.id, ok: true, state: 'cancelled', frames: 0 })
      return
    }
    const frames = req.frames ?? 100
    try {
      this.o.session.start(
        { frames, seconds: req.seconds, scale: req.scale, subsampling: cfg.encoder.subsampling, deviceId: cfg.deviceId },
        (r: CalibrationResult) => {
          this.o.log.info(`calibration ${req.id ?? ''} done: ${r.report.frames} frames → table ${r.table.id}`)
          this.reply({ id: req.id, ok: true, state: 'done', ...r })
        },
        (err) => this.reply({ id: req.id, ok: false, error: `calibration failed: ${errorMessage(err)}` }),
      )
    } catch (err) {
      this.reply({ id: req.id, ok: false, error: errorMessage(err) })
      return
    }
    this.o.log.info(`calibration ${req.id ?? ''} started: ${frames} frames${req.seconds ? ` or ${req.seconds} s` : ''}`)
    this.reply({ id: req.id, ok: true, state: 'started', frames, ...(req.seconds ? { seconds: req.seconds } : {}) })
  }

  private reply(body: Record<string, unknown>): void {
    this.o.link.publish(this.o.topics.result, JSON.stringify(body), { qos: 1, contentType: 'application/json' })
      .catch((err) => this.o.log.warn(`calibration result: ${errorMessage(err)}`))
  }
}
