/** Reads the Huffman tables a JPEG carries in its DHT segments (0xFFC4), walking the markers up to SOS. */
import type { HuffmanTable, HuffmanTables } from '../../shared/codec/types'

/** Tables by slot: `dc0`, `ac0` (luma), `dc1`, `ac1` (chroma), as written in the file. */
export function readDht(jpeg: Uint8Array): Record<string, HuffmanTable> {
  const out: Record<string, HuffmanTable> = {}
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error('not a JPEG (no SOI)')
  let p = 2
  while (p + 4 <= jpeg.length) {
    if (jpeg[p] !== 0xff) throw new Error(`expected a marker at ${p}`)
    const marker = jpeg[p + 1]
    if (marker === 0xda) break // SOS: entropy-coded data follows
    const len = (jpeg[p + 2] << 8) | jpeg[p + 3]
    if (marker === 0xc4) {
      let q = p + 4
      while (q < p + 2 + len) {
        const tc = jpeg[q] >> 4, th = jpeg[q] & 15
        const counts = Array.from(jpeg.subarray(q + 1, q + 17))
        const n = counts.reduce((a, b) => a + b, 0)
        out[`${tc ? 'ac' : 'dc'}${th}`] = { counts, symbols: Array.from(jpeg.subarray(q + 17, q + 17 + n)) }
        q += 17 + n
      }
    }
    p += 2 + len
  }
  return out
}

/** The slots a fixed set fills: its chroma pair, or the luma pair again for a gray-only set on colour frames. */
export function dhtOf(set: HuffmanTables): Record<string, HuffmanTable> {
  return { dc0: set.lumaDc, ac0: set.lumaAc, dc1: set.chromaDc ?? set.lumaDc, ac1: set.chromaAc ?? set.lumaAc }
}
