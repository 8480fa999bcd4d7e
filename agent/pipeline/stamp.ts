/**
 * Writes the DEEPN metadata segment into an encoded JPEG. The buffer assigns the seq on append, so frames are
 * stored without the segment and stamped when published, from the stored row: the seq in the file is by
 * construction the seq in the buffer. The segment goes after SOI, or after the JFIF APP0 when there is one
 * (JFIF wants APP0 first).
 */
import { metadataSegment } from '../../shared/codec/metadata'
import { forEachHeaderSegment, MARKER } from '../../shared/codec/segments'
import { frameMetadataRecord, type FrameMetadata } from '../../shared/contract/frame-metadata'

export function stampMetadata(jpeg: Uint8Array, meta: FrameMetadata): Uint8Array {
  let at = 2
  try {
    // only the first segment is read: an APP0 there (at byte 2, so its payload starts at 6) goes first
    forEachHeaderSegment(jpeg, (marker, start, end) => {
      if (marker === MARKER.APP0 && start === 6) at = end
      return true
    })
  } catch (err) {
    throw new Error(`cannot stamp metadata: ${(err as Error).message}`)
  }
  const seg = metadataSegment(frameMetadataRecord(meta))
  const out = new Uint8Array(jpeg.length + seg.length)
  out.set(jpeg.subarray(0, at), 0)
  out.set(seg, at)
  out.set(jpeg.subarray(at), at + seg.length)
  return out
}
