/**
 * libjpeg's fast integer forward DCT (jfdctfst.c, jpeg_fdct_ifast: Arai–Agui–Nakajima with 8-bit constants and
 * truncating descale). The output is scaled by the AA&N factors, which the quantizer folds into its divisors
 * (quantize.ts). Row pass fused with sample loading; column pass plain or fused with quantization. Pure.
 */
import type { Quantizer } from './quantize'
import { INVERSE_ZIGZAG, quantizeCoef as qz } from './quantize'

const F_0_382 = 98,
  F_0_541 = 139,
  F_0_707 = 181,
  F_1_306 = 334

/** convsamp + pass 1 (see islowRows). */
export function ifastRows(src: Uint8Array, off: number, stride: number, d: Int32Array): void {
  for (let o = 0; o < 64; o += 8, off += stride) {
    const s0 = src[off],
      s1 = src[off + 1],
      s2 = src[off + 2],
      s3 = src[off + 3]
    const s4 = src[off + 4],
      s5 = src[off + 5],
      s6 = src[off + 6],
      s7 = src[off + 7]
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
    d[o] = tmp10 + tmp11
    d[o + 4] = tmp10 - tmp11
    const z1 = ((tmp12 + tmp13) * F_0_707) >> 8
    d[o + 2] = tmp13 + z1
    d[o + 6] = tmp13 - z1
    const t10 = tmp4 + tmp5,
      t11 = tmp5 + tmp6,
      t12 = tmp6 + tmp7
    const z5 = ((t10 - t12) * F_0_382) >> 8
    const z2 = ((t10 * F_0_541) >> 8) + z5
    const z4 = ((t12 * F_1_306) >> 8) + z5
    const z3 = (t11 * F_0_707) >> 8
    const z11 = tmp7 + z3,
      z13 = tmp7 - z3
    d[o + 5] = z13 + z2
    d[o + 3] = z13 - z2
    d[o + 1] = z11 + z4
    d[o + 7] = z11 - z4
  }
}

/** Pass 2 in place. */
export function ifastColumns(d: Int32Array): void {
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
    d[o] = tmp10 + tmp11
    d[o + 32] = tmp10 - tmp11
    const z1 = Math.imul(tmp12 + tmp13, F_0_707) >> 8
    d[o + 16] = tmp13 + z1
    d[o + 48] = tmp13 - z1
    const t10 = tmp4 + tmp5,
      t11 = tmp5 + tmp6,
      t12 = tmp6 + tmp7
    const z5 = Math.imul(t10 - t12, F_0_382) >> 8
    const z2 = (Math.imul(t10, F_0_541) >> 8) + z5
    const z4 = (Math.imul(t12, F_1_306) >> 8) + z5
    const z3 = Math.imul(t11, F_0_707) >> 8
    const z11 = tmp7 + z3,
      z13 = tmp7 - z3
    d[o + 40] = z13 + z2
    d[o + 24] = z13 - z2
    d[o + 8] = z11 + z4
    d[o + 56] = z11 - z4
  }
}

/** Pass 2 fused with quantization into `out` at `off`, zigzag order. */
export function ifastColumnsQuantize(d: Int32Array, q: Quantizer, out: Int16Array, off: number): void {
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
    out[off + iz[o]] = qz(tmp10 + tmp11, corr[o], scale[o])
    out[off + iz[o + 32]] = qz(tmp10 - tmp11, corr[o + 32], scale[o + 32])
    const z1 = Math.imul(tmp12 + tmp13, F_0_707) >> 8
    out[off + iz[o + 16]] = qz(tmp13 + z1, corr[o + 16], scale[o + 16])
    out[off + iz[o + 48]] = qz(tmp13 - z1, corr[o + 48], scale[o + 48])
    const t10 = tmp4 + tmp5,
      t11 = tmp5 + tmp6,
      t12 = tmp6 + tmp7
    const z5 = Math.imul(t10 - t12, F_0_382) >> 8
    const z2 = (Math.imul(t10, F_0_541) >> 8) + z5
    const z4 = (Math.imul(t12, F_1_306) >> 8) + z5
    const z3 = Math.imul(t11, F_0_707) >> 8
    const z11 = tmp7 + z3,
      z13 = tmp7 - z3
    out[off + iz[o + 40]] = qz(z13 + z2, corr[o + 40], scale[o + 40])
    out[off + iz[o + 24]] = qz(z13 - z2, corr[o + 24], scale[o + 24])
    out[off + iz[o + 8]] = qz(z11 + z4, corr[o + 8], scale[o + 8])
    out[off + iz[o + 56]] = qz(z11 - z4, corr[o + 56], scale[o + 56])
  }
}
