import type { RawImage } from '../../shared/codec/types'
import { ImageDecodeError } from './errors'
import { checkResolution, type DecodeLimits } from './jpeg'

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c

/**
 * Binary PPM (P6) → rgb, binary PGM (P5) → gray. Only maxval 255 (8-bit samples): larger maxvals store 16-bit
 * big-endian samples and smaller ones need rescaling, neither of which cameras or our tools write.
 */
export function decodePnm(bytes: Uint8Array, nameHint?: string, limits: DecodeLimits = {}): RawImage {
  const kind = bytes[1] === 0x36 ? 'P6' : 'P5'
  const format = kind === 'P6' ? 'PPM' : 'PGM'
  const fail = (problem: string): never => {
    throw new ImageDecodeError(format, problem, nameHint)
  }
  let pos = 2
  const readInt = (what: string): number => {
    // Whitespace and '#' comments (to end of line) may separate header fields.
    for (;;) {
      if (pos >= bytes.length) fail(`truncated header (missing ${what})`)
      const c = bytes[pos]
      if (isSpace(c)) {
        pos++
        continue
      }
      if (c === 0x23) {
        while (pos < bytes.length && bytes[pos] !== 0x0a && bytes[pos] !== 0x0d) pos++
        continue
      }
      break
    }
    const start = pos
    while (pos < bytes.length && bytes[pos] >= 0x30 && bytes[pos] <= 0x39) pos++
    if (pos === start) fail(`bad header: ${what} is not a number`)
    if (pos - start > 9) fail(`bad header: ${what} too large`)
    return Number(Buffer.from(bytes.subarray(start, pos)).toString('latin1'))
  }
  const width = readInt('width')
  const height = readInt('height')
  const maxval = readInt('maxval')
  if (width < 1 || height < 1) fail(`bad size ${width}x${height}`)
  checkResolution(format, width, height, limits, nameHint)
  if (maxval !== 255)
    fail(
      `maxval ${maxval} not supported (only 8-bit files with maxval 255${maxval > 255 ? '; 16-bit samples: convert to 8 bits first' : ''})`,
    )
  // Exactly one whitespace byte separates the header from the raster.
  if (pos >= bytes.length || !isSpace(bytes[pos])) fail('truncated header (no whitespace after maxval)')
  pos++
  const channels = kind === 'P6' ? 3 : 1
  const need = width * height * channels
  const have = bytes.length - pos
  if (have < need) fail(`truncated raster: ${have} of ${need} bytes for ${width}x${height}`)
  // A view, not a copy: the file buffer is not reused by callers.
  return { width, height, format: channels === 3 ? 'rgb' : 'gray', data: bytes.subarray(pos, pos + need) }
}
