/**
 * Preprocessing like libjpeg's jcprepct.c: turns a RawImage into per-iMCU-row strips of component samples,
 * colour-converted (jccolor), downsampled (jcsample) and edge-replicated to whole blocks, in buffers allocated
 * once per encode. Strip c holds `stripHeight` rows of `stripWidth` samples for component c. Pure.
 */
import { rgbToYcc420Pair, rgbToYccRow } from './color'
import type { FrameLayout } from './layout'
import type { CodecKernels } from './wasm/kernels'
import { expandBottom, expandRight } from './sample'
import type { RawImage } from './types'

export interface StripFiller {
  /** One buffer per component, reused for every strip. */
  readonly strips: Uint8Array[]
  /** Fills the strips for iMCU row `row` (0-based). */
  fill(row: number): void
}

/**
 * Where the SIMD colour kernels may work: `strips` are the byte addresses of the strip buffers in kernel memory
 * (each followed by 16 bytes of slack) and `src` an area for one strip of source rows plus 64 bytes.
 */
export interface KernelStrips {
  kernels: CodecKernels
  memory: Uint8Array
  strips: number[]
  src: number
}

/**
 * `buffers` optionally supplies the strip buffers (views into kernel memory), one per component, sized as laid
 * out; with `accel`, interleaved RGB and RGBA input is converted by the WebAssembly kernels (same bytes).
 */
export function createStripFiller(
  image: RawImage,
  layout: FrameLayout,
  buffers?: Uint8Array[],
  accel?: KernelStrips,
): StripFiller {
  const strips = buffers ?? layout.components.map((c) => new Uint8Array(c.stripWidth * c.stripHeight))
  switch (image.format) {
    case 'gray':
      return { strips, fill: (row) => fillGray(image, layout, strips, row) }
    case 'yuv420p':
      return { strips, fill: (row) => fillYuv420p(image, layout, strips, row) }
    case 'rgb':
    case 'rgba': {
      const stride = image.format === 'rgb' ? 3 : 4
      const k = accel
      if (layout.maxV === 1) {
        if (k) return { strips, fill: (row) => fillRgb444Kernel(image, stride, layout, strips, k, row) }
        return { strips, fill: (row) => fillRgb444(image, stride, layout, strips, row) }
      }
      return { strips, fill: (row) => fillRgb420(image, stride, layout, strips, row, k) }
    }
    default:
      throw new Error(`unknown pixel format '${String((image as RawImage).format)}'`)
  }
}

/** Copies plane rows (stride `srcW`, `srcH` rows) for one strip, replicating the right and bottom edges. */
function copyPlaneStrip(
  src: Uint8Array,
  srcOff: number,
  srcW: number,
  srcH: number,
  out: Uint8Array,
  outW: number,
  outH: number,
  row0: number,
): void {
  let r = 0
  if (srcW === outW) {
    // No right edge to replicate: the strip's rows are contiguous in the plane, one copy.
    r = Math.min(outH, srcH - row0)
    const s = srcOff + row0 * srcW
    out.set(src.subarray(s, s + r * srcW))
  }
  for (; r < outH && row0 + r < srcH; r++) {
    const s = srcOff + (row0 + r) * srcW
    out.set(src.subarray(s, s + srcW), r * outW)
    expandRight(out, r * outW, srcW, outW)
  }
  expandBottom(out, outW, outW, r - 1, outH)
}

function fillGray(image: RawImage, layout: FrameLayout, strips: Uint8Array[], row: number): void {
  const c = layout.components[0]
  copyPlaneStrip(image.data, 0, image.width, image.height, strips[0], c.stripWidth, c.stripHeight, row * c.stripHeight)
}

function fillYuv420p(image: RawImage, layout: FrameLayout, strips: Uint8Array[], row: number): void {
  const { width: w, height: h } = image
  const cw = (w + 1) >> 1,
    ch = (h + 1) >> 1
  const [y, u, v] = layout.components
  copyPlaneStrip(image.data, 0, w, h, strips[0], y.stripWidth, y.stripHeight, row * y.stripHeight)
  copyPlaneStrip(image.data, w * h, cw, ch, strips[1], u.stripWidth, u.stripHeight, row * u.stripHeight)
  copyPlaneStrip(image.data, w * h + cw * ch, cw, ch, strips[2], v.stripWidth, v.stripHeight, row * v.stripHeight)
}

function fillRgb444(image: RawImage, stride: number, layout: FrameLayout, strips: Uint8Array[], row: number): void {
  const { width: w, height: h, data } = image
  const gray = strips.length === 1
  const sw = layout.components[0].stripWidth
  const [ys, cbs, crs] = strips
  let r = 0
  for (; r < 8 && row * 8 + r < h; r++) {
    const o = r * sw
    rgbToYccRow(data, (row * 8 + r) * w * stride, stride, w, ys, o, gray ? null : cbs, gray ? null : crs, o)
    for (const s of strips) expandRight(s, o, w, sw)
  }
  for (const s of strips) expandBottom(s, sw, sw, r - 1, 8)
}

/** fillRgb444 with the SIMD kernel: source rows copied into kernel memory, converted 16 pixels at a time. */
function fillRgb444Kernel(
  image: RawImage,
  stride: number,
  layout: FrameLayout,
  strips: Uint8Array[],
  k: KernelStrips,
  row: number,
): void {
  const { width: w, height: h, data } = image
  const sw = layout.components[0].stripWidth
  const rowBytes = w * stride
  const convert = stride === 3 ? k.kernels.rgb444 : k.kernels.rgba444
  const last = Math.min(h, row * 8 + 8)
  k.memory.set(data.subarray(row * 8 * rowBytes, last * rowBytes), k.src)
  const groups = (w + 15) >> 4
  const [sy, scb, scr] = k.strips
  let r = 0
  for (; row * 8 + r < h && r < 8; r++) {
    const o = r * sw
    convert(k.src + r * rowBytes, sy + o, scb + o, scr + o, groups)
    for (const s of strips) expandRight(s, o, w, sw)
  }
  for (const s of strips) expandBottom(s, sw, sw, r - 1, 8)
}

/**
 * 2x2 subsampling, following jcprepct's order of operations exactly: a missing second row of a pair is a copy
 * of the first (conversion buffer padding), pairs wholly below the image replicate the last output row
 * (iMCU padding), and the downsampler averages pixels replicated past the right edge (rgbToYcc420Pair).
 */
function fillRgb420(
  image: RawImage,
  stride: number,
  layout: FrameLayout,
  strips: Uint8Array[],
  row: number,
  k?: KernelStrips,
): void {
  const { width: w, height: h, data } = image
  const yw = layout.components[0].stripWidth
  const cw = layout.components[1].stripWidth
  const [ys, cbs, crs] = strips
  // The kernel takes whole groups of 16 chroma columns whose pixels are all inside the image.
  const groups = k ? (w >> 1) >> 4 : 0
  const rowBytes = w * stride
  const convert = k && (stride === 3 ? k.kernels.rgb420 : k.kernels.rgba420)
  if (groups > 0) {
    const first = row * 16
    const last = Math.min(h, first + 16)
    k!.memory.set(data.subarray(first * rowBytes, last * rowBytes), k!.src)
  }
  let p = 0
  for (; p < 8; p++) {
    const ya = row * 16 + p * 2
    if (ya >= h) break
    const yb = ya + 1 < h ? ya + 1 : ya
    if (groups > 0) {
      const [sy, scb, scr] = k!.strips
      const base = k!.src - row * 16 * rowBytes
      convert!(
        base + ya * rowBytes,
        base + yb * rowBytes,
        sy + p * 2 * yw,
        sy + (p * 2 + 1) * yw,
        scb + p * cw,
        scr + p * cw,
        groups,
      )
    }
    rgbToYcc420Pair(
      data,
      stride,
      w,
      ya * w * stride,
      yb * w * stride,
      ys,
      p * 2 * yw,
      (p * 2 + 1) * yw,
      yw,
      cbs,
      crs,
      p * cw,
      cw,
      groups * 16,
    )
  }
  expandBottom(ys, yw, yw, p * 2 - 1, 16)
  expandBottom(cbs, cw, cw, p - 1, 8)
  expandBottom(crs, cw, cw, p - 1, 8)
}
