/**
 * Writes the DEEPN metadata segment into an encoded JPEG. The buffer assigns the seq on append, so frames are
 * stored without the segment and stamped when published, from the stored row: the seq in the file is by
 * construction the seq in the buffer. The segment goes after SOI, or after the JFIF APP0 when there is one
 * (JFIF wants APP0 first).
 */
import { metadataSegment } from '../../shared/codec/metadata'
import type { FrameMetadata } from '../../shared/contract/topics'

export function stampMetadata(jpeg: Uint8Array, meta: FrameMetadata): Uint8Array {
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error('cannot stamp metadata: not a JPEG (missing SOI)')
  let at = 2
  if (jpeg[2] === 0xff && jpeg[3] === 0xe0 && jpeg.length >= 6) at = 4 + ((jpeg[4] << 8) | jpeg[5])
  const seg = metadataSegment(meta as unknown as Record<string, unknown>)
  const out = new Uint8Array(jpeg.length + seg.length)
  out.set(jpeg.subarray(0, at), 0)
  out.set(seg, at)
  out.set(jpeg.subarray(at), at + seg.length)
  return out
}
