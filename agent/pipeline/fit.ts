/**
 * Encodes a frame within a byte limit: tries the configured tables, then coarser ones (×1.6 per step, at most
 * MAX_STEPS steps) until the JPEG fits. A frame that still does not fit is refused with OversizeError, so the
 * caller sets it aside instead of wedging the publish queue on it.
 *
 * A table's trained Huffman set (`ResolvedTables.huffman`) is passed to the encoder unless `optimizeHuffman` is
 * on: then per-frame optimal tables (fitted to each frame) win and the fixed set is not used.
 */
import type { EncodeOptions, RawImage, Subsampling } from '../../shared/codec/types'
import { scaled, type ResolvedTables } from './tables'

export type EncodeFn = (image: RawImage, options: EncodeOptions) => Uint8Array

export const COARSER = 1.6
export const MAX_STEPS = 6

export class OversizeError extends Error {
  override name = 'OversizeError'
}

export interface Fitted {
  jpeg: Uint8Array
  tableId: string
  encodeMs: number
  /** Re-encodes needed (0 = the configured tables fit). */
  steps: number
}

export function encodeToFit(opts: {
  encode: EncodeFn
  image: RawImage
  tables: ResolvedTables
  subsampling: Subsampling
  /** Per-frame optimal Huffman tables; when true the tables' trained set (if any) is not passed. */
  optimizeHuffman: boolean
  /** Largest acceptable JPEG in bytes; Infinity = no limit. */
  limit: number
}): Fitted {
  let t = opts.tables
  const start = performance.now()
  for (let step = 0; ; step++) {
    const options: EncodeOptions = { tables: t.tables, subsampling: opts.subsampling, optimizeHuffman: opts.optimizeHuffman }
    if (t.huffman && !opts.optimizeHuffman) options.huffman = t.huffman
    const jpeg = opts.encode(opts.image, options)
    if (jpeg.length <= opts.limit) return { jpeg, tableId: t.tableId, encodeMs: performance.now() - start, steps: step }
    if (step >= MAX_STEPS) {
      throw new OversizeError(`frame ${opts.image.width}x${opts.image.height} is ${jpeg.length} B even with tables ${t.tableId}; the limit is ${opts.limit} B`)
    }
    t = scaled(t, COARSER)
  }
}
