/**
 * Raw logits from the ONNX classifier (the eval's Classifier only returns top-1; the optimiser ranks moves by a
 * smooth loss, so it needs the scores). Same runtime (loadOnnxModel) and input contract: float 0..1 pixels in
 * NCHW, the model's sidecar JSON for its input size.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-web'
import { readModelInfo, type ModelInfo } from '../../eval/classifier'
import { loadOnnxModel } from '../../common/onnx-model'

export class LogitsModel {
  private constructor(
    private readonly ort: typeof import('onnxruntime-web'),
    private readonly session: InferenceSession,
    readonly info: ModelInfo,
    readonly classes: number,
  ) {}

  static async load(modelPath: string): Promise<LogitsModel> {
    const { ort, session, sidecar: info } = await loadOnnxModel(modelPath, { readSidecar: readModelInfo })
    return new LogitsModel(ort, session, info, info.classes.length)
  }

  /** Pixels per image the model takes. */
  get inputSize(): number {
    return this.info.height * this.info.width * this.info.channels
  }

  /** Logits for `count` images given as float 0..1, planar NCHW, `count * inputSize` values. Batches internally. */
  async run(input: Float32Array, count: number, batch = 500): Promise<Float32Array> {
    const per = this.inputSize
    if (input.length < per * count)
      throw new RangeError(`logits: expected ${count} images of ${per} values, got ${input.length}`)
    const { height: h, width: w, channels: c } = this.info
    const out = new Float32Array(count * this.classes)
    for (let i = 0; i < count; i += batch) {
      const n = Math.min(batch, count - i)
      const feeds: Record<string, Tensor> = {
        [this.session.inputNames[0]]: new this.ort.Tensor('float32', input.subarray(i * per, (i + n) * per), [
          n,
          c,
          h,
          w,
        ]),
      }
      const res = await this.session.run(feeds)
      const data = res[this.session.outputNames[0]].data as Float32Array
      if (data.length !== n * this.classes)
        throw new Error(
          `model returned ${data.length} scores for ${n} images; its sidecar lists ${this.classes} classes`,
        )
      out.set(data, i * this.classes)
    }
    return out
  }

  async release(): Promise<void> {
    await this.session.release()
  }
}

/** Cross-entropy of the true class from one row of logits (log-sum-exp, stable). */
export function nll(logits: Float32Array, off: number, classes: number, label: number): number {
  let m = -Infinity
  for (let j = 0; j < classes; j++) m = Math.max(m, logits[off + j])
  let s = 0
  for (let j = 0; j < classes; j++) s += Math.exp(logits[off + j] - m)
  return m + Math.log(s) - logits[off + label]
}

/** Softmax of one row of logits into `out` at `outOff`. */
export function softmax(logits: Float32Array, off: number, classes: number, out: Float32Array, outOff: number): void {
  let m = -Infinity
  for (let j = 0; j < classes; j++) m = Math.max(m, logits[off + j])
  let s = 0
  for (let j = 0; j < classes; j++) s += Math.exp(logits[off + j] - m)
  for (let j = 0; j < classes; j++) out[outOff + j] = Math.exp(logits[off + j] - m) / s
}

/** KL(ref ‖ softmax(logits)): how far the model's output on the decoded image moved from its output on the original. */
export function klFromRef(
  logits: Float32Array,
  off: number,
  classes: number,
  ref: Float32Array,
  refOff: number,
): number {
  let m = -Infinity
  for (let j = 0; j < classes; j++) m = Math.max(m, logits[off + j])
  let s = 0
  for (let j = 0; j < classes; j++) s += Math.exp(logits[off + j] - m)
  const lse = m + Math.log(s)
  let kl = 0
  for (let j = 0; j < classes; j++) {
    const p = ref[refOff + j]
    if (p > 0) kl += p * (Math.log(p) - (logits[off + j] - lse))
  }
  return kl
}

/** Top-1 index of one row of logits. */
export function argmax(logits: Float32Array, off: number, classes: number): number {
  let best = 0
  for (let j = 1; j < classes; j++) if (logits[off + j] > logits[off + best]) best = j
  return best
}
