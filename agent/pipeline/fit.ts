/**
 * Fitting a frame under the payload limit, the one place it happens: `encodeToFit` at capture (before the frame is
 * stored), `refit` for a frame stored before a lower limit was known (the broker's CONNACK, a remote
 * `mqtt.maxPayloadBytes`). Both try the configured tables, then coarser ones (×1.6 per step, at most MAX_STEPS
 * steps) until the JPEG fits. A frame that still does not fit is refused with OversizeError, so the caller sets it
 * aside instead of wedging the publish queue on it. Each fitted JPEG comes with its quantDigest, computed here once.
 *
 * A table's trained Huffman set (`ResolvedTables.huffman`) is passed to the encoder unless `optimizeHuffman` or
 * `progressive` is on: then per-frame optimal tables (fitted to each frame, per scan when progressive) win and the
 * fixed set is not used.
 *
 * A keep map (`encoder.keepMap`, blockKeep) stays on through every step: coarser tables shrink a frame on top of
 * it, never instead of it, and the frame says which map it carries.
 */
import { quantDigest } from '../../shared/codec/quant-digest'
import type { BlockKeepMap, EncodeOptions, RawImage, Subsampling } from '../../shared/codec/types'
import type { AgentConfig } from '../../shared/config'
import { toBlockKeep } from '../../shared/spatial/keep-map'
import { resolveTables, scaled, type ResolvedTables } from './tables'

export type EncodeFn = (image: RawImage, options: EncodeOptions) => Uint8Array

export const COARSER = 1.6
export const MAX_STEPS = 6

/**
 * Bytes kept free below the payload limit (`mqtt.maxPayloadBytes`, or the broker's CONNACK maximum packet size)
 * for what goes out with the encoded JPEG: the DEEPN metadata segment and the PUBLISH packet's own header (fixed
 * header, topic, packet id, properties repeating the metadata as user properties). For the largest the schema
 * allows (prefix 128, device id 64, table id 64 plus its `*<scale>`, keep map id 64, a 6-digit year) that is
 * 382 + 591 = 973 B, measured by test/agent/payload-margin.test.ts on the packet mqtt-packet writes; 1024
 * leaves room for a short field more. Replaces three guesses (384 for the stamp at capture, 512 at refit, 1024
 * for the packet).
 */
export const PAYLOAD_MARGIN = 1024

export class OversizeError extends Error {
  override name = 'OversizeError'
}

export interface Fitted {
  jpeg: Uint8Array
  tableId: string
  /** quantDigest of `jpeg` (shared/codec/quant-digest.ts), stored with the frame so publishing never re-parses it. */
  quantDigest: string
  /** Id of the keep map the JPEG was encoded with, when one was. */
  keepMapId?: string
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
  /** Progressive (SOF2) scans, each with its own optimal tables; absent = baseline. */
  progressive?: boolean
  /** Largest acceptable JPEG in bytes; Infinity = no limit. */
  limit: number
  /**
   * The keep map's id and its coefficients kept per region, applied at every step.
   */
  keep?: { id: string; blockKeep: BlockKeepMap }
}): Fitted {
  let t = opts.tables
  const start = performance.now()
  for (let step = 0; ; step++) {
    const options: EncodeOptions = {
      tables: t.tables,
      subsampling: opts.subsampling,
      optimizeHuffman: opts.optimizeHuffman,
    }
    if (opts.progressive) options.progressive = true
    if (t.huffman && !opts.optimizeHuffman && !opts.progressive) options.huffman = t.huffman
    if (opts.keep) options.blockKeep = opts.keep.blockKeep
    const jpeg = opts.encode(opts.image, options)
    if (jpeg.length <= opts.limit) {
      const fitted: Fitted = {
        jpeg,
        tableId: t.tableId,
        quantDigest: quantDigest(jpeg),
        encodeMs: performance.now() - start,
        steps: step,
      }
      if (opts.keep) fitted.keepMapId = opts.keep.id
      return fitted
    }
    if (step >= MAX_STEPS) {
      throw new OversizeError(
        `frame ${opts.image.width}x${opts.image.height} is ${jpeg.length} B even with tables ${t.tableId}; the limit is ${opts.limit} B`,
      )
    }
    t = scaled(t, COARSER)
  }
}

/**
 * A stored frame that is over `limit` now: decoded with the agent's own decoder (a grey frame stays one component)
 * and encoded again under `limit` with the current tables and keep map, coarser as needed. Where something moved
 * when the frame was captured is not known any more, so the map applies without motion raising cells: a moving
 * object in a low-keep cell loses detail, which is the price of fitting a frame stored under a higher limit. Throws
 * OversizeError when it cannot fit, ImageDecodeError when the stored JPEG is damaged.
 */
export function refit(
  jpeg: Uint8Array,
  opts: { encode: EncodeFn; encoder: AgentConfig['encoder']; limit: number },
): Fitted {
  // Required here, not imported: only a frame stored under a higher limit needs the decoder (and jpeg-js), so it
  // stays out of the agent's baseline RSS.
  const { decodeJpeg } = require('../image-files/jpeg') as typeof import('../image-files/jpeg')
  const image = decodeJpeg(jpeg, 'stored frame')
  const enc = opts.encoder
  return encodeToFit({
    encode: opts.encode,
    image,
    tables: resolveTables(enc),
    subsampling: enc.subsampling,
    optimizeHuffman: enc.optimizeHuffman,
    progressive: enc.progressive,
    limit: opts.limit,
    keep: enc.keepMap ? { id: enc.keepMap.id, blockKeep: toBlockKeep(enc.keepMap, null, 0) } : undefined,
  })
}
