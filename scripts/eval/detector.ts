/**
 * The benchmark's detectors behind one interface (`loadDetector`), and the first of them, COCO-SSD:
 * @tensorflow-models/coco-ssd's own code path (its preprocessing, score-per-box, NMS and box scaling), running
 * the cached graph model (coco-ssd-model.ts) on TF.js's WebAssembly backend (tfjs-wasm.ts). The package's code rather
 * than a rewrite of its post-processing: the benchmark should score exactly what a backend running that package
 * sees, quirks included (it passes minScore as NMS's IoU threshold too). Later phases that need the raw
 * pre-NMS outputs can reach `model` below, the same GraphModel.
 */
import type { RawImage } from '../../shared/codec/types'
import { loadBackendPackage } from '../common/backend-package'
import { CenterNetDetector } from './centernet-detector'
import { verifyCocoSsdCache } from './coco-ssd-model'
import { NanoDetDetector } from './nanodet-detector'
import { BENCHMARK, checkRgbFrame, localModelUrl, type Tf, wasmTf } from './tfjs-wasm'

export interface Detection {
  /** [x, y, width, height] in pixels of the frame. */
  bbox: [number, number, number, number]
  class: string
  score: number
}

type CocoSsd = typeof import('@tensorflow-models/coco-ssd')
type ObjectDetection = Awaited<ReturnType<CocoSsd['load']>>

/** What the benchmark needs of a detector: boxes on one RGB frame, highest score first. */
export interface Detector {
  /** Its name on the command line and in CSVs. */
  readonly name: DetectorName
  detect(img: RawImage): Promise<Detection[]>
  dispose(): void
}

export const DETECTORS = ['coco-ssd', 'centernet', 'nanodet'] as const
export type DetectorName = (typeof DETECTORS)[number]

/** How reports and chart titles name each detector. */
export const DETECTOR_INFO: Readonly<Record<DetectorName, { title: string; description: string }>> = {
  'coco-ssd': { title: 'COCO-SSD', description: 'COCO-SSD (SSDLite MobileNetV2, TF.js wasm)' },
  centernet: { title: 'CenterNet', description: 'CenterNet (MobileNetV3, 512x512 letterboxed input, TF.js wasm)' },
  nanodet: { title: 'NanoDet', description: 'NanoDet-g (CSPNet, 416x416 letterboxed input, TF.js wasm)' },
}

/** The named detector, its model cache verified and loaded (modelDir: another cache folder than the default). */
export async function loadDetector(name: DetectorName, opts: { modelDir?: string } = {}): Promise<Detector> {
  if (name === 'coco-ssd') return CocoSsdDetector.load(opts)
  if (name === 'centernet') return CenterNetDetector.load(opts)
  if (name === 'nanodet') return NanoDetDetector.load(opts)
  throw new Error(`unknown detector '${name}': one of ${DETECTORS.join(', ')}`)
}

export interface DetectorOptions {
  /** Cached model folder (default: coco-ssd-model.ts's cache); verified against the pinned hashes before loading. */
  modelDir?: string
  /** Most boxes kept after NMS (coco-ssd's default is 20; a street scene can hold more). */
  maxBoxes?: number
  /** Lowest score kept; coco-ssd also uses it as NMS's IoU threshold. */
  minScore?: number
}

export class CocoSsdDetector implements Detector {
  readonly name = 'coco-ssd'

  private constructor(
    private readonly tf: Tf,
    readonly model: ObjectDetection,
    private readonly maxBoxes: number,
    private readonly minScore: number,
  ) {}

  static async load(opts: DetectorOptions = {}): Promise<CocoSsdDetector> {
    const tf = await wasmTf() // first, so a device install hears about the missing package, not the cache
    const dir = verifyCocoSsdCache(opts.modelDir)
    const coco = loadBackendPackage<CocoSsd>('@tensorflow-models/coco-ssd', BENCHMARK)
    const model = await coco.load({ base: 'lite_mobilenet_v2', modelUrl: localModelUrl(tf, dir) })
    return new CocoSsdDetector(tf, model, opts.maxBoxes ?? 100, opts.minScore ?? 0.5)
  }

  /** Detections on one RGB frame, highest score first. */
  async detect(img: RawImage): Promise<Detection[]> {
    checkRgbFrame(img)
    const input = this.tf.tensor3d(img.data, [img.height, img.width, 3], 'int32')
    try {
      const found = await this.model.detect(input, this.maxBoxes, this.minScore)
      return found.map((d) => ({ bbox: d.bbox as Detection['bbox'], class: d.class, score: d.score }))
    } finally {
      input.dispose()
    }
  }

  dispose(): void {
    this.model.dispose()
  }
}
