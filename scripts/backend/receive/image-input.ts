/**
 * JPEG → a model's NCHW float input: decode (libjpeg-turbo through sharp, in libuv's threadpool; jpeg-js where sharp
 * is not installed), reduce to the model's channel count (1 = gray by BT.601 luma, 3 = RGB planes), resize to its
 * height×width by area averaging (no aliasing when a camera frame shrinks to 28×28), scale to 0..1.
 */
import * as jpeg from 'jpeg-js'
import type Sharp from 'sharp'
import { MissingPackageError, loadBackendPackage } from '../../common/backend-package'
import { checkJpegStructure } from './jpeg-structure'

export interface InputShape {
  channels: 1 | 3
  height: number
  width: number
}

/** Decoded pixels, 3 bytes (R, G, B) per pixel whatever the JPEG's component count. */
export interface RgbImage {
  width: number
  height: number
  data: Uint8Array
}

export type JpegDecoder = 'sharp' | 'jpeg-js'

let sharpModule: typeof Sharp | null | undefined

/** sharp when installed (an optional backend package), else undefined: the caller falls back to jpeg-js. */
function loadSharp(): typeof Sharp | undefined {
  if (sharpModule === undefined) {
    try {
      sharpModule = loadBackendPackage<typeof Sharp>('sharp', 'decoding frames with libjpeg-turbo')
      sharpModule.cache(false) // every frame is decoded once: libvips's operation cache would only hold memory
    } catch (err) {
      if (!(err instanceof MissingPackageError)) throw err
      sharpModule = null
    }
  }
  return sharpModule ?? undefined
}

/** The decoder `decodeRgb` uses by default: libjpeg-turbo through sharp when installed, else jpeg-js. */
export function defaultDecoder(): JpegDecoder {
  return loadSharp() ? 'sharp' : 'jpeg-js'
}

/**
 * Decodes to RGB; jpeg-js throws on what it cannot decode, sharp on errors, and with `strict` also on libjpeg's
 * warnings (corrupt data, premature end) — strict doubles sharp's cost here, so only `--decode` asks for it.
 *
 * `atLeast`: the caller only needs this many pixels each way (it area-averages down further). sharp then decodes
 * at 1/2, 1/4 or 1/8 scale in the DCT domain (libjpeg's shrink-on-load: a 640x480 frame for a 28x28 model decodes
 * at 160x120, several times cheaper), keeping at least 4 source pixels per output pixel so the area average that
 * follows sees the same picture. jpeg-js always decodes in full.
 */
export async function decodeRgb(
  jpegBytes: Uint8Array,
  decoder: JpegDecoder = defaultDecoder(),
  atLeast?: { width: number; height: number },
  strict = false,
): Promise<RgbImage> {
  const sharp = decoder === 'sharp' ? loadSharp() : undefined
  if (decoder === 'sharp' && !sharp) throw new MissingPackageError('sharp', 'decoding frames with libjpeg-turbo')
  if (!sharp) {
    const img = jpeg.decode(jpegBytes, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 1024 })
    return { width: img.width, height: img.height, data: img.data }
  }
  let img = sharp(jpegBytes, { failOn: strict ? 'warning' : 'error' })
  if (atLeast) {
    const { width, height } = checkJpegStructure(jpegBytes)
    const scale = [8, 4, 2].find((s) => width / s >= 4 * atLeast.width && height / s >= 4 * atLeast.height)
    if (scale)
      img = img.resize(Math.ceil(width / scale), Math.ceil(height / scale), { fit: 'fill', fastShrinkOnLoad: true })
  }
  const { data, info } = await img.toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true })
  if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, RGB expected`)
  return { width: info.width, height: info.height, data }
}

/** `--decode`: throws "JPEG does not decode: …" naming the decoder's reason. */
export async function checkDecodes(jpegBytes: Uint8Array): Promise<void> {
  try {
    await decodeRgb(jpegBytes, defaultDecoder(), undefined, true)
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err))
      .replace(/^Input buffer has corrupt header: /, '')
      .split('\n')[0]
    throw new Error(`JPEG does not decode: ${reason.replace(/^VipsJpeg: /, '')}`)
  }
}

export async function jpegToNchw(
  jpegBytes: Uint8Array,
  shape: InputShape,
  decoder?: JpegDecoder,
): Promise<Float32Array> {
  return rgbToNchw(await decodeRgb(jpegBytes, decoder, shape), shape)
}

/**
 * Area average and the channel mix are both linear, so the RGB image is shrunk first (rows, straight from the
 * decoded bytes, then columns) and gray taken from the small result: one pass over the big image, no full-size
 * float copies. Same values as mixing first and resizing each plane with `resizeArea`, up to float rounding.
 */
export function rgbToNchw(img: RgbImage, shape: InputShape): Float32Array {
  const { width: sw, height: sh, data } = img
  const { width: dw, height: dh } = shape
  const xs = spans(sw, dw)
  const ys = spans(sh, dh)
  const rowLen = sw * 3
  const rows = new Float32Array(dh * rowLen) // dh rows of the full width
  for (let d = 0; d < dh; d++) {
    let wsum = 0
    const acc = d * rowLen
    for (let k = ys.start[d]; k < ys.start[d + 1]; k++) {
      const w = ys.weight[k]
      const src = ys.index[k] * rowLen
      wsum += w
      for (let i = 0; i < rowLen; i++) rows[acc + i] += w * data[src + i]
    }
    for (let i = 0; i < rowLen; i++) rows[acc + i] /= wsum
  }
  const plane = dh * dw
  const out = new Float32Array(shape.channels * plane)
  for (let y = 0; y < dh; y++) {
    for (let x = 0; x < dw; x++) {
      let r = 0
      let g = 0
      let b = 0
      let wsum = 0
      for (let k = xs.start[x]; k < xs.start[x + 1]; k++) {
        const w = xs.weight[k]
        const i = y * rowLen + xs.index[k] * 3
        r += w * rows[i]
        g += w * rows[i + 1]
        b += w * rows[i + 2]
        wsum += w
      }
      const p = y * dw + x
      if (shape.channels === 1) {
        out[p] = (0.299 * r + 0.587 * g + 0.114 * b) / wsum / 255
      } else {
        out[p] = r / wsum / 255
        out[plane + p] = g / wsum / 255
        out[2 * plane + p] = b / wsum / 255
      }
    }
  }
  return out
}

/**
 * Area-average resampling (each output pixel = mean of the input area it covers, fractional edges weighted),
 * done separably: rows first, then columns. Upscaling degenerates to nearest neighbour.
 */
export function resizeArea(src: Float32Array, sw: number, sh: number, dw: number, dh: number): Float32Array {
  if (sw === dw && sh === dh) return Float32Array.from(src)
  const xs = spans(sw, dw)
  const ys = spans(sh, dh)
  const rows = new Float32Array(sh * dw)
  for (let y = 0; y < sh; y++) applySpans(src, y * sw, 1, xs, rows, y * dw, 1)
  const out = new Float32Array(dw * dh)
  for (let x = 0; x < dw; x++) applySpans(rows, x, dw, ys, out, x, dw)
  return out
}

interface Spans {
  /** For output d, taps are start[d] .. start[d+1]-1 in `index`/`weight`. */
  start: Int32Array
  index: Int32Array
  weight: Float32Array
}

function applySpans(
  src: Float32Array,
  srcOff: number,
  srcStep: number,
  s: Spans,
  dst: Float32Array,
  dstOff: number,
  dstStep: number,
): void {
  for (let d = 0; d + 1 < s.start.length; d++) {
    let sum = 0
    let wsum = 0
    for (let k = s.start[d]; k < s.start[d + 1]; k++) {
      sum += src[srcOff + s.index[k] * srcStep] * s.weight[k]
      wsum += s.weight[k]
    }
    dst[dstOff + d * dstStep] = sum / wsum
  }
}

function spans(src: number, dst: number): Spans {
  const scale = src / dst
  const start = [0]
  const index: number[] = []
  const weight: number[] = []
  for (let d = 0; d < dst; d++) {
    const a = d * scale
    const b = Math.max((d + 1) * scale, a + 1e-9)
    const before = index.length
    for (let s = Math.floor(a); s < Math.min(Math.ceil(b), src); s++) {
      const w = Math.min(b, s + 1) - Math.max(a, s)
      if (w > 0) {
        index.push(s)
        weight.push(w)
      }
    }
    if (index.length === before) {
      index.push(Math.min(src - 1, Math.floor(a)))
      weight.push(1)
    }
    start.push(index.length)
  }
  return { start: Int32Array.from(start), index: Int32Array.from(index), weight: Float32Array.from(weight) }
}
