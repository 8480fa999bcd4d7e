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
