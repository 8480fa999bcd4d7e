/**
 * JPEG → a model's NCHW float input: decode with jpeg-js, reduce to the model's channel count (1 = gray by
 * BT.601 luma, 3 = RGB planes), resize to its height×width by area averaging (no aliasing when a camera frame
 * shrinks to 28×28), scale to 0..1.
 */
import * as jpeg from 'jpeg-js'

export interface InputShape {
  channels: 1 | 3
  height: number
  width: number
}

export function jpegToNchw(jpegBytes: Uint8Array, shape: InputShape): Float32Array {
  // RGB (3 bytes per pixel) whatever the JPEG's component count: jpeg-js expands gray itself.
  const img = jpeg.decode(jpegBytes, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 1024 })
  const n = img.width * img.height
  const out = new Float32Array(shape.channels * shape.height * shape.width)
  const plane = shape.height * shape.width
  const src = new Float32Array(n)
  for (let c = 0; c < shape.channels; c++) {
    if (shape.channels === 1) {
      for (let p = 0, q = 0; p < n; p++, q += 3)
        src[p] = 0.299 * img.data[q] + 0.587 * img.data[q + 1] + 0.114 * img.data[q + 2]
    } else {
      for (let p = 0, q = c; p < n; p++, q += 3) src[p] = img.data[q]
    }
    const resized = resizeArea(src, img.width, img.height, shape.width, shape.height)
    for (let k = 0; k < plane; k++) out[c * plane + k] = resized[k] / 255
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
