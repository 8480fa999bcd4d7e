/**
 * Remote calibration requests (an agent Extension, ready to register): a backend publishes on the request topic
 * `{ "id"?: string, "frames"?: N, "seconds"?: T, "scale"?: S }` (or `{ "id"?, "cancel": true }`); the agent
 * collects statistics from the frames its capture loop encodes (via the shared CalibrationSession) and answers on
 * the result topic, QoS 1, in the response envelope (shared/contract/calibration-messages.ts):
 *   `{ id, status: 'ok', data: { state: 'started', frames, seconds? } }` at once, then
 *   `{ id, status: 'ok', data: { state: 'done', table, report } }` (the DeepN table file and σ report), or
 *   `{ id, status: 'error', error }` for a bad request, a busy agent or a bad frame.
 * Topics are passed in (the controller names them from shared/contract/topics.ts).
 */
import type { AgentConfig } from '../../shared/config'
import {
  buildCalibrationResponse,
  calibrationFailed,
  calibrationOk,
  parseCalibrateRequest,
  type CalibrateRequest,
  type CalibrationData,
  type CalibrationResponse,
} from '../../shared/contract/calibration-messages'
import { RequestError } from '../../shared/contract/envelope'
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

/** Parses and checks one request; throws a RequestError whose message is the reason sent back (and whose `id` is the request's, when readable). */
export const parseCalibrationRequest = parseCalibrateRequest

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
    let req: CalibrateRequest
    try {
      req = parseCalibrateRequest(payload, cfg.mqtt.maxConfigBytes, this.o.maxFrames)
    } catch (err) {
      this.reply(calibrationFailed(err instanceof RequestError ? err.id : null, errorMessage(err)))
      return
    }
    if (req.cancel) {
      const partial = this.o.session.cancel()
      this.reply(
        calibrationOk(req.id, partial ? { state: 'cancelled', ...asData(partial) } : { state: 'cancelled', frames: 0 }),
      )
      return
    }
    const frames = req.frames ?? 100
    try {
      this.o.session.start(
        {
          frames,
          seconds: req.seconds,
          scale: req.scale,
          subsampling: cfg.encoder.subsampling,
          deviceId: cfg.deviceId,
        },
        (r: CalibrationResult) => {
          this.o.log.info(`calibration ${req.id ?? ''} done: ${r.report.frames} frames → table ${r.table.id}`)
          this.reply(calibrationOk(req.id, { state: 'done', ...asData(r) }))
        },
        (err) => this.reply(calibrationFailed(req.id, `calibration failed: ${errorMessage(err)}`)),
      )
    } catch (err) {
      this.reply(calibrationFailed(req.id, errorMessage(err)))
      return
    }
    this.o.log.info(`calibration ${req.id ?? ''} started: ${frames} frames${req.seconds ? ` or ${req.seconds} s` : ''}`)
    this.reply(calibrationOk(req.id, { state: 'started', frames, ...(req.seconds ? { seconds: req.seconds } : {}) }))
  }

  private reply(r: CalibrationResponse): void {
    this.o.link
      .publish(this.o.topics.result, buildCalibrationResponse(r), { qos: 1, contentType: 'application/json' })
      .catch((err) => this.o.log.warn(`calibration result: ${errorMessage(err)}`))
  }
}

/** The collector's result as response data (a table file and a report are plain JSON objects). */
function asData(r: CalibrationResult): Omit<CalibrationData, 'state'> {
  return {
    table: r.table as unknown as Record<string, unknown>,
    report: r.report as unknown as CalibrationData['report'],
  }
}
