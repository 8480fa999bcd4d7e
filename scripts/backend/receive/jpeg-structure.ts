/**
 * Structural check of a whole JPEG file without decoding it: SOI, well-formed marker segments, a frame header,
 * at least one scan whose entropy-coded data contains only legal marker sequences, and EOI as the last bytes.
 * Cheap enough for every frame; a full decode (jpeg-js) is optional on top. Pure.
 */
export interface JpegShape {
  width: number
  height: number
  components: number
  /** Scans seen (1 for baseline, more for progressive). */
  scans: number
}

const SOF_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf])

/** Throws an Error saying what is wrong and where; returns the frame's dimensions. */
export function checkJpegStructure(b: Uint8Array): JpegShape {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) throw new Error('not a JPEG: missing SOI marker')
  let shape: Omit<JpegShape, 'scans'> | undefined
  let scans = 0
  let i = 2
  for (;;) {
    if (i + 2 > b.length) throw new Error(`truncated JPEG: no EOI marker (file ends at byte ${b.length})`)
    if (b[i] !== 0xff) throw new Error(`corrupt JPEG: expected a marker at byte ${i}`)
    const marker = b[i + 1]
    if (marker === 0xff) { i++; continue }
    if (marker === 0xd9) {
      if (!shape) throw new Error('corrupt JPEG: EOI before any frame header (SOF)')
      if (scans === 0) throw new Error('corrupt JPEG: EOI before any scan (SOS)')
      if (i + 2 !== b.length) throw new Error(`corrupt JPEG: ${b.length - i - 2} bytes after EOI`)
      return { ...shape, scans }
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      throw new Error(`corrupt JPEG: unexpected standalone marker 0xFF${hex(marker)} at byte ${i}`)
    }
    if (i + 4 > b.length) throw new Error(`truncated JPEG: segment header at byte ${i} cut off`)
    const len = (b[i + 2] << 8) | b[i + 3]
    if (len < 2 || i + 2 + len > b.length) throw new Error(`corrupt JPEG: segment 0xFF${hex(marker)} at byte ${i} overruns the file`)
    if (SOF_MARKERS.has(marker)) {
      if (shape) throw new Error(`corrupt JPEG: second frame header at byte ${i}`)
      if (len < 8) throw new Error(`corrupt JPEG: frame header at byte ${i} too short`)
      const height = (b[i + 5] << 8) | b[i + 6]
      const width = (b[i + 7] << 8) | b[i + 8]
      const components = b[i + 9]
      if (width === 0 || height === 0 || components === 0) throw new Error(`corrupt JPEG: frame header says ${width}x${height}, ${components} components`)
      if (len !== 8 + 3 * components) throw new Error(`corrupt JPEG: frame header length ${len} does not fit ${components} components`)
      shape = { width, height, components }
    }
    i += 2 + len
    if (marker === 0xda) {
      if (!shape) throw new Error('corrupt JPEG: scan (SOS) before the frame header (SOF)')
      scans++
      i = skipEntropyCodedData(b, i)
    }
  }
}

/** Returns the index of the first real marker after a scan's entropy-coded data. */
function skipEntropyCodedData(b: Uint8Array, start: number): number {
  let i = start
  while (i < b.length) {
    if (b[i] !== 0xff) { i++; continue }
    const next = b[i + 1]
    if (next === undefined) break
    if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) { i += 2; continue } // stuffed byte or restart marker
    if (next === 0xff) { i++; continue } // fill bytes before a marker
    return i
  }
  throw new Error(`truncated JPEG: scan data starting at byte ${start} runs to the end without EOI`)
}

function hex(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0')
}
