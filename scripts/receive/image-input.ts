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
  const img = jpeg.decode(jpegBytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 })
  const out = new Float32Array(shape.channels * shape.height * shape.width)
  const plane = shape.height * shape.width
  const planes: Float32Array[] = []
  if (shape.channels === 1) {
    const gray = new Float32Array(img.width * img.height)
    for (let p = 0, q = 0; p < gray.length; p++, q += 4) gray[p] = 0.299 * img.data[q] + 0.587 * img.data[q + 1] + 0.114 * img.data[q + 2]
    planes.push(gray)
  } else {
    for (let c = 0; c < 3; c++) {
      const ch = new Float32Array(img.width * img.height)
      for (let p = 0, q = c; p < ch.length; p++, q += 4) ch[p] = img.data[q]
      planes.push(ch)
    }
  }
  planes.forEach((src, c) => {
    const resized = resizeArea(src, img.width, img.height, shape.width, shape.height)
    for (let k = 0; k < plane; k++) out[c * plane + k] = resized[k] / 255
  })
  return out
}

/** Area-average resampling (each output pixel = mean of the input area it covers, with fractional edges). */
export function resizeArea(src: Float32Array, sw: number, sh: number, dw: number, dh: number): Float32Array {
  if (sw === dw && sh === dh) return src
  const xs = spans(sw, dw)
  const ys = spans(sh, dh)
  const out = new Float32Array(dw * dh)
  for (let y = 0; y < dh; y++) {
    for (let x = 0; x < dw; x++) {
      let sum = 0
      let weight = 0
      for (const [sy, wy] of ys[y]) {
        for (const [sx, wx] of xs[x]) {
          const w = wx * wy
          sum += src[sy * sw + sx] * w
          weight += w
        }
      }
      out[y * dw + x] = sum / weight
    }
  }
  return out
}

/** For each output index, the source indices it covers with their overlap weights. Upscaling covers one pixel. */
function spans(src: number, dst: number): Array<Array<[number, number]>> {
  const scale = src / dst
  const res: Array<Array<[number, number]>> = []
  for (let d = 0; d < dst; d++) {
    const a = d * scale
    const b = Math.max((d + 1) * scale, a + 1e-9)
    const list: Array<[number, number]> = []
    for (let s = Math.floor(a); s < Math.min(Math.ceil(b), src); s++) {
      const w = Math.min(b, s + 1) - Math.max(a, s)
      if (w > 0) list.push([s, w])
    }
    if (list.length === 0) list.push([Math.min(src - 1, Math.floor(a)), 1])
    res.push(list)
  }
  return res
}
