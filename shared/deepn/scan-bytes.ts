/**
 * Size of a JPEG's entropy-coded data: the bytes after each SOS header up to the next non-RST marker, summed over
 * scans. For 28x28 images the headers (quant and Huffman tables, ~600 bytes) dwarf the scan, so rate is reported
 * both ways. Pure: no I/O.
 */
export function scanBytes(jpeg: Uint8Array): number {
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error('not a JPEG: missing SOI marker')
  let i = 2
  let total = 0
  let scans = 0
  while (i + 4 <= jpeg.length) {
    if (jpeg[i] !== 0xff) throw new Error(`corrupt JPEG: expected a marker at byte ${i}`)
    const marker = jpeg[i + 1]
    if (marker === 0xff) { i++; continue }
    if (marker === 0xd9) break
    const len = (jpeg[i + 2] << 8) | jpeg[i + 3]
    if (len < 2 || i + 2 + len > jpeg.length) throw new Error(`corrupt JPEG: segment 0xFF${marker.toString(16).toUpperCase()} at byte ${i} overruns the file`)
    i += 2 + len
    if (marker !== 0xda) continue
    scans++
    const start = i
    // entropy-coded data ends at a marker other than a stuffed 0xFF00 or a restart marker RST0..7
    while (i + 1 < jpeg.length && !(jpeg[i] === 0xff && jpeg[i + 1] !== 0x00 && (jpeg[i + 1] < 0xd0 || jpeg[i + 1] > 0xd7))) i++
    total += i - start
  }
  if (scans === 0) throw new Error('corrupt JPEG: no scan (SOS) found')
  return total
}
