/**
 * The one JPEG marker walker: everything that reads a JPEG's structure (metadata, quantization digest, scan size,
 * the receiver's structure check, the image-file decoder's header check, stamping) builds on walkJpeg. Pure: no
 * I/O, and no allocation per segment (the visitor gets offsets into the caller's bytes). Refuses broken structure
 * with a JpegStructureError naming the byte offset and the marker, so a corrupt payload is refused, not guessed at.
 */

/** Markers the walker and its callers name. */
export const MARKER = {
  SOI: 0xd8,
  EOI: 0xd9,
  SOS: 0xda,
  DQT: 0xdb,
  DHT: 0xc4,
  APP0: 0xe0,
  APP9: 0xe9,
  TEM: 0x01,
} as const

/** SOFn markers (frame headers): C0..CF except C4, C8 and CC, which are DHT, JPG and DAC. */
export const isSofMarker = (m: number): boolean => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc

/** RST0..RST7: restart markers, legal only inside a scan's entropy-coded data. */
const isRstMarker = (m: number): boolean => m >= 0xd0 && m <= 0xd7

/** A structure error. `offset` is the byte it was found at (the file's length when the file ends too early). */
export class JpegStructureError extends Error {
  constructor(
    message: string,
    readonly offset: number,
    readonly marker?: number,
  ) {
    super(message)
    this.name = 'JpegStructureError'
  }
}

/** `0xFFDA` for 0xda. */
export function markerName(marker: number): string {
  return `0xFF${marker.toString(16).toUpperCase().padStart(2, '0')}`
}

export interface JpegVisitor {
  /**
   * A length-carrying marker segment (SOS included in a whole-file walk): `jpeg[start, end)` is its payload, after
   * the two length bytes, so its marker is at `start - 4`. Return true to stop the walk.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a visitor that returns nothing keeps walking
  segment?(marker: number, start: number, end: number): boolean | void
  /** A scan's entropy-coded data, `jpeg[start, end)`, restart markers included. Return true to stop the walk. */
  // biome-ignore lint/suspicious/noConfusingVoidType: as above
  scan?(start: number, end: number): boolean | void
}

export interface WalkOptions {
  /** Stop at the first SOS (not reported) or EOI: only the header is read, and need be present. */
  headerOnly?: boolean
}

/**
 * Walks `jpeg` from SOI: every marker segment, and (unless `headerOnly`) each scan's entropy-coded data, up to EOI.
 * Returns the offset it stopped at: just after EOI; in a header walk the offset of the first SOS (or EOI) marker;
 * or, when the visitor stopped it, the end of the segment or scan it stopped at. Bytes after EOI are the
 * caller's business. Throws JpegStructureError on a missing SOI, a non-marker where a marker belongs, a
 * standalone marker out of place, a segment whose length overruns the file, or a file that ends before EOI (or,
 * in a header walk, before the scan).
 */
export function walkJpeg(jpeg: Uint8Array, visit: JpegVisitor, opts: WalkOptions = {}): number {
  const n = jpeg.length
  if (n < 4 || jpeg[0] !== 0xff || jpeg[1] !== MARKER.SOI)
    throw new JpegStructureError('not a JPEG: missing SOI marker', 0)
  let i = 2
  for (;;) {
    if (i + 2 > n) {
      throw opts.headerOnly
        ? new JpegStructureError(`corrupt JPEG: truncated before the scan (the file ends at byte ${n})`, n)
        : new JpegStructureError(`truncated JPEG: no EOI marker (the file ends at byte ${n})`, n)
    }
    if (jpeg[i] !== 0xff) throw new JpegStructureError(`corrupt JPEG: expected a marker at byte ${i}`, i)
    const marker = jpeg[i + 1]
    if (marker === 0xff) {
      i++
      continue
    } // fill byte before a marker
    if (marker === MARKER.EOI) return opts.headerOnly ? i : i + 2
    if (marker === MARKER.SOS && opts.headerOnly) return i
    if (marker === MARKER.SOI || marker === MARKER.TEM || isRstMarker(marker)) {
      throw new JpegStructureError(
        `corrupt JPEG: unexpected standalone marker ${markerName(marker)} at byte ${i}`,
        i,
        marker,
      )
    }
    if (i + 4 > n)
      throw new JpegStructureError(
        `truncated JPEG: segment ${markerName(marker)} at byte ${i} is cut off in its length`,
        i,
        marker,
      )
    const len = (jpeg[i + 2] << 8) | jpeg[i + 3]
    if (len < 2 || i + 2 + len > n)
      throw new JpegStructureError(
        `corrupt JPEG: segment ${markerName(marker)} at byte ${i} overruns the file`,
        i,
        marker,
      )
    const end = i + 2 + len
    if (visit.segment?.(marker, i + 4, end) === true) return end
    i = end
    if (marker !== MARKER.SOS) continue
    const scanEnd = skipEntropyCodedData(jpeg, i)
    if (visit.scan?.(i, scanEnd) === true) return scanEnd
    i = scanEnd
  }
}

/** Calls `visit(marker, start, end)` for each segment before the first scan (a header walk); true stops it. */
export function forEachHeaderSegment(
  jpeg: Uint8Array,
  // biome-ignore lint/suspicious/noConfusingVoidType: a visitor that returns nothing keeps walking
  visit: (marker: number, start: number, end: number) => boolean | void,
): void {
  walkJpeg(jpeg, { segment: visit }, { headerOnly: true })
}

/** The offset of the first marker after a scan's entropy-coded data starting at `start`. */
function skipEntropyCodedData(jpeg: Uint8Array, start: number): number {
  const n = jpeg.length
  // indexOf finds each 0xFF with native code (memchr): the scan is most of a frame's bytes, and a byte loop over
  // it was most of the receiver's structure check.
  for (let i = jpeg.indexOf(0xff, start); i !== -1 && i + 1 < n; i = jpeg.indexOf(0xff, i + 2)) {
    const next = jpeg[i + 1]
    if (next !== 0x00 && !isRstMarker(next)) return i // a marker; 0x00 (a stuffed 0xFF) and RSTn stay in the scan
  }
  throw new JpegStructureError(`truncated JPEG: scan data starting at byte ${start} runs to the end without EOI`, n)
}
