/**
 * CenterNet (MobileNetV3, COCO) as the benchmark's second detector, on the same TF.js wasm backend as COCO-SSD.
 * The frozen graph already decodes its heatmap: a 3x3 max-pool keeps local peaks, the top 100 (position, class)
 * peaks become boxes from the regressed distances to the four edges, and `tower_0/detections` holds one row per
 * peak: [x1, y1, x2, y2, score, class index] in the 512x512 input's pixels. What is left, written here: letterbox
 * the frame into the input the way the model's authors feed it (aspect kept, scaled to fit, centred, zero padding),
 * map rows back to frame pixels, name the class, drop low scores, and a per-class NMS.
 */
import type { RawImage } from '../../shared/codec/types'
import { verifyCenterNetCache } from './centernet-model'
import type { Detection, Detector } from './detector'
import { iou } from './detection-metric'
import { letterboxGeometry, letterboxTensor, unletterbox } from './letterbox'
import { checkRgbFrame, loadCachedGraphModel, type Tf } from './tfjs-wasm'

type GraphModel = import('@tensorflow/tfjs-converter').GraphModel

/** The 80 COCO classes in the model's index order, named as COCO-SSD names them (the metric matches by name). */
export const COCO_CLASSES: readonly string[] = (
  'person,bicycle,car,motorcycle,airplane,bus,train,truck,boat,traffic light,fire hydrant,stop sign,' +
  'parking meter,bench,bird,cat,dog,horse,sheep,cow,elephant,bear,zebra,giraffe,backpack,umbrella,' +
  'handbag,tie,suitcase,frisbee,skis,snowboard,sports ball,kite,baseball bat,baseball glove,skateboard,' +
  'surfboard,tennis racket,bottle,wine glass,cup,fork,knife,spoon,bowl,banana,apple,sandwich,orange,' +
  'broccoli,carrot,hot dog,pizza,donut,cake,chair,couch,potted plant,bed,dining table,toilet,tv,laptop,' +
  'mouse,remote,keyboard,cell phone,microwave,oven,toaster,sink,refrigerator,book,clock,vase,scissors,' +
  'teddy bear,hair drier,toothbrush'
).split(',')

const INPUT = 512
const OUTPUT = 'tower_0/detections'
const ROW = 6

export interface CenterNetOptions {
  /** Cached model folder (default: centernet-model.ts's cache); verified against the pinned hashes before loading. */
  modelDir?: string
  /** Lowest score kept (default 0.5, the benchmark metric's threshold). */
  minScore?: number
  /** IoU at which a lower-scored box of the same class is dropped (default 0.5). */
  nmsIou?: number
}

export class CenterNetDetector implements Detector {
  readonly name = 'centernet'

  private constructor(
    private readonly tf: Tf,
    readonly model: GraphModel,
    private readonly minScore: number,
    private readonly nmsIou: number,
  ) {}

  static async load(opts: CenterNetOptions = {}): Promise<CenterNetDetector> {
    const { tf, model } = await loadCachedGraphModel(() => verifyCenterNetCache(opts.modelDir), 'centernet.json')
    return new CenterNetDetector(tf, model, opts.minScore ?? 0.5, opts.nmsIou ?? 0.5)
  }

  /** Detections on one RGB frame, highest score first. */
  async detect(img: RawImage): Promise<Detection[]> {
    checkRgbFrame(img)
    const { width: w, height: h } = img
    const tf = this.tf
    const g = letterboxGeometry(w, h, INPUT)
    const out = tf.tidy(
      () =>
        this.model.execute(
          tf.expandDims(letterboxTensor(tf, img, g), 0),
          OUTPUT,
        ) as import('@tensorflow/tfjs-core').Tensor,
    )
    let rows: Float32Array
    try {
      if (out.shape.length !== 3 || out.shape[2] !== ROW)
        throw new Error(`CenterNet: ${OUTPUT} has shape [${out.shape}], expected [1, N, ${ROW}]`)
      rows = (await out.data()) as Float32Array
    } finally {
      out.dispose()
    }
    const found: Detection[] = []
    for (let r = 0; r + ROW <= rows.length; r += ROW) {
      const score = rows[r + 4]
      if (!(score >= this.minScore)) continue
      const k = rows[r + 5]
      const cls = COCO_CLASSES[k]
      if (!Number.isInteger(k) || cls === undefined)
        throw new Error(`CenterNet: class index ${k} is not one of the 80 COCO classes; is the model the pinned one?`)
      const [x1, y1, x2, y2] = unletterbox(g, w, h, rows[r], rows[r + 1], rows[r + 2], rows[r + 3])
      if (x2 <= x1 || y2 <= y1) continue
      found.push({ bbox: [x1, y1, x2 - x1, y2 - y1], class: cls, score })
    }
    return nmsPerClass(found, this.nmsIou)
  }

  dispose(): void {
    this.model.dispose()
  }
}

/**
 * Greedy non-maximum suppression within each class: boxes in descending score each drop the lower-scored boxes
 * of their class that overlap them by `maxIou` or more. Per class, so a person on a bicycle keeps both boxes;
 * the heatmap's max-pool already removed adjacent peaks, this removes the distant duplicates of one object.
 */
export function nmsPerClass(boxes: readonly Detection[], maxIou: number): Detection[] {
  const sorted = [...boxes].sort((a, b) => b.score - a.score)
  const kept: Detection[] = []
  for (const b of sorted) {
    if (!kept.some((k) => k.class === b.class && iou(k.bbox, b.bbox) >= maxIou)) kept.push(b)
  }
  return kept
}
