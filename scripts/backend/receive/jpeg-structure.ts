/**
 * Structural check of a whole JPEG file without decoding it: SOI, well-formed marker segments, a frame header,
 * at least one scan whose entropy-coded data contains only legal marker sequences, and EOI as the last bytes.
 * Cheap enough for every frame; a full decode (jpeg-js) is optional on top. Pure.
 */
import { isSofMarker, MARKER, walkJpeg } from '../../../shared/codec/segments'

export interface JpegShape {
  width: number
  height: number
  components: number
  /** Scans seen (1 for baseline, more for progressive). */
  scans: number
}

/** Throws an Error saying what is wrong and where; returns the frame's dimensions. */
export function checkJpegStructure(b: Uint8Array): JpegShape {
  let shape: Omit<JpegShape, 'scans'> | undefined
  let scans = 0
  const end = walkJpeg(b, {
    segment(marker, start, end) {
      const at = start - 4
      if (isSofMarker(marker)) {
        if (shape) throw new Error(`corrupt JPEG: second frame header at byte ${at}`)
        if (end - start < 6) throw new Error(`corrupt JPEG: frame header at byte ${at} too short`)
        const height = (b[start + 1] << 8) | b[start + 2]
        const width = (b[start + 3] << 8) | b[start + 4]
        const components = b[start + 5]
        if (width === 0 || height === 0 || components === 0)
          throw new Error(`corrupt JPEG: frame header says ${width}x${height}, ${components} components`)
        if (end - start !== 6 + 3 * components)
          throw new Error(`corrupt JPEG: frame header length ${end - start + 2} does not fit ${components} components`)
        shape = { width, height, components }
      } else if (marker === MARKER.SOS) {
        if (!shape) throw new Error('corrupt JPEG: scan (SOS) before the frame header (SOF)')
        scans++
      }
    },
  })
  if (!shape) throw new Error('corrupt JPEG: EOI before any frame header (SOF)')
  if (scans === 0) throw new Error('corrupt JPEG: EOI before any scan (SOS)')
  if (end !== b.length) throw new Error(`corrupt JPEG: ${b.length - end} bytes after EOI`)
  return { ...shape, scans }
}
