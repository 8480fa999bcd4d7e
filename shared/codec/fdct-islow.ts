/**
 * libjpeg's accurate integer forward DCT (jfdctint.c, jpeg_fdct_islow: Loeffler–Ligtenberg–Moschytz with
 * 13-bit constants, PASS1_BITS 2). The output is the 2-D DCT scaled up by 8 (the quantizer divides by 8 * q).
 * Split into the row pass (fused with sample loading and level shift) and the column pass, which exists plain
 * (for statistics) and fused with quantization (for the encoder's hot path); both compute identical values.
 * For 8-bit samples every intermediate fits int32 (worst case about 2^30.3), so pass 2 uses Math.imul and |0:
 * that is exact here and keeps V8 in int32 arithmetic (Int32Array loads times 13-bit constants would otherwise
 * be typed beyond int32 and computed in float64). Pass 1 reads bytes, so V8 proves its ranges itself. Pure.
 */
import type { Quantizer } from './quantize'
import { INVERSE_ZIGZAG, quantizeCoef as qz } from './quantize'

const CONST_BITS = 13
const PASS1_BITS = 2
const F_0_298 = 2446,
  F_0_390 = 3196,
  F_0_541 = 4433,
  F_0_765 = 6270,
  F_0_899 = 7373,
  F_1_175 = 9633
const F_1_501 = 12299,
  F_1_847 = 15137,
  F_1_961 = 16069,
  F_2_053 = 16819,
  F_2_562 = 20995,
  F_3_072 = 25172

const D1 = CONST_BITS - PASS1_BITS,
  R1 = 1 << (D1 - 1)
const D2 = CONST_BITS + PASS1_BITS,
  R2 = 1 << (D2 - 1)
const RP = 1 << (PASS1_BITS - 1)

/** convsamp + pass 1: loads 8x8 samples at `off` (`stride` apart), level-shifts and transforms rows into `d`. */
export function islowRows(src: Uint8Array, off: number, stride: number, d: Int32Array): void {
  for (let o = 0; o < 64; o += 8, off += stride) {
    const s0 = src[off],
      s1 = src[off + 1],
      s2 = src[off + 2],
      s3 = src[off + 3]
    const s4 = src[off + 4],
      s5 = src[off + 5],
      s6 = src[off + 6],
      s7 = src[off + 7]
    // The -128 level shift of each sample cancels in differences and adds -256 to each pair sum.
    const tmp0 = s0 + s7 - 256,
      tmp7 = s0 - s7
    const tmp1 = s1 + s6 - 256,
      tmp6 = s1 - s6
    const tmp2 = s2 + s5 - 256,
      tmp5 = s2 - s5
    const tmp3 = s3 + s4 - 256,
      tmp4 = s3 - s4
    const tmp10 = tmp0 + tmp3,
      tmp13 = tmp0 - tmp3,
      tmp11 = tmp1 + tmp2,
      tmp12 = tmp1 - tmp2
    d[o] = (tmp10 + tmp11) << PASS1_BITS
    d[o + 4] = (tmp10 - tmp11) << PASS1_BITS
    const z1 = (tmp12 + tmp13) * F_0_541
    d[o + 2] = (z1 + tmp13 * F_0_765 + R1) >> D1
    d[o + 6] = (z1 - tmp12 * F_1_847 + R1) >> D1
    const z5 = (tmp4 + tmp6 + tmp5 + tmp7) * F_1_175
    const a1 = -(tmp4 + tmp7) * F_0_899,
      a2 = -(tmp5 + tmp6) * F_2_562
    const a3 = z5 - (tmp4 + tmp6) * F_1_961,
      a4 = z5 - (tmp5 + tmp7) * F_0_390
    d[o + 7] = (tmp4 * F_0_298 + a1 + a3 + R1) >> D1
    d[o + 5] = (tmp5 * F_2_053 + a2 + a4 + R1) >> D1
    d[o + 3] = (tmp6 * F_3_072 + a2 + a3 + R1) >> D1
    d[o + 1] = (tmp7 * F_1_501 + a1 + a4 + R1) >> D1
  }
}

/** Pass 2 in place: `d` becomes the islow output (natural order). */
export function islowColumns(d: Int32Array): void {
  for (let o = 0; o < 8; o++) {
    const tmp0 = d[o] + d[o + 56],
      tmp7 = d[o] - d[o + 56]
    const tmp1 = d[o + 8] + d[o + 48],
      tmp6 = d[o + 8] - d[o + 48]
    const tmp2 = d[o + 16] + d[o + 40],
      tmp5 = d[o + 16] - d[o + 40]
    const tmp3 = d[o + 24] + d[o + 32],
      tmp4 = d[o + 24] - d[o + 32]
    const tmp10 = tmp0 + tmp3,
      tmp13 = tmp0 - tmp3,
      tmp11 = tmp1 + tmp2,
      tmp12 = tmp1 - tmp2
    d[o] = (tmp10 + tmp11 + RP) >> PASS1_BITS
    d[o + 32] = (tmp10 - tmp11 + RP) >> PASS1_BITS
    const z1 = Math.imul(tmp12 + tmp13, F_0_541)
    d[o + 16] = (((z1 + Math.imul(tmp13, F_0_765)) | 0) + R2) >> D2
    d[o + 48] = (((z1 - Math.imul(tmp12, F_1_847)) | 0) + R2) >> D2
    const z5 = Math.imul(tmp4 + tmp6 + tmp5 + tmp7, F_1_175)
    const a1 = Math.imul(tmp4 + tmp7, -F_0_899),
      a2 = Math.imul(tmp5 + tmp6, -F_2_562)
    const a3 = (z5 - Math.imul(tmp4 + tmp6, F_1_961)) | 0,
      a4 = (z5 - Math.imul(tmp5 + tmp7, F_0_390)) | 0
    d[o + 56] = (((((Math.imul(tmp4, F_0_298) + a1) | 0) + a3) | 0) + R2) >> D2
    d[o + 40] = (((((Math.imul(tmp5, F_2_053) + a2) | 0) + a4) | 0) + R2) >> D2
    d[o + 24] = (((((Math.imul(tmp6, F_3_072) + a2) | 0) + a3) | 0) + R2) >> D2
    d[o + 8] = (((((Math.imul(tmp7, F_1_501) + a1) | 0) + a4) | 0) + R2) >> D2
  }
}

/** Pass 2 fused with quantization: writes the quantized block to `out` at `off` in zigzag order. */
export function islowColumnsQuantize(d: Int32Array, q: Quantizer, out: Int16Array, off: number): void {
  const { corr, scale } = q
  const iz = INVERSE_ZIGZAG
  for (let o = 0; o < 8; o++) {
    const tmp0 = d[o] + d[o + 56],
      tmp7 = d[o] - d[o + 56]
    const tmp1 = d[o + 8] + d[o + 48],
      tmp6 = d[o + 8] - d[o + 48]
    const tmp2 = d[o + 16] + d[o + 40],
      tmp5 = d[o + 16] - d[o + 40]
    const tmp3 = d[o + 24] + d[o + 32],
      tmp4 = d[o + 24] - d[o + 32]
    const tmp10 = tmp0 + tmp3,
      tmp13 = tmp0 - tmp3,
      tmp11 = tmp1 + tmp2,
      tmp12 = tmp1 - tmp2
    out[off + iz[o]] = qz((tmp10 + tmp11 + RP) >> PASS1_BITS, corr[o], scale[o])
    out[off + iz[o + 32]] = qz((tmp10 - tmp11 + RP) >> PASS1_BITS, corr[o + 32], scale[o + 32])
    const z1 = Math.imul(tmp12 + tmp13, F_0_541)
    out[off + iz[o + 16]] = qz((((z1 + Math.imul(tmp13, F_0_765)) | 0) + R2) >> D2, corr[o + 16], scale[o + 16])
    out[off + iz[o + 48]] = qz((((z1 - Math.imul(tmp12, F_1_847)) | 0) + R2) >> D2, corr[o + 48], scale[o + 48])
    const z5 = Math.imul(tmp4 + tmp6 + tmp5 + tmp7, F_1_175)
    const a1 = Math.imul(tmp4 + tmp7, -F_0_899),
      a2 = Math.imul(tmp5 + tmp6, -F_2_562)
    const a3 = (z5 - Math.imul(tmp4 + tmp6, F_1_961)) | 0,
      a4 = (z5 - Math.imul(tmp5 + tmp7, F_0_390)) | 0
    out[off + iz[o + 56]] = qz(
      (((((Math.imul(tmp4, F_0_298) + a1) | 0) + a3) | 0) + R2) >> D2,
      corr[o + 56],
      scale[o + 56],
    )
    out[off + iz[o + 40]] = qz(
      (((((Math.imul(tmp5, F_2_053) + a2) | 0) + a4) | 0) + R2) >> D2,
      corr[o + 40],
      scale[o + 40],
    )
    out[off + iz[o + 24]] = qz(
      (((((Math.imul(tmp6, F_3_072) + a2) | 0) + a3) | 0) + R2) >> D2,
      corr[o + 24],
      scale[o + 24],
    )
    out[off + iz[o + 8]] = qz(
      (((((Math.imul(tmp7, F_1_501) + a1) | 0) + a4) | 0) + R2) >> D2,
      corr[o + 8],
      scale[o + 8],
    )
  }
}
