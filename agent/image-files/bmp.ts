import type { RawImage } from '../../shared/codec/types'
import { ImageDecodeError } from './errors'
import { checkResolution, type DecodeLimits } from './jpeg'

const BI_RGB = 0
const BI_BITFIELDS = 3
const BI_ALPHABITFIELDS = 6

/** One channel mask → (shift, scale to 8 bits). */
function channel(mask: number): { shift: number; max: number } {
  if (mask === 0) return { shift: 0, max: 0 }
  let shift = 0
  while (((mask >>> shift) & 1) === 0) shift++
  return { shift, max: mask >>> shift }
}

/**
 * Windows BMP as raspistill `-e bmp` writes it: 24-bit BGR or 32-bit BGRX / bit-fields, bottom-up (positive
 * height) or top-down (negative height), rows padded to 4 bytes. 8-bit palettised files are accepted too.
 * Output is `rgb`, or `gray` for an 8-bit file whose palette is grey.
 */
export function decodeBmp(bytes: Uint8Array, nameHint?: string, limits: DecodeLimits = {}): RawImage {
  const fail = (problem: string): never => {
    throw new ImageDecodeError('BMP', problem, nameHint)
  }
  if (bytes.length < 2 || bytes[0] !== 0x42 || bytes[1] !== 0x4d) fail('not a BMP file (no "BM" signature)')
  if (bytes.length < 26) fail(`truncated header (${bytes.length} bytes)`)
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const dataOffset = dv.getUint32(10, true)
  const dibSize = dv.getUint32(14, true)
  let width: number,
    height: number,
    bpp: number,
    compression = BI_RGB,
    colorsUsed = 0
  if (dibSize === 12) {
    // OS/2 BITMAPCOREHEADER: 16-bit unsigned sizes, always bottom-up.
    width = dv.getUint16(18, true)
    height = dv.getUint16(20, true)
    bpp = dv.getUint16(24, true)
  } else if (dibSize >= 40 && dibSize <= 124) {
    if (bytes.length < 14 + dibSize) fail(`truncated info header (${bytes.length} bytes)`)
    width = dv.getInt32(18, true)
    height = dv.getInt32(22, true)
    bpp = dv.getUint16(28, true)
    compression = dv.getUint32(30, true)
    colorsUsed = dv.getUint32(46, true)
  } else {
    return fail(`unsupported info header size ${dibSize}`)
  }
  const topDown = height < 0
  height = Math.abs(height)
  if (width < 1 || height < 1) fail(`bad size ${width}x${height}`)
  checkResolution('BMP', width, height, limits, nameHint)
  if (bpp !== 24 && bpp !== 32 && bpp !== 8) fail(`${bpp}-bit pixels not supported (24, 32 or 8-bit palettised only)`)
  if (compression !== BI_RGB && !(bpp === 32 && (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS))) {
    fail(
      `compression ${compression} not supported (${compression === 1 || compression === 2 ? 'RLE-compressed; ' : ''}uncompressed only: save it as an uncompressed BMP)`,
    )
  }

  const rowBytes = Math.ceil((width * bpp) / 32) * 4
  const need = dataOffset + rowBytes * (height - 1) + Math.ceil((width * bpp) / 8)
  if (dataOffset < 14 + dibSize) fail(`pixel data offset ${dataOffset} overlaps the header`)
  if (bytes.length < need) fail(`truncated pixel data: ${bytes.length} of ${need} bytes for ${width}x${height}x${bpp}`)
  const rowStart = (y: number): number => dataOffset + (topDown ? y : height - 1 - y) * rowBytes

  if (bpp === 8) {
    const entries = colorsUsed || 256
    const palStart = 14 + dibSize
    const entrySize = dibSize === 12 ? 3 : 4
    if (palStart + entries * entrySize > dataOffset)
      fail(`palette of ${entries} entries does not fit before the pixel data`)
    const pal = new Uint8Array(entries * 3)
    let gray = true
    for (let i = 0; i < entries; i++) {
      const p = palStart + i * entrySize
      pal[i * 3] = bytes[p + 2]
      pal[i * 3 + 1] = bytes[p + 1]
      pal[i * 3 + 2] = bytes[p]
      if (bytes[p] !== bytes[p + 1] || bytes[p] !== bytes[p + 2]) gray = false
    }
    const out = new Uint8Array(width * height * (gray ? 1 : 3))
    for (let y = 0, o = 0; y < height; y++) {
      const s = rowStart(y)
      for (let x = 0; x < width; x++) {
        const idx = bytes[s + x]
        if (idx >= entries) fail(`pixel (${x},${y}) uses palette index ${idx} of ${entries}`)
        if (gray) out[o++] = pal[idx * 3]
        else {
          out[o++] = pal[idx * 3]
          out[o++] = pal[idx * 3 + 1]
          out[o++] = pal[idx * 3 + 2]
        }
      }
    }
    return { width, height, format: gray ? 'gray' : 'rgb', data: out }
  }

  const out = new Uint8Array(width * height * 3)
  if (bpp === 24 || compression === BI_RGB) {
    // BGR(X) byte order.
    const step = bpp / 8
    for (let y = 0, o = 0; y < height; y++) {
      for (let x = 0, s = rowStart(y); x < width; x++, s += step) {
        out[o++] = bytes[s + 2]
        out[o++] = bytes[s + 1]
        out[o++] = bytes[s]
      }
    }
    return { width, height, format: 'rgb', data: out }
  }

  // 32-bit bit-fields: masks follow a 40-byte header, or live inside V2+ headers at the same offset.
  if (bytes.length < 54 + 12) fail('truncated bit-field masks')
  const masks = [dv.getUint32(54, true), dv.getUint32(58, true), dv.getUint32(62, true)].map(channel)
  if (masks.some((m) => m.max === 0)) fail('a colour bit-field mask is zero')
  for (let y = 0, o = 0; y < height; y++) {
    for (let x = 0, s = rowStart(y); x < width; x++, s += 4) {
      const v = dv.getUint32(s, true)
      for (const m of masks)
        out[o++] = m.max === 255 ? (v >>> m.shift) & 255 : Math.round((((v >>> m.shift) & m.max) * 255) / m.max)
    }
  }
  return { width, height, format: 'rgb', data: out }
}
