import * as jpeg from 'jpeg-js'
import { forEachHeaderSegment, isSofMarker } from '../../shared/codec/segments'
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

/** Number of components in the first SOF segment, or 0 when the header cannot be walked (jpeg-js judged it first). */
function componentCount(bytes: Uint8Array): number {
  let count = 0
  try {
    forEachHeaderSegment(bytes, (marker, start) => {
      if (!isSofMarker(marker)) return false
      count = bytes[start + 5]
      return true
    })
  } catch {
    // the file decoded, so keep it as RGB rather than fail on a header quirk
  }
  return count
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
