/** Reads the Huffman tables a JPEG carries in its DHT segments (0xFFC4), walking the markers up to SOS. */
import { forEachHeaderSegment, MARKER } from '../../shared/codec/segments'
import type { HuffmanTable, HuffmanTables } from '../../shared/codec/types'

/** Tables by slot: `dc0`, `ac0` (luma), `dc1`, `ac1` (chroma), as written in the file. */
export function readDht(jpeg: Uint8Array): Record<string, HuffmanTable> {
  const out: Record<string, HuffmanTable> = {}
  forEachHeaderSegment(jpeg, (marker, start, end) => {
    if (marker !== MARKER.DHT) return
    for (let q = start; q < end; ) {
      const tc = jpeg[q] >> 4,
        th = jpeg[q] & 15
      const counts = Array.from(jpeg.subarray(q + 1, q + 17))
      const n = counts.reduce((a, b) => a + b, 0)
      out[`${tc ? 'ac' : 'dc'}${th}`] = { counts, symbols: Array.from(jpeg.subarray(q + 17, q + 17 + n)) }
      q += 17 + n
    }
  })
  return out
}

/** The slots a fixed set fills: its chroma pair, or the luma pair again for a gray-only set on colour frames. */
export function dhtOf(set: HuffmanTables): Record<string, HuffmanTable> {
  return { dc0: set.lumaDc, ac0: set.lumaAc, dc1: set.chromaDc ?? set.lumaDc, ac1: set.chromaAc ?? set.lumaAc }
}
