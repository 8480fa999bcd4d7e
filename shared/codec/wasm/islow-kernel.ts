/**
 * WebAssembly SIMD kernel for the encoder's hot path: libjpeg's islow (or ifast) forward DCT plus quantization
 * of one 8x8 block, generated at first use with asm.ts (no toolchain, no binary in the repository). It computes
 * the same integers as fdct-islow.ts / fdct-ifast.ts + quantize.ts, four lanes at a time:
 *   load 8 rows of samples, level shift, transpose → pass 1 on rows (lanes = rows) → transpose → pass 2 on
 *   columns (lanes = columns) → quantize as libjpeg-turbo's SIMD code does (|x| + corr) * recip >> 16, then
 *   * 2^(32 - shift) >> 16, sign restored → narrow to i16 → zigzag scatter to the output block; returns the
 *   zigzag index of the last non-zero coefficient (i16x8.ne + bitmask + clz) for the entropy coder.
 * Every intermediate fits int32 for 8-bit samples (see fdct-islow.ts), so wrapping i32x4 arithmetic is exact.
 * The two-step shift needs shift >= 16: true for all divisors >= 2 (islow's are >= 8); ifast's divisor 1 is
 * rewritten as reciprocal 2^16, shift 16 (kernelTable).
 * The TypeScript path is the reference and the fallback (kernels.ts).
 */
import { ZIGZAG } from '../tables'
import {
  type Code,
  I32,
  get,
  i16x8narrow,
  i32add,
  i32c,
  i32mul,
  i32x4abs,
  i32x4add,
  i32x4const,
  i32x4extHighU16,
  i32x4extLowU16,
  i32x4mul,
  i32x4shl,
  i32x4shrS,
  i32x4shrU,
  i32x4sub,
  load16s,
  shuffle32,
  store16,
  vload,
  vload8x8u,
  vstore,
  vxor,
  type FuncDef,
} from './asm'
import {
  BlockFunc,
  butterfly,
  F_0_298,
  F_0_390,
  F_0_541,
  F_0_765,
  F_0_899,
  F_1_175,
  F_1_501,
  F_1_847,
  F_1_961,
  F_2_053,
  F_2_562,
  F_3_072,
  OUT,
  returnLastNonZero,
  SRC,
  STRIDE,
  TABLE,
} from './block-kernel'

/** The `block(src, stride, table, out)` function (islow), or `blockFast` (ifast) with `fast`. */
export function islowFunc(fast = false): FuncDef {
  const f = new BlockFunc()
  const { let_, body } = f
  const g = get
  const add = (a: number, b: number): Code => i32x4add(g(a), g(b))
  const sub = (a: number, b: number): Code => i32x4sub(g(a), g(b))
  const mulc = (e: Code, c: number): Code => i32x4mul(e, i32x4const(c))

  const transpose = (a: number, b: number, c: number, d: number): number[] => {
    const t0 = let_(shuffle32(g(a), g(b), [0, 4, 1, 5]))
    const t1 = let_(shuffle32(g(a), g(b), [2, 6, 3, 7]))
    const t2 = let_(shuffle32(g(c), g(d), [0, 4, 1, 5]))
    const t3 = let_(shuffle32(g(c), g(d), [2, 6, 3, 7]))
    return [
      let_(shuffle32(g(t0), g(t2), [0, 1, 4, 5])),
      let_(shuffle32(g(t0), g(t2), [2, 3, 6, 7])),
      let_(shuffle32(g(t1), g(t3), [0, 1, 4, 5])),
      let_(shuffle32(g(t1), g(t3), [2, 3, 6, 7])),
    ]
  }

  /** One 1-D islow pass over 8 vectors (lane-parallel); pass 1 and 2 differ only in descaling. */
  const dct1d = (x: number[], pass: 1 | 2): number[] => {
    const d = pass === 1 ? 11 : 15
    const r = i32x4const(1 << (d - 1))
    const { tmp4, tmp5, tmp6, tmp7, tmp10, tmp11, tmp12, tmp13 } = butterfly(f, x, add, sub)
    const out = new Array<number>(8)
    if (pass === 1) {
      out[0] = let_(i32x4shl(add(tmp10, tmp11), 2))
      out[4] = let_(i32x4shl(sub(tmp10, tmp11), 2))
    } else {
      out[0] = let_(i32x4shrS(i32x4add(add(tmp10, tmp11), i32x4const(2)), 2))
      out[4] = let_(i32x4shrS(i32x4add(sub(tmp10, tmp11), i32x4const(2)), 2))
    }
    const z1 = let_(mulc(add(tmp12, tmp13), F_0_541))
    out[2] = let_(i32x4shrS(i32x4add(i32x4add(g(z1), mulc(g(tmp13), F_0_765)), r), d))
    out[6] = let_(i32x4shrS(i32x4add(i32x4sub(g(z1), mulc(g(tmp12), F_1_847)), r), d))
    const z5 = let_(mulc(i32x4add(add(tmp4, tmp6), add(tmp5, tmp7)), F_1_175))
    const a1 = let_(mulc(add(tmp4, tmp7), -F_0_899))
    const a2 = let_(mulc(add(tmp5, tmp6), -F_2_562))
    const a3 = let_(i32x4sub(g(z5), mulc(add(tmp4, tmp6), F_1_961)))
    const a4 = let_(i32x4sub(g(z5), mulc(add(tmp5, tmp7), F_0_390)))
    const odd = (t: number, c: number, p: number, q: number): number =>
      let_(i32x4shrS(i32x4add(i32x4add(i32x4add(mulc(g(t), c), g(p)), g(q)), r), d))
    out[7] = odd(tmp4, F_0_298, a1, a3)
    out[5] = odd(tmp5, F_2_053, a2, a4)
    out[3] = odd(tmp6, F_3_072, a2, a3)
    out[1] = odd(tmp7, F_1_501, a1, a4)
    return out
  }

  /** One 1-D ifast (AA&N) pass: 8-bit constants, truncating >> 8, no descaling (jfdctfst.c). */
  const ifast1d = (x: number[]): number[] => {
    const m8 = (e: Code, c: number): Code => i32x4shrS(i32x4mul(e, i32x4const(c)), 8)
    const { tmp4, tmp5, tmp6, tmp7, tmp10, tmp11, tmp12, tmp13 } = butterfly(f, x, add, sub)
    const out = new Array<number>(8)
    out[0] = let_(add(tmp10, tmp11))
    out[4] = let_(sub(tmp10, tmp11))
    const z1 = let_(m8(add(tmp12, tmp13), 181))
    out[2] = let_(add(tmp13, z1))
    out[6] = let_(sub(tmp13, z1))
    const t10 = let_(add(tmp4, tmp5)),
      t11 = let_(add(tmp5, tmp6)),
      t12 = let_(add(tmp6, tmp7))
    const z5 = let_(m8(sub(t10, t12), 98))
    const z2 = let_(i32x4add(m8(g(t10), 139), g(z5)))
    const z4 = let_(i32x4add(m8(g(t12), 334), g(z5)))
    const z3 = let_(m8(g(t11), 181))
    const z11 = let_(add(tmp7, z3)),
      z13 = let_(sub(tmp7, z3))
    out[5] = let_(add(z13, z2))
    out[3] = let_(sub(z13, z2))
    out[1] = let_(add(z11, z4))
    out[7] = let_(sub(z11, z4))
    return out
  }

  // Load rows (8 bytes each, zero-extended), split into lanes 0-3 / 4-7 and level-shift.
  const lo: number[] = [],
    hi: number[] = []
  const c128 = i32x4const(128)
  for (let row = 0; row < 8; row++) {
    const w = let_(vload8x8u(i32add(g(SRC), i32mul(g(STRIDE), i32c(row))), 0))
    lo.push(let_(i32x4sub(i32x4extLowU16(g(w)), c128)))
    hi.push(let_(i32x4sub(i32x4extHighU16(g(w)), c128)))
  }
  // Columns as vectors (lanes = rows 0-3, and rows 4-7), pass 1 along each row.
  const colsTop = [...transpose(lo[0], lo[1], lo[2], lo[3]), ...transpose(hi[0], hi[1], hi[2], hi[3])]
  const colsBottom = [...transpose(lo[4], lo[5], lo[6], lo[7]), ...transpose(hi[4], hi[5], hi[6], hi[7])]
  const pTop = fast ? ifast1d(colsTop) : dct1d(colsTop, 1)
  const pBottom = fast ? ifast1d(colsBottom) : dct1d(colsBottom, 1)
  // Rows as vectors again (lanes = coefficient columns 0-3, and 4-7), pass 2 along each column.
  const rowsLo = [
    ...transpose(pTop[0], pTop[1], pTop[2], pTop[3]),
    ...transpose(pBottom[0], pBottom[1], pBottom[2], pBottom[3]),
  ]
  const rowsHi = [
    ...transpose(pTop[4], pTop[5], pTop[6], pTop[7]),
    ...transpose(pBottom[4], pBottom[5], pBottom[6], pBottom[7]),
  ]
  const uLo = fast ? ifast1d(rowsLo) : dct1d(rowsLo, 2)
  const uHi = fast ? ifast1d(rowsHi) : dct1d(rowsHi, 2)

  // Quantize (natural index u*8 + lane [+4]) and store row u of the block to the scratch area.
  const quant = (x: number, base: number): Code => {
    const s = let_(i32x4shrS(g(x), 31))
    const p = i32x4shrU(
      i32x4mul(i32x4add(i32x4abs(g(x)), vload(g(TABLE), base * 4)), vload(g(TABLE), 256 + base * 4)),
      16,
    )
    const q = i32x4shrU(i32x4mul(p, vload(g(TABLE), 512 + base * 4)), 16)
    return i32x4sub(vxor(q, g(s)), g(s))
  }
  for (let u = 0; u < 8; u++) {
    body.push(...vstore(i32c(0), i16x8narrow(quant(uLo[u], u * 8), quant(uHi[u], u * 8 + 4)), u * 16))
  }
  for (let k = 0; k < 64; k++) body.push(...store16(g(OUT), load16s(i32c(0), ZIGZAG[k] * 2), k * 2))

  // Result: zigzag index of the last non-zero coefficient (-1 if none), so the entropy coder can stop there.
  returnLastNonZero(f, (j) => vload(g(OUT), j * 16))
  return f.def(fast ? 'blockFast' : 'block', I32)
}

/** A quantizer's kernel table (corr, reciprocal, 2^(32-shift) as i32[64] each) from compute_reciprocal triples. */
export function kernelTable(recips: ArrayLike<readonly [number, number, number]>): Int32Array {
  const v = new Int32Array(192)
  for (let i = 0; i < 64; i++) {
    let [fq, c, r] = recips[i]
    // Divisor 1 (ifast only) is the identity; (|x| * 2^16) >> 16 keeps it within the two-step form.
    if (fq === 1 && c === 0 && r === 0) {
      fq = 65536
      r = 16
    }
    if (r < 16) throw new Error('DCT kernel: quantizer shift below 16')
    v[i] = c
    v[64 + i] = fq
    v[128 + i] = 2 ** (32 - r)
  }
  return v
}
