import { PNG } from 'pngjs'
import type { RawImage } from '../../shared/codec/types'
import { ImageDecodeError } from './errors'
import { checkResolution, type DecodeLimits } from './jpeg'

/**
 * PNG via pngjs (which always hands back 8-bit RGBA, rescaling 16-bit samples). Grey files (colour types 0 and 4)
 * become `gray`, everything else `rgb`; alpha is dropped (the encoder has no use for it).
 */
export function decodePng(bytes: Uint8Array, nameHint?: string, limits: DecodeLimits = {}): RawImage {
  // IHDR is the first chunk: check the claimed size before pngjs allocates for it.
  if (bytes.length < 24) throw new ImageDecodeError('PNG', `truncated header (${bytes.length} bytes)`, nameHint)
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  checkResolution('PNG', dv.getUint32(16), dv.getUint32(20), limits, nameHint)
  let png: PNG
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
  } catch (err) {
    // pngjs's texts ("There are some read requests waitng on finished stream") describe its stream, not the file
    throw new ImageDecodeError('PNG', describePngFailure(bytes, err), nameHint)
  }
  const { width, height, data } = png
  const colorType = (png as unknown as { colorType?: number }).colorType
  const pixels = width * height
  if (data.length < pixels * 4)
    throw new ImageDecodeError('PNG', `decoded ${data.length} bytes, expected ${pixels * 4}`, nameHint)
  const gray = colorType === 0 || colorType === 4
  const out = new Uint8Array(pixels * (gray ? 1 : 3))
  if (gray) {
    for (let i = 0; i < pixels; i++) out[i] = data[i * 4]
  } else {
    for (let i = 0, o = 0, s = 0; i < pixels; i++, s += 4) {
      out[o++] = data[s]
      out[o++] = data[s + 1]
      out[o++] = data[s + 2]
    }
  }
  return { width, height, format: gray ? 'gray' : 'rgb', data: out }
}

/** What is wrong with a PNG pngjs refused, in the file's terms. */
function describePngFailure(bytes: Uint8Array, err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err)
  if (!Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes('IEND')) {
    return `truncated: the file (${bytes.length} bytes) ends before its IEND chunk`
  }
  if (/crc/i.test(msg)) return 'corrupt: a chunk fails its CRC check'
  if (/signature/i.test(msg)) return 'corrupt signature'
  if (/unsupported|not supported|invalid (bit depth|color type)/i.test(msg))
    return 'unsupported PNG variant (bit depth, colour type or interlace method)'
  return 'corrupt compressed image data'
}
