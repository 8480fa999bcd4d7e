/**
 * Frame metadata inside the JPEG itself: one APP9 segment, `DEEPN\0` followed by UTF-8 JSON.
 * APP9 because APP0/1/2/11/13/14 are taken by JFIF, Exif, ICC, JUMBF, Photoshop and Adobe; decoders skip
 * unknown APPn, so the file stays a standard JPEG. Pure: no I/O.
 */
const APP9 = 0xe9
const ID = [0x44, 0x45, 0x45, 0x50, 0x4e, 0x00] // "DEEPN\0"
/** A segment's length field is 16 bits and counts itself. */
export const MAX_METADATA_BYTES = 0xffff - 2 - ID.length

/** The full APP9 segment (marker included) for `meta`. Throws if it does not fit one segment. */
export function metadataSegment(meta: Record<string, unknown>): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(meta))
  if (json.length > MAX_METADATA_BYTES) {
    throw new RangeError(`metadata is ${json.length} bytes of JSON; one APP9 segment holds at most ${MAX_METADATA_BYTES}`)
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
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error('not a JPEG: missing SOI marker')
  let i = 2
  while (i + 4 <= jpeg.length) {
    if (jpeg[i] !== 0xff) throw new Error(`corrupt JPEG: expected a marker at byte ${i}`)
    const marker = jpeg[i + 1]
    if (marker === 0xff) { i++; continue } // fill byte
    if (marker === 0xda || marker === 0xd9) return undefined // scan reached: metadata precedes it
    const len = (jpeg[i + 2] << 8) | jpeg[i + 3]
    if (len < 2 || i + 2 + len > jpeg.length) throw new Error(`corrupt JPEG: segment 0xFF${marker.toString(16).toUpperCase()} at byte ${i} overruns the file`)
    if (marker === APP9 && len >= 2 + ID.length && ID.every((b, k) => jpeg[i + 4 + k] === b)) {
      const text = new TextDecoder('utf-8', { fatal: true }).decode(jpeg.subarray(i + 4 + ID.length, i + 2 + len))
      const value: unknown = JSON.parse(text)
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('DEEPN metadata is not a JSON object')
      return value as Record<string, unknown>
    }
    i += 2 + len
  }
  throw new Error('corrupt JPEG: truncated before the scan')
}
