/**
 * libjpeg's fast integer forward DCT (jfdctfst.c, jpeg_fdct_ifast: Arai–Agui–Nakajima with 8-bit constants and
 * truncating descale). In place on 64 level-shifted samples; the output is scaled by the AA&N factors, which
 * the quantizer folds into its divisors (see quantize.ts). Pure.
 */
const F_0_382 = 98, F_0_541 = 139, F_0_707 = 181, F_1_306 = 334

export function fdctIfast(d: Int32Array): void {
  for (let o = 0; o < 64; o += 8) {
    const tmp0 = d[o] + d[o + 7], tmp7 = d[o] - d[o + 7]
    const tmp1 = d[o + 1] + d[o + 6], tmp6 = d[o + 1] - d[o + 6]
    const tmp2 = d[o + 2] + d[o + 5], tmp5 = d[o + 2] - d[o + 5]
    const tmp3 = d[o + 3] + d[o + 4], tmp4 = d[o + 3] - d[o + 4]
    let tmp10 = tmp0 + tmp3
    const tmp13 = tmp0 - tmp3
    let tmp11 = tmp1 + tmp2
    let tmp12 = tmp1 - tmp2
    d[o] = tmp10 + tmp11
    d[o + 4] = tmp10 - tmp11
    const z1 = ((tmp12 + tmp13) * F_0_707) >> 8
    d[o + 2] = tmp13 + z1
    d[o + 6] = tmp13 - z1
    tmp10 = tmp4 + tmp5
    tmp11 = tmp5 + tmp6
    tmp12 = tmp6 + tmp7
    const z5 = ((tmp10 - tmp12) * F_0_382) >> 8
    const z2 = ((tmp10 * F_0_541) >> 8) + z5
    const z4 = ((tmp12 * F_1_306) >> 8) + z5
    const z3 = (tmp11 * F_0_707) >> 8
    const z11 = tmp7 + z3, z13 = tmp7 - z3
    d[o + 5] = z13 + z2
    d[o + 3] = z13 - z2
    d[o + 1] = z11 + z4
    d[o + 7] = z11 - z4
  }
  for (let o = 0; o < 8; o++) {
    const tmp0 = d[o] + d[o + 56], tmp7 = d[o] - d[o + 56]
    const tmp1 = d[o + 8] + d[o + 48], tmp6 = d[o + 8] - d[o + 48]
    const tmp2 = d[o + 16] + d[o + 40], tmp5 = d[o + 16] - d[o + 40]
    const tmp3 = d[o + 24] + d[o + 32], tmp4 = d[o + 24] - d[o + 32]
    let tmp10 = tmp0 + tmp3
    const tmp13 = tmp0 - tmp3
    let tmp11 = tmp1 + tmp2
    let tmp12 = tmp1 - tmp2
    d[o] = tmp10 + tmp11
    d[o + 32] = tmp10 - tmp11
    const z1 = ((tmp12 + tmp13) * F_0_707) >> 8
    d[o + 16] = tmp13 + z1
    d[o + 48] = tmp13 - z1
    tmp10 = tmp4 + tmp5
    tmp11 = tmp5 + tmp6
    tmp12 = tmp6 + tmp7
    const z5 = ((tmp10 - tmp12) * F_0_382) >> 8
    const z2 = ((tmp10 * F_0_541) >> 8) + z5
    const z4 = ((tmp12 * F_1_306) >> 8) + z5
    const z3 = (tmp11 * F_0_707) >> 8
    const z11 = tmp7 + z3, z13 = tmp7 - z3
    d[o + 40] = z13 + z2
    d[o + 24] = z13 - z2
    d[o + 8] = z11 + z4
    d[o + 56] = z11 - z4
  }
}
