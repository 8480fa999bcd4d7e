import * as jpeg from 'jpeg-js'
import type { RawImage } from '../../shared/codec/types'
import { ImageDecodeError } from './errors'

export interface DecodeLimits {
  /** Refuse images above this many megapixels (a corrupt or hostile header can claim huge sizes). Default 64. */
  maxResolutionInMP?: number
  /** Cap on jpeg-js's working memory. Default 512. */
  maxMemoryUsageInMB?: number
}
export const DEFAULT_MAX_MP = 64

/** Throws when width × height exceeds the limit, before any pixel memory is allocated. */
export function checkResolution(format: string, width: number, height: number, limits: DecodeLimits, nameHint?: string): void {
  const max = limits.maxResolutionInMP ?? DEFAULT_MAX_MP
  if (width * height > max * 1e6) {
    throw new ImageDecodeError(format, `${width}x${height} exceeds the ${max} megapixel limit (maxResolutionInMP)`, nameHint)
  }
}

/** SOFn markers (frame headers); C4, C8 and CC share the range but are DHT, JPG and DAC. */
const SOF_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf])

/** Number of components in the first SOF segment, or 0 when not found (jpeg-js reports the error then). */
function componentCount(bytes: Uint8Array): number {
  let pos = 2
  while (pos + 9 < bytes.length) {
    if (bytes[pos] !== 0xff) return 0
    const marker = bytes[pos + 1]
    if (marker === 0xff) { pos++; continue }
    const len = (bytes[pos + 2] << 8) | bytes[pos + 3]
    if (SOF_MARKERS.has(marker)) return bytes[pos + 9]
    if (marker === 0xda) return 0
    pos += 2 + len
  }
  return 0
}

/** JPEG via jpeg-js, strict: a truncated or corrupt stream is an error, not a grey-filled half image. */
export function decodeJpeg(bytes: Uint8Array, nameHint?: string, limits: DecodeLimits = {}): RawImage {
  let img: { width: number; height: number; data: Uint8Array }
  try {
    img = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      tolerantDecoding: false,
      maxResolutionInMP: limits.maxResolutionInMP ?? DEFAULT_MAX_MP,
      maxMemoryUsageInMB: limits.maxMemoryUsageInMB ?? 512,
    })
  } catch (err) {
    throw new ImageDecodeError('JPEG', `corrupt, truncated or too large: ${err instanceof Error ? err.message : String(err)}`, nameHint)
  }
  const { width, height, data } = img
  if (!width || !height) throw new ImageDecodeError('JPEG', 'no image data (missing frame header)', nameHint)
  if (componentCount(bytes) === 1) {
    // jpeg-js expands grey to RGB; keep one channel so the encoder writes a 1-component file again.
    const gray = new Uint8Array(width * height)
    for (let i = 0; i < gray.length; i++) gray[i] = data[i * 3]
    return { width, height, format: 'gray', data: gray }
  }
  return { width, height, format: 'rgb', data }
}
