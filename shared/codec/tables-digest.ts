/**
 * A short digest of the coding tables a JPEG carries: every DQT and DHT segment before the scan, in file order.
 * A table id names a table, but the same id can be pushed again with other steps or another Huffman set; the
 * digest tells such frames apart, and any receiver can recompute it from the file alone. Pure: no I/O.
 */
import { forEachHeaderSegment } from './segments'

const DQT = 0xdb
const DHT = 0xc4

/** 16 lowercase hex digits: 64-bit FNV-1a over each DQT/DHT segment's marker byte and payload. */
export function tablesDigest(jpeg: Uint8Array): string {
  const h = new Fnv1a64()
  forEachHeaderSegment(jpeg, (marker, start, end) => {
    if (marker !== DQT && marker !== DHT) return
    h.byte(marker)
    for (let i = start; i < end; i++) h.byte(jpeg[i])
  })
  return h.hex()
}

/** FNV-1a, 64-bit, on two 32-bit halves (no BigInt): prime 2^40 + 0x1b3, offset basis 0xcbf29ce484222325. */
export class Fnv1a64 {
  private hi = 0xcbf29ce4
  private lo = 0x84222325

  byte(b: number): void {
    const lo = (this.lo ^ b) >>> 0
    const t = lo * 0x1b3 // < 2^41: exact in a double
    this.lo = t >>> 0
    this.hi = (Math.imul(this.hi, 0x1b3) + Math.floor(t / 0x100000000) + (lo << 8)) >>> 0 // + (lo << 40) >> 32
  }

  hex(): string {
    return this.hi.toString(16).padStart(8, '0') + this.lo.toString(16).padStart(8, '0')
  }
}
