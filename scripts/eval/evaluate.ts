/**
 * The evaluation core: encode each image with one table setting through our encoder, decode it with an
 * independent decoder (jpeg-js), classify, and return accuracy and rate. Reused by `deepn eval` and by the
 * table optimiser (scripts/tables/optimize.ts), which calls it in a loop with candidate tables.
 */
import * as jpeg from 'jpeg-js'
import type { EncodeOptions, HuffmanTables, QuantTables, RawImage } from '../../shared/codec/types'
import { scanBytes } from '../../shared/deepn/scan-bytes'
import type { Classifier } from './classifier'
import { image, type LabelledSet } from './dataset'

/** One operating point: IJG quality on Annex K, or explicit tables. */
/** A quantization choice, plus the entropy coder: Annex K Huffman (default), per-image optimal, or a fixed set. */
export type Setting = ({ quality: number } | { tables: QuantTables }) & {
  optimizeHuffman?: boolean
  huffman?: HuffmanTables
}

export interface EvalResult {
  accuracy: number
  correct: number
  count: number
  meanBytes: number
  meanScanBytes: number
  /** Whole-file bits per pixel. */
  bpp: number
  scanBpp: number
}

export type Encoder = (img: RawImage, opts: EncodeOptions) => Uint8Array

export interface EvalOptions {
  classifier: Classifier
  encode: Encoder
  /** Images per inference call; larger amortises the wasm call overhead. */
  batch?: number
  onImage?: () => void
}

/** The project's own encoder (shared/codec), loaded lazily. */
export function ourEncoder(): Encoder {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const codec = require('../../shared/codec') as { encodeJpeg?: Encoder }
  if (typeof codec.encodeJpeg !== 'function') throw new Error('shared/codec does not export encodeJpeg')
  return codec.encodeJpeg
}

/** Decodes a JPEG with jpeg-js into packed gray or RGB bytes. */
export function decodeTo(jpg: Uint8Array, channels: 1 | 3, width: number, height: number): Uint8Array {
  const img = jpeg.decode(jpg, { useTArray: true, formatAsRGBA: false })
  if (img.width !== width || img.height !== height)
    throw new Error(`decoded ${img.width}x${img.height}, expected ${width}x${height}`)
  const n = width * height
  const stride = img.data.length / n // jpeg-js emits RGB (3) even for single-component files
  if (channels === 3 && stride === 3) return img.data
  const out = new Uint8Array(n * channels)
  for (let i = 0; i < n; i++) {
    if (channels === 1) out[i] = img.data[i * stride]
    else {
      out[3 * i] = img.data[i * stride]
      out[3 * i + 1] = img.data[i * stride + 1]
      out[3 * i + 2] = img.data[i * stride + 2]
    }
  }
  return out
}

function check(set: LabelledSet, c: Classifier): void {
  const m = c.info
  if (set.width !== m.width || set.height !== m.height || set.channels !== m.channels) {
    throw new Error(
      `data set ${set.name} is ${set.width}x${set.height}x${set.channels}, the model expects ${m.width}x${m.height}x${m.channels}`,
    )
  }
}

async function score(set: LabelledSet, c: Classifier, pixels: Uint8Array, from: number, n: number): Promise<number> {
  const top = await c.classify(pixels, n)
  let ok = 0
  for (let i = 0; i < n; i++) if (top[i] === set.labels[from + i]) ok++
  return ok
}

/** Accuracy on the raw pixels, no codec: the model's clean figure. */
export async function cleanAccuracy(set: LabelledSet, c: Classifier, batch = 1000): Promise<number> {
  check(set, c)
  const per = set.width * set.height * set.channels
  let ok = 0
  for (let i = 0; i < set.count; i += batch) {
    const n = Math.min(batch, set.count - i)
    ok += await score(set, c, set.pixels.subarray(i * per, (i + n) * per), i, n)
  }
  return ok / set.count
}

export async function evaluate(setting: Setting, set: LabelledSet, opts: EvalOptions): Promise<EvalResult> {
  const { classifier: c, encode } = opts
  check(set, c)
  const batch = opts.batch ?? 1000
  const per = set.width * set.height * set.channels
  const format = set.channels === 1 ? 'gray' : 'rgb'
  const enc: EncodeOptions = 'quality' in setting ? { quality: setting.quality } : { tables: setting.tables }
  if (setting.optimizeHuffman) enc.optimizeHuffman = true
  if (setting.huffman) enc.huffman = setting.huffman
  const buf = new Uint8Array(Math.min(batch, set.count) * per)
  let bytes = 0
  let scan = 0
  let ok = 0
  for (let i = 0; i < set.count; i += batch) {
    const n = Math.min(batch, set.count - i)
    for (let j = 0; j < n; j++) {
      const jpg = encode({ width: set.width, height: set.height, format, data: image(set, i + j) }, enc)
      bytes += jpg.length
      scan += scanBytes(jpg)
      buf.set(decodeTo(jpg, set.channels, set.width, set.height), j * per)
      opts.onImage?.()
    }
    ok += await score(set, c, buf.subarray(0, n * per), i, n)
  }
  const px = set.count * set.width * set.height
  return {
    accuracy: ok / set.count,
    correct: ok,
    count: set.count,
    meanBytes: bytes / set.count,
    meanScanBytes: scan / set.count,
    bpp: (8 * bytes) / px,
    scanBpp: (8 * scan) / px,
  }
}
