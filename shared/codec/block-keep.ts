/**
 * Spatial coefficient selection: after quantization, every block of an MCU keeps only its first `keep`
 * coefficients in zig-zag order (1 = DC only .. 64 = all; 0 = none, a blank mid-grey block whose DC difference
 * and end-of-block cost a few bits), `keep` read from a coarse grid over the frame. Any
 * baseline decoder reads the result (a zero coefficient is always legal); it is the JPEG-compliant lever behind
 * region-of-interest and soft-decision coding: bytes go where the backend's model looks. The fused scan kernel
 * applies the counts in its block plan (scan-kernel.ts); applyBlockKeep is the reference path's. Pure.
 */
import type { FrameLayout } from './layout'
import type { BlockKeepMap } from './types'

/** Largest grid side accepted: a 16x16-pixel MCU grid of 4096x4096 frames; finer grids only cost memory. */
export const MAX_KEEP_GRID = 256

/** Throws a RangeError naming what is wrong with a keep map. */
export function validateBlockKeep(map: unknown, name = 'blockKeep'): asserts map is BlockKeepMap {
  if (map === null || typeof map !== 'object') throw new TypeError(`${name}: expected { cols, rows, keep }`)
  const { cols, rows, keep } = map as BlockKeepMap
  for (const [key, v] of [
    ['cols', cols],
    ['rows', rows],
  ] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_KEEP_GRID)
      throw new RangeError(`${name}.${key}: expected an integer 1..${MAX_KEEP_GRID}, got ${String(v)}`)
  }
  if (keep === null || typeof keep !== 'object' || typeof keep.length !== 'number')
    throw new TypeError(`${name}.keep: expected an array of ${cols * rows} counts (cols x rows, row-major)`)
  if (keep.length !== cols * rows)
    throw new RangeError(`${name}.keep: ${keep.length} entries, but a ${cols}x${rows} grid needs ${cols * rows}`)
  for (let i = 0; i < keep.length; i++) {
    const k = keep[i]
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k > 64)
      throw new RangeError(`${name}.keep[${i}]: expected an integer 0..64 (coefficients kept), got ${String(k)}`)
  }
}

/**
 * Coefficients kept per MCU (row-major over the MCU grid): the cell holding the MCU's centre pixel decides, so a
 * map made for one resolution applies to any other (it is a fraction of the frame, not of blocks).
 */
export function mcuKeepCounts(layout: FrameLayout, map: BlockKeepMap): Uint8Array {
  const out = new Uint8Array(layout.mcusPerRow * layout.mcuRows)
  const mw = layout.maxH * 8
  const mh = layout.maxV * 8
  for (let my = 0; my < layout.mcuRows; my++) {
    const cy = Math.min(
      map.rows - 1,
      Math.floor(((Math.min(my * mh + mh / 2, layout.height - 1) + 0.5) * map.rows) / layout.height),
    )
    for (let mx = 0; mx < layout.mcusPerRow; mx++) {
      const cx = Math.min(
        map.cols - 1,
        Math.floor(((Math.min(mx * mw + mw / 2, layout.width - 1) + 0.5) * map.cols) / layout.width),
      )
      out[my * layout.mcusPerRow + mx] = map.keep[cy * map.cols + cx]
    }
  }
  return out
}

/**
 * Zeroes, in one MCU row of quantized blocks (zig-zag order, MCU order as CoefficientMaker makes them), every
 * coefficient past its MCU's keep count (keep 0: the DC too), and lowers `last` (each block's last non-zero zig-zag index, an upper
 * bound the Huffman coder stops at) to match. No allocation.
 */
export function applyBlockKeep(
  coef: Int16Array,
  last: Int8Array,
  layout: FrameLayout,
  keepCounts: Uint8Array,
  mcuRow: number,
): void {
  const perMcu = layout.blocksInMcu
  const base = mcuRow * layout.mcusPerRow
  for (let mx = 0; mx < layout.mcusPerRow; mx++) {
    const keep = keepCounts[base + mx]
    if (keep >= 64) continue
    for (let b = mx * perMcu, end = b + perMcu; b < end; b++) {
      if (last[b] < keep) continue
      coef.fill(0, b * 64 + keep, b * 64 + 64)
      last[b] = keep - 1
    }
  }
}
