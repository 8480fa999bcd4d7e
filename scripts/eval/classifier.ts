/**
 * ONNX image classifier on onnxruntime-web (WebAssembly; onnxruntime-node cannot install here).
 * The model's sidecar JSON (`<model>.json`) states its input contract; the eval feeds it decoded pixels.
 */
import { existsSync, readFileSync } from 'node:fs'
import type { InferenceSession, Tensor } from 'onnxruntime-web'
import { loadOnnxModel } from '../common/onnx-model'

export interface ModelInfo {
  /** Input height/width and channels the model expects (1 = gray). */
  height: number
  width: number
  channels: 1 | 3
  classes: string[]
  /** Clean top-1 accuracy measured by `deepn eval clean`, recorded for the quick-mode check. */
  cleanAccuracy?: { test: number; quickSubset: number; quickSubsetSize: number }
  [k: string]: unknown
}

export function readModelInfo(modelPath: string): ModelInfo {
  const side = modelPath.replace(/(\.onnx)?$/, '.json')
  if (!existsSync(side))
    throw new Error(`model sidecar ${side} not found: it states the model's input size, channels and classes`)
  let info: ModelInfo
  try {
    info = JSON.parse(readFileSync(side, 'utf8')) as ModelInfo
  } catch (err) {
    throw new Error(`model sidecar ${side} is not valid JSON (${(err as Error).message.split('\n')[0]})`)
  }
  if (
    !(info.height > 0 && info.width > 0) ||
    (info.channels !== 1 && info.channels !== 3) ||
    !Array.isArray(info.classes)
  ) {
    throw new Error(`model sidecar ${side} must have height, width, channels (1|3) and classes[]`)
  }
  return info
}

export class Classifier {
  private constructor(
    private readonly ort: typeof import('onnxruntime-web'),
    private readonly session: InferenceSession,
    readonly info: ModelInfo,
  ) {}

  static async load(modelPath: string): Promise<Classifier> {
    const { ort, session, sidecar } = await loadOnnxModel(modelPath, { readSidecar: readModelInfo })
    return new Classifier(ort, session, sidecar)
  }

  /**
   * Top-1 class of each image. `pixels` holds `count` images of height*width*channels bytes (planar per image:
   * gray, or RGB interleaved as decoded), converted to float 0..1 in NCHW as the model was trained on.
   */
  async classify(pixels: Uint8Array, count: number): Promise<Int32Array> {
    const { height: h, width: w, channels: c } = this.info
    const per = h * w * c
    if (pixels.length !== per * count)
      throw new RangeError(`classify: expected ${count} images of ${per} bytes, got ${pixels.length} bytes`)
    const input = new Float32Array(per * count)
    for (let n = 0; n < count; n++) {
      const base = n * per
      for (let ch = 0; ch < c; ch++) {
        for (let i = 0; i < h * w; i++) input[base + ch * h * w + i] = pixels[base + i * c + ch] / 255
      }
    }
    const feeds: Record<string, Tensor> = {
      [this.session.inputNames[0]]: new this.ort.Tensor('float32', input, [count, c, h, w]),
    }
    const out = await this.session.run(feeds)
    const logits = out[this.session.outputNames[0]].data as Float32Array
    const k = logits.length / count
    const top = new Int32Array(count)
    for (let n = 0; n < count; n++) {
      let best = 0
      for (let j = 1; j < k; j++) if (logits[n * k + j] > logits[n * k + best]) best = j
      top[n] = best
    }
    return top
  }

  async release(): Promise<void> {
    await this.session.release()
  }
}
