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
export function checkResolution(
  format: string,
  width: number,
  height: number,
  limits: DecodeLimits,
  nameHint?: string,
): void {
  const max = limits.maxResolutionInMP ?? DEFAULT_MAX_MP
  if (width * height > max * 1e6) {
    throw new ImageDecodeError(
      format,
      `${width}x${height} is ${((width * height) / 1e6).toFixed(0)} megapixels, above the ${max} megapixel limit for input images`,
      nameHint,
    )
  }
}

interface FrameHeader {
  width: number
  height: number
  components: number
}

/**
 * The first SOF segment's size and component count, checked before jpeg-js sees the file, so problems are told in
 * the file's terms ("declares a 0x0 image", "ends before the frame header") rather than the decoder's.
 */
function frameHeader(bytes: Uint8Array, nameHint?: string): FrameHeader {
  let sof: FrameHeader | undefined
  try {
    forEachHeaderSegment(bytes, (marker, start, end) => {
      if (!isSofMarker(marker)) return false
      if (end - start < 6) throw new Error('frame header too short')
      sof = {
        height: (bytes[start + 1] << 8) | bytes[start + 2],
        width: (bytes[start + 3] << 8) | bytes[start + 4],
        components: bytes[start + 5],
      }
      return true
    })
  } catch (err) {
    const why = (err as Error).message.replace(/^(corrupt|truncated) JPEG: /, '')
    throw new ImageDecodeError('JPEG', `corrupt header: ${why}`, nameHint)
  }
  if (!sof) throw new ImageDecodeError('JPEG', 'no frame header (SOF) before the image data', nameHint)
  if (sof.width === 0 || sof.height === 0) {
    throw new ImageDecodeError(
      'JPEG',
      `declares a ${sof.width}x${sof.height} image: width and height must be at least 1 (a height set later by a DNL marker is not supported)`,
      nameHint,
    )
  }
  return sof
}

/** JPEG via jpeg-js, strict: a truncated or corrupt stream is an error, not a grey-filled half image. */
export function decodeJpeg(bytes: Uint8Array, nameHint?: string, limits: DecodeLimits = {}): RawImage {
  const header = frameHeader(bytes, nameHint)
  checkResolution('JPEG', header.width, header.height, limits, nameHint)
  let img: { width: number; height: number; data: Uint8Array }
  try {
    img = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      tolerantDecoding: false,
      maxResolutionInMP: limits.maxResolutionInMP ?? DEFAULT_MAX_MP,
      maxMemoryUsageInMB: limits.maxMemoryUsageInMB ?? 512,
    })
  } catch {
    // jpeg-js's own texts ("marker was not found", "unknown JPEG marker a9a7") describe its parser, not the file
    const ended = bytes.length >= 2 && bytes[bytes.length - 2] === 0xff && bytes[bytes.length - 1] === 0xd9
    throw new ImageDecodeError(
      'JPEG',
      ended
        ? 'corrupt or unsupported compressed data (a baseline, extended or progressive Huffman JPEG is expected)'
        : `truncated: the file (${bytes.length} bytes) ends before its end-of-image marker`,
      nameHint,
    )
  }
  const { width, height, data } = img
  if (!width || !height) throw new ImageDecodeError('JPEG', 'no image data (missing frame header)', nameHint)
  if (header.components === 1) {
    // jpeg-js expands grey to RGB; keep one channel so the encoder writes a 1-component file again.
    const gray = new Uint8Array(width * height)
    for (let i = 0; i < gray.length; i++) gray[i] = data[i * 3]
    return { width, height, format: 'gray', data: gray }
  }
  return { width, height, format: 'rgb', data }
}
