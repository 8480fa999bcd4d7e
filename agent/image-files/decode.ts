import type { RawImage } from '../../shared/codec/types'
import { decodeBmp } from './bmp'
import { ImageDecodeError } from './errors'
import { decodeJpeg, type DecodeLimits } from './jpeg'
import { decodePng } from './png'
import { decodePnm } from './pnm'

export { ImageDecodeError } from './errors'
export type { DecodeLimits } from './jpeg'

export type ImageFileFormat = 'ppm' | 'pgm' | 'png' | 'jpeg' | 'bmp'

/** The format the magic bytes announce, or null. The file name is never consulted. */
export function detectImageFormat(bytes: Uint8Array): ImageFileFormat | null {
  if (bytes.length >= 2 && bytes[0] === 0x50 /* P */ && (bytes[1] === 0x36 || bytes[1] === 0x35)) {
    return bytes[1] === 0x36 ? 'ppm' : 'pgm'
  }
  if (
    bytes.length >= 8 &&
    bytes[0] === 0x89 &&
    bytes[1] === 0x50 &&
    bytes[2] === 0x4e &&
    bytes[3] === 0x47 &&
    bytes[4] === 0x0d &&
    bytes[5] === 0x0a &&
    bytes[6] === 0x1a &&
    bytes[7] === 0x0a
  )
    return 'png'
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xd8) return 'jpeg' // SOI
  if (bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d) return 'bmp'
  return null
}

/**
 * Decode a PPM (P6), PGM (P5), PNG, JPEG or BMP file into a tightly packed RawImage (`rgb` or `gray`).
 * `nameHint` only labels error messages; `limits` caps the claimed resolution (all formats, default 64 MP) before
 * pixel memory is allocated. Throws ImageDecodeError naming the format and the problem.
 */
export function decodeImageFile(bytes: Uint8Array, nameHint?: string, limits: DecodeLimits = {}): RawImage {
  const format = detectImageFormat(bytes)
  switch (format) {
    case 'ppm':
    case 'pgm':
      return decodePnm(bytes, nameHint, limits)
    case 'png':
      return decodePng(bytes, nameHint, limits)
    case 'jpeg':
      return decodeJpeg(bytes, nameHint, limits)
    case 'bmp':
      return decodeBmp(bytes, nameHint, limits)
    default: {
      const head = Buffer.from(bytes.subarray(0, 8)).toString('hex').replace(/(..)/g, '$1 ').trim()
      throw new ImageDecodeError(
        'image',
        bytes.length === 0 ? 'empty file' : `unknown format (first bytes ${head}); expected PPM/PGM, PNG, JPEG or BMP`,
        nameHint,
      )
    }
  }
}
