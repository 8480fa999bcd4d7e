/**
 * NanoDet-g (COCO) as the benchmark's third detector, held out from tuning, on the same TF.js wasm backend as the
 * other two. Unlike CenterNet's, this graph ends at the head: per level (strides 8, 16, 32 on the 416x416 input,
 * so 52x52, 26x26 and 13x13 cells, row-major) one [cells, 80] tensor of sigmoid class scores and one [cells, 44]
 * tensor of box edges, each of the four distances (left, top, right, bottom) as 11 logits over 0..10 strides (the
 * GFL head's distribution). Written here as the model's authors decode it (RangiLyu/nanodet, legacy v0.x configs):
 * BGR input normalised by their mean and std, letterboxed (aspect kept, scaled to fit, centred, black padding);
 * a cell whose class score passes becomes a box around the cell's centre ((i + 0.5) * stride) at the expected
 * distance (softmax-weighted mean of the bins, times the stride); then per-class NMS at their IoU 0.6, at most
 * 100 boxes. Only the score threshold is ours: 0.5, the metric's, as for the other detectors.
 */
import type { RawImage } from '../../shared/codec/types'
import { COCO_CLASSES, nmsPerClass } from './centernet-detector'
import type { Detection, Detector } from './detector'
import { letterboxGeometry, letterboxTensor, unletterbox } from './letterbox'
import { verifyNanoDetCache } from './nanodet-model'
import { checkRgbFrame, loadCachedGraphModel, type Tf } from './tfjs-wasm'

type GraphModel = import('@tensorflow/tfjs-converter').GraphModel
type Tensor = import('@tensorflow/tfjs-core').Tensor

const INPUT = 416
const CLASSES = 80
/** Bins per box edge: distances 0..REG_MAX strides (nanodet-g.yml's reg_max 10). */
const REG_MAX = 10
const EDGES = 4 * (REG_MAX + 1)
/** The graph's outputs per level: class scores and edge logits (names from the model's signature). */
const LEVELS = [
  { stride: 8, scores: 'Identity', edges: 'Identity_3' },
  { stride: 16, scores: 'Identity_1', edges: 'Identity_4' },
  { stride: 32, scores: 'Identity_2', edges: 'Identity_5' },
] as const
/** nanodet-g.yml's normalize, per channel in the BGR order the model was trained on. */
const BGR_MEAN = [103.53, 116.28, 123.675]
const BGR_STD = [57.375, 57.12, 58.395]
/** The authors' post-processing: per-class NMS IoU and most boxes kept. */
const NMS_IOU = 0.6
const MAX_BOXES = 100

export interface NanoDetOptions {
  /** Cached model folder (default: nanodet-model.ts's cache); verified against the pinned hashes before loading. */
  modelDir?: string
  /** Lowest score kept (default 0.5, the benchmark metric's threshold). */
  minScore?: number
}

export class NanoDetDetector implements Detector {
  readonly name = 'nanodet'

  private constructor(
    private readonly tf: Tf,
    readonly model: GraphModel,
    private readonly minScore: number,
  ) {}

  static async load(opts: NanoDetOptions = {}): Promise<NanoDetDetector> {
    const { tf, model } = await loadCachedGraphModel(() => verifyNanoDetCache(opts.modelDir), 'nanodet.json')
    return new NanoDetDetector(tf, model, opts.minScore ?? 0.5)
  }

  /** Detections on one RGB frame, highest score first. */
  async detect(img: RawImage): Promise<Detection[]> {
    checkRgbFrame(img)
    const { width: w, height: h } = img
    const tf = this.tf
    // letterboxed as nanodet's warp does with keep_ratio
    const g = letterboxGeometry(w, h, INPUT)
    const outs = tf.tidy(() => {
      const bgr = tf.reverse(letterboxTensor(tf, img, g), 2)
      const norm = tf.div(tf.sub(bgr, tf.tensor1d(BGR_MEAN)), tf.tensor1d(BGR_STD))
      const nchw = tf.expandDims(tf.transpose(norm, [2, 0, 1]), 0)
      return this.model.execute(
        nchw,
        LEVELS.flatMap((l) => [l.scores, l.edges]),
      ) as Tensor[]
    })
    let data: Float32Array[]
    try {
      for (const [k, l] of LEVELS.entries()) {
        const cells = (INPUT / l.stride) ** 2
        for (const [t, width] of [
          [outs[2 * k], CLASSES],
          [outs[2 * k + 1], EDGES],
        ] as const)
          if (t.shape.join() !== [1, cells, width].join())
            throw new Error(`NanoDet: an output has shape [${t.shape}], expected [1, ${cells}, ${width}]`)
      }
      data = (await Promise.all(outs.map((t) => t.data()))) as Float32Array[]
    } finally {
      for (const t of outs) t.dispose()
    }
    const found: Detection[] = []
    const dist = new Float64Array(4)
    for (const [k, l] of LEVELS.entries()) {
      const scores = data[2 * k]
      const edges = data[2 * k + 1]
      const grid = INPUT / l.stride
      for (let cell = 0; cell < grid * grid; cell++) {
        let decoded = false
        for (let c = 0; c < CLASSES; c++) {
          const score = scores[cell * CLASSES + c]
          if (!(score >= this.minScore)) continue
          if (!decoded) {
            expectedDistances(edges, cell * EDGES, dist)
            decoded = true
          }
          const cx = ((cell % grid) + 0.5) * l.stride
          const cy = (Math.floor(cell / grid) + 0.5) * l.stride
          const [x1, y1, x2, y2] = unletterbox(
            g,
            w,
            h,
            cx - dist[0] * l.stride,
            cy - dist[1] * l.stride,
            cx + dist[2] * l.stride,
            cy + dist[3] * l.stride,
          )
          if (x2 <= x1 || y2 <= y1) continue
          found.push({ bbox: [x1, y1, x2 - x1, y2 - y1], class: COCO_CLASSES[c], score })
        }
      }
    }
    return nmsPerClass(found, NMS_IOU).slice(0, MAX_BOXES)
  }

  dispose(): void {
    this.model.dispose()
  }
}

/**
 * The four edge distances (left, top, right, bottom; in strides) of one cell: each the mean of 0..REG_MAX under
 * the softmax of its REG_MAX + 1 logits, read from `logits` at `at`, written to `out`.
 */
export function expectedDistances(logits: ArrayLike<number>, at: number, out: Float64Array): void {
  for (let e = 0; e < 4; e++) {
    const base = at + e * (REG_MAX + 1)
    let max = Number.NEGATIVE_INFINITY
    for (let b = 0; b <= REG_MAX; b++) max = Math.max(max, logits[base + b])
    let sum = 0
    let mean = 0
    for (let b = 0; b <= REG_MAX; b++) {
      const p = Math.exp(logits[base + b] - max)
      sum += p
      mean += p * b
    }
    out[e] = mean / sum
  }
}
