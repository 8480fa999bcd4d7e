/**
 * Quantization as libjpeg-turbo's jcdctmgr.c: each divisor (8 * q for islow; q scaled by the AA&N factors for
 * ifast) becomes a 16-bit reciprocal, a rounding correction and a shift (compute_reciprocal), and a coefficient
 * is quantized as sign(x) * (((|x| + correction) * reciprocal) >> shift) — the SIMD build's arithmetic, so
 * results match cjpeg bit for bit. We fold reciprocal / 2^shift into one double `scale`: for 8-bit samples
 * (|x| + correction) * reciprocal < 2^31, so (|x| + correction) * scale is that integer times 2^-shift, exactly
 * representable, and truncating it equals the shift — one multiply, no per-coefficient shift count. Pure.
 */
import { ZIGZAG } from './tables'
import type { DctMethod } from './types'

/** Per-table quantizer, indexed in natural order: q = sign(x) * trunc((|x| + corr) * scale). */
export interface Quantizer {
  corr: Int32Array
  /** reciprocal / 2^shift (see above). */
  scale: Float64Array
}

/** AA&N scale factors scaled by 2^14 (jcdctmgr.c aanscales). */
const AANSCALES = [
  16384, 22725, 21407, 19266, 16384, 12873, 8867, 4520, 22725, 31521, 29692, 26722, 22725, 17855, 12299, 6270, 21407,
  29692, 27969, 25172, 21407, 16819, 11585, 5906, 19266, 26722, 25172, 22654, 19266, 15137, 10426, 5315, 16384, 22725,
  21407, 19266, 16384, 12873, 8867, 4520, 12873, 17855, 16819, 15137, 12873, 10114, 6967, 3552, 8867, 12299, 11585,
  10426, 8867, 6967, 4799, 2446, 4520, 6270, 5906, 5315, 4520, 3552, 2446, 1247,
]

/** INVERSE_ZIGZAG[i] = zigzag position of natural index i. */
export const INVERSE_ZIGZAG: Readonly<Uint8Array> = (() => {
  const inv = new Uint8Array(64)
  for (let k = 0; k < 64; k++) inv[ZIGZAG[k]] = k
  return inv
})()

/** The raw divisor the DCT output must be divided by for quantization table entry `q` at natural index `i`. */
export function rawDivisor(q: number, i: number, dct: DctMethod): number {
  return dct === 'islow' ? q << 3 : (q * AANSCALES[i] + (1 << 10)) >> 11
}

/** compute_reciprocal for 16-bit DCTELEM (the SIMD build): [reciprocal, correction, shift]. */
export function reciprocal(divisor: number): [number, number, number] {
  if (divisor === 1) return [1, 0, 0]
  const b = 31 - Math.clz32(divisor)
  let r = 16 + b
  let fq = Math.floor(2 ** r / divisor)
  const fr = 2 ** r % divisor
  let c = divisor >> 1
  if (fr === 0) {
    fq >>>= 1
    r--
  } else if (fr <= divisor >> 1) {
    c++
  } else {
    fq++
  }
  return [fq, c, r]
}

/** Quantizer for one table (natural order, 1..255) and DCT method. */
export function makeQuantizer(table: ArrayLike<number>, dct: DctMethod): Quantizer {
  const q: Quantizer = { corr: new Int32Array(64), scale: new Float64Array(64) }
  for (let i = 0; i < 64; i++) {
    const [fq, c, r] = reciprocal(rawDivisor(table[i], i, dct))
    q.corr[i] = c
    q.scale[i] = fq / 2 ** r
  }
  return q
}

/** sign(x) * trunc((|x| + corr) * scale): jcdctmgr quantize for one coefficient. */
export function quantizeCoef(x: number, corr: number, scale: number): number {
  // Branchless sign handling keeps everything in int32 (a ternary with unary minus would produce -0 doubles).
  const s = x >> 31
  const q = (((x ^ s) - s + corr) * scale) | 0
  return (q ^ s) - s
}

/** Quantizes DCT output `ws` (natural order) into `out` at `off` in zigzag order. */
export function quantizeBlock(ws: Int32Array, q: Quantizer, out: Int16Array, off: number): void {
  const { corr, scale } = q
  const zz = ZIGZAG
  for (let k = 0; k < 64; k++) {
    const i = zz[k]
    out[off + k] = quantizeCoef(ws[i], corr[i], scale[i])
  }
}
