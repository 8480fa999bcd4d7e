/**
 * COCO-SSD object detector for the benchmark: @tensorflow-models/coco-ssd's own code path (its preprocessing,
 * score-per-box, NMS and box scaling), running the cached graph model (coco-ssd-model.ts) on TF.js's WebAssembly
 * backend, whose .wasm files ship in its npm package and are loaded from node_modules. The package's code rather
 * than a rewrite of its post-processing: the benchmark should score exactly what a backend running that package
 * sees, quirks included (it passes minScore as NMS's IoU threshold too). Later phases that need the raw
 * pre-NMS outputs can reach `model` below, the same GraphModel.
 */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { RawImage } from '../../shared/codec/types'
import { loadBackendPackage } from '../common/backend-package'
import { verifyCocoSsdCache } from './coco-ssd-model'

export interface Detection {
  /** [x, y, width, height] in pixels of the frame. */
  bbox: [number, number, number, number]
  class: string
  score: number
}

type Tf = typeof import('@tensorflow/tfjs-core')
type CocoSsd = typeof import('@tensorflow-models/coco-ssd')
type ObjectDetection = Awaited<ReturnType<CocoSsd['load']>>

/** Scheme of the load router below: the model is read from disk, never from the URL coco-ssd would default to. */
const LOCAL_SCHEME = 'deepn-local-model://'
let routerDirs: Map<string, string> | undefined

/** Registers (once) a TF.js IO router serving `deepn-local-model://<dir>` from files, weights in manifest order. */
function localModelUrl(tf: Tf, dir: string): string {
  if (!routerDirs) {
    const dirs = new Map<string, string>()
    routerDirs = dirs
    tf.io.registerLoadRouter((url) => {
      const u = Array.isArray(url) ? url[0] : url
      const d = typeof u === 'string' && u.startsWith(LOCAL_SCHEME) ? dirs.get(u) : undefined
      // the registry skips routers that answer null (its typing says IOHandler only)
      if (!d) return null as unknown as import('@tensorflow/tfjs-core').io.IOHandler
      return {
        load: async () => {
          const m = JSON.parse(readFileSync(join(d, 'model.json'), 'utf8')) as {
            modelTopology: object
            weightsManifest: { paths: string[]; weights: import('@tensorflow/tfjs-core').io.WeightsManifestEntry[] }[]
            format?: string
            generatedBy?: string
            convertedBy?: string
          }
          const shards = m.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(d, p))))
          const all = Buffer.concat(shards)
          return {
            modelTopology: m.modelTopology,
            format: m.format,
            generatedBy: m.generatedBy,
            convertedBy: m.convertedBy ?? undefined,
            weightSpecs: m.weightsManifest.flatMap((g) => g.weights),
            weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.length),
          }
        },
      }
    })
  }
  const url = `${LOCAL_SCHEME}${dir}`
  routerDirs.set(url, dir)
  return url
}

let backendReady: Promise<Tf> | undefined

/** TF.js on the wasm backend, single-threaded (no worker pool: the machine is shared, and results are deterministic). */
function wasmTf(): Promise<Tf> {
  backendReady ??= (async () => {
    const what = 'the detection benchmark (deepn eval detect)'
    const tf = loadBackendPackage<Tf>('@tensorflow/tfjs-core', what)
    loadBackendPackage<typeof import('@tensorflow/tfjs-converter')>('@tensorflow/tfjs-converter', what)
    const wasm = loadBackendPackage<typeof import('@tensorflow/tfjs-backend-wasm')>(
      '@tensorflow/tfjs-backend-wasm',
      what,
    )
    wasm.setWasmPaths(`${join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist')}/`)
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false)
    if (!(await tf.setBackend('wasm'))) throw new Error('TF.js could not start its wasm backend')
    await tf.ready()
    return tf
  })()
  return backendReady
}

export interface DetectorOptions {
  /** Cached model folder (default: coco-ssd-model.ts's cache); verified against the pinned hashes before loading. */
  modelDir?: string
  /** Most boxes kept after NMS (coco-ssd's default is 20; a street scene can hold more). */
  maxBoxes?: number
  /** Lowest score kept; coco-ssd also uses it as NMS's IoU threshold. */
  minScore?: number
}

export class CocoSsdDetector {
  private constructor(
    private readonly tf: Tf,
    readonly model: ObjectDetection,
    private readonly maxBoxes: number,
    private readonly minScore: number,
  ) {}

  static async load(opts: DetectorOptions = {}): Promise<CocoSsdDetector> {
    const tf = await wasmTf() // first, so a device install hears about the missing package, not the cache
    const dir = verifyCocoSsdCache(opts.modelDir)
    const coco = loadBackendPackage<CocoSsd>(
      '@tensorflow-models/coco-ssd',
      'the detection benchmark (deepn eval detect)',
    )
    const model = await coco.load({ base: 'lite_mobilenet_v2', modelUrl: localModelUrl(tf, dir) })
    return new CocoSsdDetector(tf, model, opts.maxBoxes ?? 100, opts.minScore ?? 0.5)
  }

  /** Detections on one RGB frame, highest score first. */
  async detect(img: RawImage): Promise<Detection[]> {
    if (img.format !== 'rgb') throw new Error(`detector: frames must be rgb, got ${img.format}`)
    if (img.data.length !== img.width * img.height * 3)
      throw new RangeError(
        `detector: ${img.width}x${img.height} rgb needs ${img.width * img.height * 3} bytes, got ${img.data.length}`,
      )
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
