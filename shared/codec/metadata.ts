/**
 * Frame metadata inside the JPEG itself: one APP9 segment, `DEEPN\0` followed by UTF-8 JSON.
 * APP9 because APP0/1/2/11/13/14 are taken by JFIF, Exif, ICC, JUMBF, Photoshop and Adobe; decoders skip
 * unknown APPn, so the file stays a standard JPEG. Pure: no I/O.
 */
import { forEachHeaderSegment, MARKER } from './segments'

const APP9 = MARKER.APP9
const ID = [0x44, 0x45, 0x45, 0x50, 0x4e, 0x00] // "DEEPN\0"
/** A segment's length field is 16 bits and counts itself. */
export const MAX_METADATA_BYTES = 0xffff - 2 - ID.length

/** The full APP9 segment (marker included) for `meta`. Throws if it does not fit one segment. */
export function metadataSegment(meta: Record<string, unknown>): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(meta))
  if (json.length > MAX_METADATA_BYTES) {
    throw new RangeError(
      `metadata is ${json.length} bytes of JSON; one APP9 segment holds at most ${MAX_METADATA_BYTES}`,
    )
  }
  const len = 2 + ID.length + json.length
  const seg = new Uint8Array(2 + len)
  seg[0] = 0xff
  seg[1] = APP9
  seg[2] = len >> 8
  seg[3] = len & 0xff
  seg.set(ID, 4)
  seg.set(json, 4 + ID.length)
  return seg
}

/**
 * Reads the DEEPN metadata of a JPEG. Returns undefined when the file has none; throws when the bytes are not
 * a JPEG or the segment structure before the scan is broken (a corrupt payload must be refused, not guessed at).
 */
export function readJpegMetadata(jpeg: Uint8Array): Record<string, unknown> | undefined {
  let found: Uint8Array | undefined
  forEachHeaderSegment(jpeg, (marker, start, end) => {
    if (marker !== APP9 || end - start < ID.length || !ID.every((b, k) => jpeg[start + k] === b)) return false
    found = jpeg.subarray(start + ID.length, end)
    return true
  })
  if (!found) return undefined
  const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(found))
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new Error('DEEPN metadata is not a JSON object')
  return value as Record<string, unknown>
}
