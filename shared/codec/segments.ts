/**
 * Walks the marker segments of a JPEG header, SOI up to the first SOS (or EOI). Pure: no I/O. Throws, naming the
 * byte offset, when the structure before the scan is broken, so a corrupt payload is refused rather than guessed at.
 */

/** SOFn markers (frame headers): C0..CF except C4, C8 and CC, which are DHT, JPG and DAC. */
export const isSofMarker = (m: number): boolean => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc

/**
 * Calls `visit(marker, start, end)` for every length-carrying segment before the scan, where `jpeg[start, end)`
 * is the segment's payload (after the two length bytes). `visit` may return true to stop early.
 */
export function forEachHeaderSegment(jpeg: Uint8Array, visit: (marker: number, start: number, end: number) => boolean | void): void {
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error('not a JPEG: missing SOI marker')
  let i = 2
  while (i + 4 <= jpeg.length) {
    if (jpeg[i] !== 0xff) throw new Error(`corrupt JPEG: expected a marker at byte ${i}`)
    const marker = jpeg[i + 1]
    if (marker === 0xff) { i++; continue } // fill byte
    if (marker === 0xda || marker === 0xd9) return // scan (or end) reached: the header is over
    const len = (jpeg[i + 2] << 8) | jpeg[i + 3]
    if (len < 2 || i + 2 + len > jpeg.length) throw new Error(`corrupt JPEG: segment 0xFF${marker.toString(16).toUpperCase()} at byte ${i} overruns the file`)
    if (visit(marker, i + 4, i + 2 + len) === true) return
    i += 2 + len
  }
  throw new Error('corrupt JPEG: truncated before the scan')
}
