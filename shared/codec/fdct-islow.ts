/**
 * libjpeg's accurate integer forward DCT (jfdctint.c, jpeg_fdct_islow: Loeffler–Ligtenberg–Moschytz with
 * 13-bit constants, PASS1_BITS 2). In place on 64 level-shifted samples in natural order; the output is the
 * 2-D DCT scaled up by 8 (the quantizer divides by 8 * q). Plain JS numbers are exact here: intermediate sums
 * stay far below 2^53, and each descaled result fits in int32 before the shift. Pure.
 */
const CONST_BITS = 13
const PASS1_BITS = 2
const F_0_298 = 2446, F_0_390 = 3196, F_0_541 = 4433, F_0_765 = 6270, F_0_899 = 7373, F_1_175 = 9633
const F_1_501 = 12299, F_1_847 = 15137, F_1_961 = 16069, F_2_053 = 16819, F_2_562 = 20995, F_3_072 = 25172

const D1 = CONST_BITS - PASS1_BITS, R1 = 1 << (D1 - 1)
const D2 = CONST_BITS + PASS1_BITS, R2 = 1 << (D2 - 1)
const RP = 1 << (PASS1_BITS - 1)

export function fdctIslow(d: Int32Array): void {
  for (let o = 0; o < 64; o += 8) {
    const tmp0 = d[o] + d[o + 7], tmp7 = d[o] - d[o + 7]
    const tmp1 = d[o + 1] + d[o + 6], tmp6 = d[o + 1] - d[o + 6]
    const tmp2 = d[o + 2] + d[o + 5], tmp5 = d[o + 2] - d[o + 5]
    const tmp3 = d[o + 3] + d[o + 4], tmp4 = d[o + 3] - d[o + 4]
    const tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2
    d[o] = (tmp10 + tmp11) << PASS1_BITS
    d[o + 4] = (tmp10 - tmp11) << PASS1_BITS
    const z1 = (tmp12 + tmp13) * F_0_541
    d[o + 2] = (z1 + tmp13 * F_0_765 + R1) >> D1
    d[o + 6] = (z1 - tmp12 * F_1_847 + R1) >> D1
    const z5 = (tmp4 + tmp6 + tmp5 + tmp7) * F_1_175
    const a1 = -(tmp4 + tmp7) * F_0_899, a2 = -(tmp5 + tmp6) * F_2_562
    const a3 = z5 - (tmp4 + tmp6) * F_1_961, a4 = z5 - (tmp5 + tmp7) * F_0_390
    d[o + 7] = (tmp4 * F_0_298 + a1 + a3 + R1) >> D1
    d[o + 5] = (tmp5 * F_2_053 + a2 + a4 + R1) >> D1
    d[o + 3] = (tmp6 * F_3_072 + a2 + a3 + R1) >> D1
    d[o + 1] = (tmp7 * F_1_501 + a1 + a4 + R1) >> D1
  }
  for (let o = 0; o < 8; o++) {
    const tmp0 = d[o] + d[o + 56], tmp7 = d[o] - d[o + 56]
    const tmp1 = d[o + 8] + d[o + 48], tmp6 = d[o + 8] - d[o + 48]
    const tmp2 = d[o + 16] + d[o + 40], tmp5 = d[o + 16] - d[o + 40]
    const tmp3 = d[o + 24] + d[o + 32], tmp4 = d[o + 24] - d[o + 32]
    const tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2
    d[o] = (tmp10 + tmp11 + RP) >> PASS1_BITS
    d[o + 32] = (tmp10 - tmp11 + RP) >> PASS1_BITS
    const z1 = (tmp12 + tmp13) * F_0_541
    d[o + 16] = (z1 + tmp13 * F_0_765 + R2) >> D2
    d[o + 48] = (z1 - tmp12 * F_1_847 + R2) >> D2
    const z5 = (tmp4 + tmp6 + tmp5 + tmp7) * F_1_175
    const a1 = -(tmp4 + tmp7) * F_0_899, a2 = -(tmp5 + tmp6) * F_2_562
    const a3 = z5 - (tmp4 + tmp6) * F_1_961, a4 = z5 - (tmp5 + tmp7) * F_0_390
    d[o + 56] = (tmp4 * F_0_298 + a1 + a3 + R2) >> D2
    d[o + 40] = (tmp5 * F_2_053 + a2 + a4 + R2) >> D2
    d[o + 24] = (tmp6 * F_3_072 + a2 + a3 + R2) >> D2
    d[o + 8] = (tmp7 * F_1_501 + a1 + a4 + R2) >> D2
  }
}
