/**
 * Size of a JPEG's entropy-coded data: the bytes after each SOS header up to the next non-RST marker, summed over
 * scans. For 28x28 images the headers (quant and Huffman tables, ~600 bytes) dwarf the scan, so rate is reported
 * both ways. Pure: no I/O.
 */
import { JpegStructureError, walkJpeg } from '../codec/segments'

export function scanBytes(jpeg: Uint8Array): number {
  let total = 0
  let scans = 0
  walkJpeg(jpeg, {
    scan(start, end) {
      scans++
      total += end - start
    },
  })
  if (scans === 0) throw new JpegStructureError('corrupt JPEG: no scan (SOS) found', 2)
  return total
}
