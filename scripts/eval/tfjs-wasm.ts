/**
 * TF.js for the detection benchmark's detectors: the WebAssembly backend, whose .wasm files ship in its npm
 * package and are loaded from node_modules, and a load router that serves graph models from the verified local
 * caches, never from a URL a model package would default to.
 */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { loadBackendPackage } from '../common/backend-package'

export type Tf = typeof import('@tensorflow/tfjs-core')
type IOHandler = import('@tensorflow/tfjs-core').io.IOHandler
type WeightsManifestEntry = import('@tensorflow/tfjs-core').io.WeightsManifestEntry

export const BENCHMARK = 'the detection benchmark (deepn eval detect)'

/** Scheme of the load router below. */
const LOCAL_SCHEME = 'deepn-local-model://'
let routed: Map<string, string> | undefined

/**
 * Registers (once) a TF.js IO router serving `deepn-local-model://<dir>/<json>` from files, weights in manifest
 * order, and returns that URL for the model file `json` in `dir`.
 */
export function localModelUrl(tf: Tf, dir: string, json = 'model.json'): string {
  if (!routed) {
    const files = new Map<string, string>()
    routed = files
    tf.io.registerLoadRouter((url) => {
      const u = Array.isArray(url) ? url[0] : url
      const file = typeof u === 'string' && u.startsWith(LOCAL_SCHEME) ? files.get(u) : undefined
      // the registry skips routers that answer null (its typing says IOHandler only)
      if (!file) return null as unknown as IOHandler
      return {
        load: async () => {
          const m = JSON.parse(readFileSync(file, 'utf8')) as {
            modelTopology: object
            weightsManifest: { paths: string[]; weights: WeightsManifestEntry[] }[]
            format?: string
            generatedBy?: string
            convertedBy?: string
            signature?: object
          }
          const shards = m.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dirname(file), p))))
          const all = Buffer.concat(shards)
          return {
            modelTopology: m.modelTopology,
            format: m.format,
            generatedBy: m.generatedBy,
            convertedBy: m.convertedBy ?? undefined,
            signature: m.signature,
            weightSpecs: m.weightsManifest.flatMap((g) => g.weights),
            weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.length),
          }
        },
      }
    })
  }
  const url = `${LOCAL_SCHEME}${dir}/${json}`
  routed.set(url, join(dir, json))
  return url
}

let backendReady: Promise<Tf> | undefined

/** TF.js on the wasm backend, single-threaded (no worker pool: the machine is shared, and results are deterministic). */
export function wasmTf(): Promise<Tf> {
  backendReady ??= (async () => {
    const tf = loadBackendPackage<Tf>('@tensorflow/tfjs-core', BENCHMARK)
    loadBackendPackage<typeof import('@tensorflow/tfjs-converter')>('@tensorflow/tfjs-converter', BENCHMARK)
    const wasm = loadBackendPackage<typeof import('@tensorflow/tfjs-backend-wasm')>(
      '@tensorflow/tfjs-backend-wasm',
      BENCHMARK,
    )
    wasm.setWasmPaths(`${join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist')}/`)
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false)
    if (!(await tf.setBackend('wasm'))) throw new Error('TF.js could not start its wasm backend')
    await tf.ready()
    return tf
  })()
  return backendReady
}

/** Throws unless `img` is an rgb frame whose data has the size its dimensions say. */
export function checkRgbFrame(img: import('../../shared/codec/types').RawImage): void {
  if (img.format !== 'rgb') throw new Error(`detector: frames must be rgb, got ${img.format}`)
  if (img.data.length !== img.width * img.height * 3)
    throw new RangeError(
      `detector: ${img.width}x${img.height} rgb needs ${img.width * img.height * 3} bytes, got ${img.data.length}`,
    )
}

/**
 * A detector's graph model from its pinned cache: the wasm backend first (so a device install hears about the
 * missing package, not the cache), then the cache checked against its pins (`verify` returns the folder), then
 * the model file `json` loaded through the local router.
 */
export async function loadCachedGraphModel(
  verify: () => string,
  json: string,
): Promise<{ tf: Tf; model: import('@tensorflow/tfjs-converter').GraphModel }> {
  const tf = await wasmTf()
  const dir = verify()
  const tfc = loadBackendPackage<typeof import('@tensorflow/tfjs-converter')>('@tensorflow/tfjs-converter', BENCHMARK)
  return { tf, model: await tfc.loadGraphModel(localModelUrl(tf, dir, json)) }
}
