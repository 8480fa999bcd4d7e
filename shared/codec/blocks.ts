/**
 * DCT statistics hook for table building: visits every 8x8 block of every component after exactly the
 * encoder's colour conversion, downsampling, edge padding and level shift, transformed by the encoder's islow
 * forward DCT. Only real blocks are visited (not the dummy blocks that pad 4:2:0 MCUs). Order: iMCU row by
 * iMCU row; within one, component 0 (Y) blocks row-major, then Cb, then Cr. Pure.
 */
import { islowColumns, islowRows } from './fdct-islow'
import { frameLayout } from './layout'
import { createStripFiller } from './prepare'
import type { RawImage, Subsampling } from './types'
import { validateImage, validateSubsampling } from './validate'

/** Calls `visit(component, block)` with the islow output (8x the orthonormal DCT), natural order. */
function forEachRawBlock(
  image: RawImage,
  subsampling: Subsampling,
  visit: (component: number, ws: Int32Array) => void,
): void {
  validateImage(image)
  if (image.format !== 'gray' && image.format !== 'yuv420p') validateSubsampling(subsampling)
  const layout = frameLayout(image.width, image.height, image.format, subsampling)
  const filler = createStripFiller(image, layout)
  const ws = new Int32Array(64)
  for (let row = 0; row < layout.mcuRows; row++) {
    filler.fill(row)
    layout.components.forEach((c, ci) => {
      const strip = filler.strips[ci]
      const blockRows = Math.min(c.v, c.heightInBlocks - row * c.v)
      for (let br = 0; br < blockRows; br++) {
        for (let bx = 0; bx < c.widthInBlocks; bx++) {
          islowRows(strip, br * 8 * c.stripWidth + bx * 8, c.stripWidth, ws)
          islowColumns(ws)
          visit(ci, ws)
        }
      }
    })
  }
}

/**
 * Integer variant: `coef` (natural order, reused between calls: copy it to keep it) is the islow output
 * divided by 8 and rounded half away from zero, i.e. orthonormal-DCT units as integers.
 */
export function forEachDctBlock(
  image: RawImage,
  subsampling: Subsampling,
  visit: (component: number, coef: Int32Array) => void,
): void {
  const coef = new Int32Array(64)
  forEachRawBlock(image, subsampling, (ci, ws) => {
    for (let i = 0; i < 64; i++) {
      const x = ws[i]
      coef[i] = x < 0 ? -((4 - x) >> 3) : (x + 4) >> 3
    }
    visit(ci, coef)
  })
}

/** Exact variant: `coef` (natural order, reused) = islow output / 8 as floats (multiples of 1/8). */
export function forEachDctBlockFloat(
  image: RawImage,
  subsampling: Subsampling,
  visit: (component: number, coef: Float64Array) => void,
): void {
  const coef = new Float64Array(64)
  forEachRawBlock(image, subsampling, (ci, ws) => {
    for (let i = 0; i < 64; i++) coef[i] = ws[i] / 8
    visit(ci, coef)
  })
}
