/** Input checks shared by the encoder and the block visitor: bad input gets an Error naming what is wrong. Pure. */
import type { PixelFormat, RawImage, Subsampling } from './types'

const FORMATS: readonly PixelFormat[] = ['rgb', 'rgba', 'gray', 'yuv420p']

/** Bytes a tightly packed frame of this size and format occupies. */
export function expectedBytes(width: number, height: number, format: PixelFormat): number {
  switch (format) {
    case 'rgb':
      return width * height * 3
    case 'rgba':
      return width * height * 4
    case 'gray':
      return width * height
    case 'yuv420p':
      return width * height + 2 * ((width + 1) >> 1) * ((height + 1) >> 1)
  }
}

export function validateImage(image: RawImage): void {
  if (image === null || typeof image !== 'object')
    throw new TypeError('image: expected { width, height, data, format }')
  const { width, height, data, format } = image
  if (!FORMATS.includes(format)) {
    throw new RangeError(
      `image.format: unknown pixel format ${JSON.stringify(format)} (expected ${FORMATS.join(', ')})`,
    )
  }
  for (const [name, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) {
      throw new RangeError(`image.${name}: must be an integer 1..65535 (JPEG limit), got ${String(v)}`)
    }
  }
  if (!(data instanceof Uint8Array)) throw new TypeError('image.data: expected a Uint8Array')
  const want = expectedBytes(width, height, format)
  if (data.length !== want) {
    throw new RangeError(
      `image.data: ${data.length} bytes, but a ${width}x${height} ${format} frame needs exactly ${want}`,
    )
  }
}

export function validateSubsampling(s: unknown): asserts s is Subsampling {
  if (s !== '444' && s !== '420') throw new RangeError(`subsampling: expected '444' or '420', got ${JSON.stringify(s)}`)
}
