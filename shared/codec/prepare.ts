/**
 * Preprocessing like libjpeg's jcprepct.c: turns a RawImage into per-iMCU-row strips of component samples,
 * colour-converted (jccolor), downsampled (jcsample) and edge-replicated to whole blocks, in buffers allocated
 * once per encode. Strip c holds `stripHeight` rows of `stripWidth` samples for component c. Pure.
 */
import { rgbToYccRow } from './color'
import type { FrameLayout } from './layout'
import { expandBottom, expandRight, h2v2Row } from './sample'
import type { RawImage } from './types'

export interface StripFiller {
  /** One buffer per component, reused for every strip. */
  readonly strips: Uint8Array[]
  /** Fills the strips for iMCU row `row` (0-based). */
  fill(row: number): void
}

export function createStripFiller(image: RawImage, layout: FrameLayout): StripFiller {
  const strips = layout.components.map((c) => new Uint8Array(c.stripWidth * c.stripHeight))
  switch (image.format) {
    case 'gray': return { strips, fill: (row) => fillGray(image, layout, strips, row) }
    case 'yuv420p': return { strips, fill: (row) => fillYuv420p(image, layout, strips, row) }
    case 'rgb':
    case 'rgba': {
      const stride = image.format === 'rgb' ? 3 : 4
      if (layout.maxV === 1) return { strips, fill: (row) => fillRgb444(image, stride, layout, strips, row) }
      // Full-resolution Cb/Cr rows of one pixel-row pair, widened for the downsampler's right-edge expansion.
      const wide = layout.components[1].stripWidth * 2
      const tmp = [new Uint8Array(wide * 2), new Uint8Array(wide * 2)]
      return { strips, fill: (row) => fillRgb420(image, stride, layout, strips, tmp, wide, row) }
    }
    default:
      throw new Error(`unknown pixel format '${String((image as RawImage).format)}'`)
  }
}

/** Copies plane rows (stride `srcW`, `srcH` rows) for one strip, replicating the right and bottom edges. */
function copyPlaneStrip(src: Uint8Array, srcOff: number, srcW: number, srcH: number, out: Uint8Array, outW: number, outH: number, row0: number): void {
  let r = 0
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
  const cw = (w + 1) >> 1, ch = (h + 1) >> 1
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

/**
 * 2x2 subsampling, following jcprepct's order of operations exactly: a missing second row of a pair is a copy
 * of the first (conversion buffer padding), pairs wholly below the image replicate the last output row
 * (iMCU padding), and the downsampler averages pixels replicated to twice the chroma strip width.
 */
function fillRgb420(image: RawImage, stride: number, layout: FrameLayout, strips: Uint8Array[], tmp: Uint8Array[], wide: number, row: number): void {
  const { width: w, height: h, data } = image
  const yw = layout.components[0].stripWidth
  const cw = layout.components[1].stripWidth
  const [ys, cbs, crs] = strips
  const [tcb, tcr] = tmp
  let p = 0
  for (; p < 8; p++) {
    const ya = row * 16 + p * 2
    if (ya >= h) break
    const oa = p * 2 * yw, ob = oa + yw
    convertPair(data, ya, w, h, stride, ys, oa, ob, yw, tcb, tcr, wide)
    h2v2Row(tcb, 0, tcb, wide, cbs, p * cw, cw)
    h2v2Row(tcr, 0, tcr, wide, crs, p * cw, cw)
  }
  expandBottom(ys, yw, yw, p * 2 - 1, 16)
  expandBottom(cbs, cw, cw, p - 1, 8)
  expandBottom(crs, cw, cw, p - 1, 8)
}

/** Converts pixel rows ya and ya+1 (or a copy of ya at the bottom edge) into Y strip rows and wide Cb/Cr rows. */
function convertPair(data: Uint8Array, ya: number, w: number, h: number, stride: number, ys: Uint8Array, oa: number, ob: number, yw: number, tcb: Uint8Array, tcr: Uint8Array, wide: number): void {
  rgbToYccRow(data, ya * w * stride, stride, w, ys, oa, tcb, tcr, 0)
  expandRight(ys, oa, w, yw)
  expandRight(tcb, 0, w, wide)
  expandRight(tcr, 0, w, wide)
  if (ya + 1 < h) {
    rgbToYccRow(data, (ya + 1) * w * stride, stride, w, ys, ob, tcb, tcr, wide)
    expandRight(ys, ob, w, yw)
    expandRight(tcb, wide, w, 2 * wide)
    expandRight(tcr, wide, w, 2 * wide)
  } else {
    ys.copyWithin(ob, oa, oa + yw)
    tcb.copyWithin(wide, 0, wide)
    tcr.copyWithin(wide, 0, wide)
  }
}
