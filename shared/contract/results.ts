/** `results` (receiver → world, QoS 1, not retained): one classification per stored frame. Pure. */
import { Fields, decodeJsonObject, type Payload } from './payload'

export interface ResultMessage {
  seq: number
  /** Class name when the model has labels, else the class index as a string. */
  label: string
  index: number
  /** Probability of the winning class (softmax of the model's output unless it already sums to 1). */
  score: number
  deviceId: string
  capturedAt: string
  tableId: string
  /** The frame's quantDigest (recomputed by the receiver from the file). */
  quantDigest: string
  /** Model file name. */
  model: string
  inferenceMs: number
}

export function buildResult(m: ResultMessage): string {
  return JSON.stringify(m)
}

export function parseResult(payload: Payload): ResultMessage {
  const doc = decodeJsonObject(payload, '{"seq", "label", "index", "score", …}')
  const f = new Fields(doc, 'result ')
  return {
    seq: f.integer('seq'),
    label: f.string('label'),
    index: f.integer('index'),
    score: f.number('score'),
    deviceId: f.string('deviceId', { nonEmpty: true }),
    capturedAt: f.time('capturedAt'),
    tableId: f.string('tableId'),
    quantDigest: f.string('quantDigest'),
    model: f.string('model'),
    inferenceMs: f.number('inferenceMs'),
  }
}

/** One object a detector found: `bbox` is [x, y, width, height] in the frame's pixels. */
export interface DetectedObject {
  class: string
  score: number
  bbox: [number, number, number, number]
}

/**
 * `results` from a detector (`deepn demo --video`): every object found in one stored frame. Told apart from a
 * classification by its `detections` array (a classification has `label`).
 */
export interface DetectionResultMessage {
  seq: number
  deviceId: string
  capturedAt: string
  tableId: string
  /** The frame's quantDigest, as its metadata carries it ('' when absent). */
  quantDigest: string
  /** Detector name. */
  model: string
  inferenceMs: number
  /** Highest score first. */
  detections: DetectedObject[]
}

export function buildDetectionResult(m: DetectionResultMessage): string {
  return JSON.stringify(m)
}

export function parseDetectionResult(payload: Payload): DetectionResultMessage {
  const doc = decodeJsonObject(payload, '{"seq", "detections", …}')
  const f = new Fields(doc, 'detection result ')
  const list = f.get('detections')
  if (!Array.isArray(list)) f.fail('detections', 'an array of {class, score, bbox}')
  const detections = (list as unknown[]).map((d, i): DetectedObject => {
    if (d === null || typeof d !== 'object' || Array.isArray(d))
      f.fail('detections', `an array of objects (item ${i} is not one)`)
    const o = new Fields(d as Record<string, unknown>, 'detection result ', `detections.${i}.`)
    const bbox = o.get('bbox')
    if (!Array.isArray(bbox) || bbox.length !== 4 || !bbox.every((v) => typeof v === 'number' && Number.isFinite(v)))
      o.fail('bbox', 'an array of 4 numbers [x, y, width, height]')
    return {
      class: o.string('class', { nonEmpty: true }),
      score: o.number('score'),
      bbox: bbox as DetectedObject['bbox'],
    }
  })
  return {
    seq: f.integer('seq'),
    deviceId: f.string('deviceId', { nonEmpty: true }),
    capturedAt: f.time('capturedAt'),
    tableId: f.string('tableId'),
    quantDigest: f.string('quantDigest'),
    model: f.string('model'),
    inferenceMs: f.number('inferenceMs'),
    detections,
  }
}
