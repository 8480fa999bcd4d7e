/**
 * A whole frame's quantized blocks, for two-pass entropy coding (optimal Huffman tables, progressive scans): every
 * block must be made before the first code is written. Each block is kept only up to its last non-zero
 * coefficient in zig-zag order, one after another, since nothing past it is ever read: at the tables a camera
 * sends with, most blocks hold a few coefficients, so a 1080p 4:2:0 frame takes a fraction of the 6 MB that 64
 * coefficients per block would. Pure (the buffers are kept from one frame to the next, see below).
 */

/**
 * Blocks in MCU order (dummy blocks included), block b's zig-zag coefficient k at `coef[start[b] + k]` for
 * k <= last[b]; every coefficient past `last[b]` is zero (it is an upper bound: a keep map may set it above the
 * true last one). The DC coefficient is always there, whatever `last[b]`.
 */
export interface Blocks {
  coef: Int16Array
  last: Int8Array
  start: Uint32Array
}

/** One MCU row of quantized blocks at a time, 64 zig-zag coefficients each (encoder.ts's CoefficientMaker). */
export interface RowMaker {
  row(row: number): Int16Array
  /** Per block of the last row(): zig-zag index of its last non-zero coefficient, or an upper bound on it. */
  readonly last: Int8Array
}

/**
 * Kept from one frame to the next: fresh buffers pay their page faults again on every frame (4-5 ms of a 1080p
 * progressive encode when all 64 coefficients were written). Sized for every coefficient, but only the packed
 * prefix a frame writes is ever touched, and untouched pages of a large zeroed allocation are never resident.
 * Frames over KEEP_BLOCKS get buffers of their own.
 */
let kept: Blocks | undefined
const KEEP_BLOCKS = 1 << 18 // 4K 4:2:0

/**
 * Every MCU row of `maker`, packed. The returned arrays are reused by the next call: callers finish with them
 * before they return.
 */
export function frameBlocks(maker: RowMaker, blocksPerRow: number, mcuRows: number): Blocks {
  const blocks = blocksPerRow * mcuRows
  let buf = kept
  if (!buf || buf.last.length < blocks) {
    buf = { coef: new Int16Array(blocks * 64), last: new Int8Array(blocks), start: new Uint32Array(blocks) }
    if (blocks <= KEEP_BLOCKS) kept = buf
  }
  const { coef, last, start } = buf
  let pos = 0
  for (let row = 0, b = 0; row < mcuRows; row++) {
    const src = maker.row(row)
    const rowLast = maker.last
    for (let i = 0; i < blocksPerRow; i++, b++) {
      const l = rowLast[i]
      const n = l < 1 ? 1 : l + 1
      start[b] = pos
      last[b] = l
      for (let k = 0, s = i * 64; k < n; k++) coef[pos + k] = src[s + k]
      pos += n
    }
  }
  return { coef, last: last.subarray(0, blocks), start: start.subarray(0, blocks) }
}

/** Blocks of 64 coefficients each, as CoefficientMaker makes one row of them: `start` is b * 64. */
export function unpackedBlocks(coef: Int16Array, last: Int8Array): Blocks {
  const start = new Uint32Array(last.length)
  for (let b = 0; b < start.length; b++) start[b] = b * 64
  return { coef, last, start }
}
