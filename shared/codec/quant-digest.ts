/**
 * A short digest of what decides a JPEG's decoded pixels apart from its scan data: the quantization table each
 * component uses and its sampling factors. Frames with equal digests went through the same lossy step, whatever
 * their table id, Huffman tables (lossless), segment layout or entry precision; a table pushed again under its id
 * with other steps gives another digest. Any receiver can recompute it from the file alone. Pure: no I/O.
 */
import { forEachHeaderSegment, isSofMarker, MARKER } from './segments'

/**
 * 16 lowercase hex digits: 64-bit FNV-1a over, per component in frame-header order, its sampling byte (H<<4|V)
 * and the 64 steps of its quantization table (zigzag order, 16 bits each). Throws on a broken or incomplete header.
 */
export function quantDigest(jpeg: Uint8Array): string {
  // Per table slot, where its 64 steps start in `jpeg` (-1: not defined) and whether they are 16-bit: the steps
  // are hashed from the file's bytes, with nothing copied (every frame the receiver takes is digested).
  const table = [-1, -1, -1, -1]
  const wide = [false, false, false, false]
  let frameAt = -1
  let count = 0
  forEachHeaderSegment(jpeg, (marker, start, end) => {
    if (marker === MARKER.DQT) {
      for (let p = start; p < end; ) {
        const precision = jpeg[p] >> 4,
          slot = jpeg[p] & 15
        const n = precision ? 128 : 64
        if (precision > 1 || slot > 3 || p + 1 + n > end)
          throw new Error(`corrupt JPEG: bad quantization table in DQT at byte ${start - 4}`)
        table[slot] = p + 1
        wide[slot] = precision === 1
        p += 1 + n
      }
    } else if (isSofMarker(marker)) {
      count = jpeg[start + 5]
      if (end - start < 6 + 3 * count)
        throw new Error(`corrupt JPEG: frame header at byte ${start - 4} is too short for ${count} components`)
      frameAt = start + 6
    }
  })
  if (frameAt < 0) throw new Error('corrupt JPEG: no frame header (SOF) before the scan')
  const h = new Fnv1a64()
  for (let c = 0; c < count; c++) {
    const at = frameAt + 3 * c
    const slot = jpeg[at + 2]
    const steps = slot <= 3 ? table[slot] : -1
    if (steps < 0)
      throw new Error(`corrupt JPEG: component ${c} uses quantization table ${slot}, which the header does not define`)
    h.byte(jpeg[at + 1])
    h.bytes(jpeg, steps, wide[slot] ? 128 : 64, !wide[slot])
  }
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

  /**
   * `byte()` over `n` bytes of `src` from `at`, each preceded by a zero byte when `widen` (8-bit steps hashed as
   * 16-bit ones). One loop on locals: the receiver digests every frame it takes (4.4 -> 2.2 us a frame).
   */
  bytes(src: Uint8Array, at: number, n: number, widen: boolean): void {
    let hi = this.hi
    let lo = this.lo
    for (let k = at; k < at + n; k++) {
      if (widen) {
        const t0 = lo * 0x1b3 // a zero byte: xor leaves lo as it is
        hi = (Math.imul(hi, 0x1b3) + ((t0 / 0x100000000) >>> 0) + (lo << 8)) >>> 0
        lo = t0 >>> 0
      }
      const x = (lo ^ src[k]) >>> 0
      const t = x * 0x1b3
      hi = (Math.imul(hi, 0x1b3) + ((t / 0x100000000) >>> 0) + (x << 8)) >>> 0
      lo = t >>> 0
    }
    this.hi = hi
    this.lo = lo
  }

  hex(): string {
    return this.hi.toString(16).padStart(8, '0') + this.lo.toString(16).padStart(8, '0')
  }
}
