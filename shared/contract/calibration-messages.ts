/**
 * Remote calibration messages: `calibrate` (request) and `calibration` (its responses: `started` at once, then
 * `done` with the table and σ report, or `cancelled`; or an error). Pure.
 */
import {
  errorResponse,
  okResponse,
  parseRequest,
  parseResponse,
  withId,
  type RequestId,
  type Response,
} from './envelope'
import { Fields, type Payload } from './payload'

/** Largest `frames` an agent accepts by default. */
export const MAX_CALIBRATION_FRAMES = 10000
export const MAX_CALIBRATION_SECONDS = 86400
export const MAX_CALIBRATION_SCALE = 32

/** `calibrate` ← `{ id?, frames?, seconds?, scale? }` (start) or `{ id?, cancel: true }`. */
export interface CalibrateRequest {
  id: RequestId
  /** Frames to collect (default 100 on the agent). */
  frames?: number
  /** Stop after this long even with fewer frames. */
  seconds?: number
  /** Multiplies the table's steps (coarser above 1). */
  scale?: number
  cancel?: boolean
}

export function buildCalibrateRequest(r: Omit<CalibrateRequest, 'id'> & { id?: string }): string {
  return JSON.stringify(r)
}

/** Throws RequestError (with the id when it could be read) naming the wrong field. */
export function parseCalibrateRequest(
  payload: Payload,
  maxBytes: number,
  maxFrames = MAX_CALIBRATION_FRAMES,
): CalibrateRequest {
  const { id, fields: f } = parseRequest(payload, { maxBytes, fields: ['frames', 'seconds', 'scale', 'cancel'] })
  return withId(id, () => {
    if (f.has('cancel')) {
      if (f.get('cancel') !== true) f.fail('cancel', 'true when present')
      return { id, cancel: true }
    }
    const out: CalibrateRequest = { id, frames: f.optional('frames', (n) => f.integer(n, 1, { max: maxFrames })) }
    out.seconds = inRange(f, 'seconds', MAX_CALIBRATION_SECONDS)
    out.scale = inRange(f, 'scale', MAX_CALIBRATION_SCALE)
    return out
  })
}

function inRange(f: Fields, name: string, max: number): number | undefined {
  const v = f.get(name)
  if (v === undefined) return undefined
  if (typeof v !== 'number' || !(v > 0 && v <= max)) f.fail(name, `a number in (0, ${max}]`)
  return v
}

/** `data` of an ok `calibration` response. */
export interface CalibrationData {
  state: 'started' | 'done' | 'cancelled'
  /** `started`: frames it will collect. `cancelled` without any frame collected: 0. */
  frames?: number
  /** `started`: the time limit, when one was asked for. */
  seconds?: number
  /** `done` (and `cancelled` after some frames): the DeepN table file `{ id, luma, chroma, source, … }`. */
  table?: Record<string, unknown>
  /** `done` (and `cancelled` after some frames): the σ report `{ frames, seconds, lumaSigma, … }`. */
  report?: Record<string, unknown> & { frames: number }
}

export type CalibrationResponse = Response<CalibrationData>

export function calibrationOk(id: RequestId, data: CalibrationData): CalibrationResponse {
  return okResponse(id, data)
}

export function calibrationFailed(id: RequestId, error: string): CalibrationResponse {
  return errorResponse(id, error)
}

export function buildCalibrationResponse(r: CalibrationResponse): string {
  return JSON.stringify(r.status === 'ok' ? okResponse(r.id, r.data) : r)
}

/** Reads a `calibration` response (also the pre-envelope `{ id, ok, state, … }`). */
export function parseCalibrationResponse(payload: Payload): CalibrationResponse {
  const r = parseResponse(payload, 'calibration ')
  if (r.status === 'error') return r
  const f = new Fields(r.data, 'calibration data.')
  const data: CalibrationData = { state: f.oneOf('state', ['started', 'done', 'cancelled'] as const) }
  const frames = f.optional('frames', (n) => f.integer(n))
  if (frames !== undefined) data.frames = frames
  const seconds = f.optional('seconds', f.number)
  if (seconds !== undefined) data.seconds = seconds
  if (f.has('table') || data.state === 'done') data.table = f.object('table').doc
  if (f.has('report') || data.state === 'done') {
    const report = f.object('report')
    report.integer('frames')
    data.report = report.doc as CalibrationData['report']
  }
  return { id: r.id, status: 'ok', data, ok: true }
}
