/**
 * libjpeg's islow forward DCT + quantization of one 8x8 block in 16-bit lanes, eight at a time (the way
 * libjpeg-turbo's SIMD code computes it, and to the same integers as fdct-islow.ts + quantize.ts):
 *   load 8 rows (u8 → i16), transpose → pass 1 (the level shift folded into its DC term) (lanes = rows) → transpose → pass 2 (lanes =
 *   columns). Sums stay in i16 (8-bit samples keep every one within ±32768); each rotation is one
 *   i32x4.dot_i16x8_s on interleaved pairs with pre-combined 13-bit constants, e.g. z1 = (tmp12 + tmp13) *
 *   F_0_541; out2 = z1 + tmp13 * F_0_765 becomes tmp13 * (F_0_541 + F_0_765) + tmp12 * F_0_541, exact in i32,
 *   then descaled and narrowed back. Quantization: sign(x) * floor((|x| + corr) * recip / 2^shift) with two
 *   i32x4.dot_i16x8_s (one pmaddwd each, where extending multiplies cost V8 three instructions and i32x4.mul is
 *   slow): X = a * recip as the dot of (a, a) with (recip >> 1, recip - (recip >> 1)), then X's high half
 *   p = floor(X / 2^16) times 2^(32-shift) as the dot of (X low, X high) with (0, 2^(32-shift)), and >> 16.
 *   Exact because every factor fits i16: a = |x| + corr <= 8192 + 1021 (islow outputs are 8x a DCT whose
 *   largest coefficient is 1024; corr <= divisor / 2 + 1), recip <= 65534 (checked by islow16Table), so
 *   0 <= X < 2^31 and p < 2^15; islow divisors are >= 8, so the shift is >= 18 and 2^(32-shift) <= 2^14. The
 *   zigzag reorder is a chain of byte shuffles per output vector instead of 64 scalar moves.
 * Same signature and result as islow-kernel.ts's `block`: zigzag i16 to `out`, returns the zigzag index of the
 * last non-zero coefficient (-1 if none). Pure code generation.
 */
import { ZIGZAG } from '../tables'
import {
  type Code,
  type FuncDef,
  I32,
  get,
  i16x8abs,
  i16x8add,
  i16x8const,
  i16x8narrow,
  i16x8eq,
  i16x8shl,
  i16x8shrS,
  i16x8sub,
  i32add,
  i32c,
  i32mul,
  i32x4add,
  i32x4const,
  i32x4dot16,
  i32x4shrU,
  i32x4shrS,
  shuffle8,
  vload,
  vload8x8u,
  vstore,
  vxor,
  I64,
  i64c,
  i64extendU,
  i64or,
  i64shl,
  i64xor,
  i8x16bitmask,
  i8x16narrow,
  swizzle,
  v128bytes,
  vand,
  i8x16eq,
  i64x2splat,
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
  returnLastNonZero,
} from './block-kernel'

/** Bytes per table: corr as u16[64], reciprocal halves as i16[128], 2^(32 - shift) << 16 as i32[64] (natural order). */
export const ISLOW16_TABLE_BYTES = 640

const lanes16 = (pairs: number[]): number[] => pairs.flatMap((l) => [l * 2, l * 2 + 1])
const LO16 = lanes16([0, 8, 1, 9, 2, 10, 3, 11])
const HI16 = lanes16([4, 12, 5, 13, 6, 14, 7, 15])
const LO32 = [0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23]
const HI32 = [8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31]
const LO64 = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]
const HI64 = [8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31]

/** Where codecKernels() keeps ZIGZAG[k] * 2 (bytes) for kernels that read natural-order blocks in zigzag order. */
export const ZIGZAG_TABLE = 128

/**
 * `block(src, stride, table, out)` (zigzag order out, returns the last non-zero index), or with `natural`
 * `blockNatural(...)`: natural order out, returns the i64 map of non-zero coefficients in zigzag order (bit k
 * = coefficient ZIGZAG[k]), built with byte swizzles of the narrowed != 0 lanes — much cheaper than
 * reordering the coefficients themselves; the entropy coder then loads each non-zero one via ZIGZAG_TABLE.
 */
export function islow16Func(name = 'block', natural = false): FuncDef {
  const f = new BlockFunc()
  islow16Body(f, natural)
  return f.def(name, natural ? I64 : I32)
}

/** The body of islow16Func into `f` (a function's, or inlined: see BlockFunc), leaving its result on the stack. */
export function islow16Body(f: BlockFunc, natural: boolean): void {
  const { let_, body } = f
  const g = get
  const add = (a: number, b: number): Code => i16x8add(g(a), g(b))
  const sub = (a: number, b: number): Code => i16x8sub(g(a), g(b))
  const pairConst = (a: number, b: number): Code => i16x8const([a, b, a, b, a, b, a, b])

  const transpose = (r: number[]): number[] => {
    const a: number[] = [],
      b: number[] = [],
      c: number[] = []
    for (let i = 0; i < 8; i += 2) {
      a.push(let_(shuffle8(g(r[i]), g(r[i + 1]), LO16)))
      a.push(let_(shuffle8(g(r[i]), g(r[i + 1]), HI16)))
    }
    // a = [lo01, hi01, lo23, hi23, lo45, hi45, lo67, hi67]
    for (const [p, q] of [
      [0, 2],
      [1, 3],
      [4, 6],
      [5, 7],
    ]) {
      b.push(let_(shuffle8(g(a[p]), g(a[q]), LO32)))
      b.push(let_(shuffle8(g(a[p]), g(a[q]), HI32)))
    }
    // b = [cols01 rows0-3, cols23 rows0-3, cols45 rows0-3, cols67 rows0-3, then the same for rows 4-7]
    for (let i = 0; i < 4; i++) {
      c.push(let_(shuffle8(g(b[i]), g(b[i + 4]), LO64)))
      c.push(let_(shuffle8(g(b[i]), g(b[i + 4]), HI64)))
    }
    return c
  }

  /** Two dot products (lanes 0-3 and 4-7) of pairs (x, y) with constants (cx, cy): exact i32 sums. */
  const rot = (x: number, y: number) => {
    const lo = let_(shuffle8(g(x), g(y), LO16)),
      hi = let_(shuffle8(g(x), g(y), HI16))
    return (cx: number, cy: number): [number, number] => [
      let_(i32x4dot16(g(lo), pairConst(cx, cy))),
      let_(i32x4dot16(g(hi), pairConst(cx, cy))),
    ]
  }
  const addPair = (p: [number, number], q: [number, number]): [number, number] => [
    let_(i32x4add(g(p[0]), g(q[0]))),
    let_(i32x4add(g(p[1]), g(q[1]))),
  ]
  const descale = (p: [number, number], d: number): number => {
    const r = i32x4const(1 << (d - 1))
    return let_(i16x8narrow(i32x4shrS(i32x4add(g(p[0]), r), d), i32x4shrS(i32x4add(g(p[1]), r), d)))
  }

  const dct1d = (x: number[], pass: 1 | 2): number[] => {
    const d = pass === 1 ? 11 : 15
    const { tmp4, tmp5, tmp6, tmp7, tmp10, tmp11, tmp12, tmp13 } = butterfly(f, x, add, sub)
    const out = new Array<number>(8)
    if (pass === 1) {
      // The -128 level shift of 8 samples, applied here once: it cancels in every difference.
      out[0] = let_(
        i16x8shl(i16x8sub(add(tmp10, tmp11), i16x8const([1024, 1024, 1024, 1024, 1024, 1024, 1024, 1024])), 2),
      )
      out[4] = let_(i16x8shl(sub(tmp10, tmp11), 2))
    } else {
      const two = i16x8const([2, 2, 2, 2, 2, 2, 2, 2])
      out[0] = let_(i16x8shrS(i16x8add(add(tmp10, tmp11), two), 2))
      out[4] = let_(i16x8shrS(i16x8add(sub(tmp10, tmp11), two), 2))
    }
    const even = rot(tmp13, tmp12)
    out[2] = descale(even(F_0_541 + F_0_765, F_0_541), d)
    out[6] = descale(even(F_0_541, F_0_541 - F_1_847), d)
    const z34 = rot(let_(add(tmp4, tmp6)), let_(add(tmp5, tmp7)))
    const a3 = z34(F_1_175 - F_1_961, F_1_175)
    const a4 = z34(F_1_175, F_1_175 - F_0_390)
    const p47 = rot(tmp4, tmp7),
      p56 = rot(tmp5, tmp6)
    out[7] = descale(addPair(p47(F_0_298 - F_0_899, -F_0_899), a3), d)
    out[1] = descale(addPair(p47(-F_0_899, F_1_501 - F_0_899), a4), d)
    out[5] = descale(addPair(p56(F_2_053 - F_2_562, -F_2_562), a4), d)
    out[3] = descale(addPair(p56(-F_2_562, F_3_072 - F_2_562), a3), d)
    return out
  }

  const rows: number[] = []
  for (let r = 0; r < 8; r++) rows.push(let_(vload8x8u(i32add(g(f.src), i32mul(g(f.stride), i32c(r))), 0)))
  const p1 = dct1d(transpose(rows), 1)
  const p2 = dct1d(transpose(p1), 2) // p2[v] = coefficient row v (lanes = u), natural order

  const q: number[] = []
  for (let v = 0; v < 8; v++) {
    const s = let_(i16x8shrS(g(p2[v]), 15))
    const a = let_(i16x8add(i16x8abs(g(p2[v])), vload(g(f.table), v * 16)))
    // X = a * recip (lanes (a, a) · (recip halves)), then (X >> 16) * 2^(32 - shift) >> 16 = X >> shift.
    const half = (lanes: number[], at: number): Code =>
      i32x4shrU(
        i32x4dot16(
          i32x4dot16(shuffle8(g(a), g(a), lanes16(lanes)), vload(g(f.table), at)),
          vload(g(f.table), at + 256),
        ),
        16,
      )
    const t = i16x8narrow(half([0, 0, 1, 1, 2, 2, 3, 3], 128 + v * 32), half([4, 4, 5, 5, 6, 6, 7, 7], 144 + v * 32))
    q.push(let_(i16x8sub(vxor(t, g(s)), g(s))))
    // Stored as soon as it is made: the store orders the next row's table loads after it, so V8 cannot hoist
    // all 32 of them to the top (where they would sit in spilled registers through the whole DCT).
    if (natural) body.push(...vstore(g(f.out), g(q[v]), v * 16))
  }

  if (natural) {
    // The map of zero coefficients (i16x8.eq is one instruction, ne three on x64), inverted once at the end.
    const zero = i32x4const(0)
    const nz: number[] = []
    for (let i = 0; i < 4; i++) nz.push(let_(i8x16narrow(i16x8eq(g(q[2 * i]), zero), i16x8eq(g(q[2 * i + 1]), zero))))
    // Byte r of `rows` = the zero bits of coefficient row r; zigzag word j (16 coefficients) gathers each
    // coefficient's row byte with one swizzle and tests its bit: 4 swizzles with row indices 0..7, where
    // gathering the narrowed lanes themselves took 14.
    const rowBits = (i: number): Code => i64extendU(i8x16bitmask(g(nz[i])))
    const rows = let_(
      i64x2splat(
        i64or(
          i64or(rowBits(0), i64shl(rowBits(1), i64c(16n))),
          i64or(i64shl(rowBits(2), i64c(32n)), i64shl(rowBits(3), i64c(48n))),
        ),
      ),
    )
    const words: Code[] = []
    for (let j = 0; j < 4; j++) {
      const zz = Array.from({ length: 16 }, (_, l) => ZIGZAG[16 * j + l])
      const sel = v128bytes(zz.map((n) => 1 << (n & 7)))
      const bit = i8x16eq(vand(swizzle(g(rows), v128bytes(zz.map((n) => n >> 3))), sel), sel)
      words.push(i64extendU(i8x16bitmask(bit)))
    }
    body.push(
      ...i64xor(
        i64or(
          i64or(words[0], i64shl(words[1], i64c(16n))),
          i64or(i64shl(words[2], i64c(32n)), i64shl(words[3], i64c(48n))),
        ),
        i64c(-1n),
      ),
    )
    return
  }

  // Zigzag: output vector j gathers ZIGZAG[8j..8j+7] from the rows it touches, one shuffle per extra row.
  const zz: number[] = []
  for (let j = 0; j < 8; j++) {
    const want = Array.from({ length: 8 }, (_, i) => ZIGZAG[8 * j + i])
    const rowsUsed = [...new Set(want.map((n) => n >> 3))]
    let acc = -1
    const filled = new Array<boolean>(8).fill(false)
    for (let ri = 0; ri < rowsUsed.length; ri++) {
      const row = rowsUsed[ri]
      const sel: number[] = []
      for (let i = 0; i < 8; i++) {
        if (want[i] >> 3 === row) {
          sel.push(8 + (want[i] & 7))
          filled[i] = true
        } else sel.push(acc >= 0 && filled[i] ? i : 0)
      }
      const lanes = lanes16(sel)
      acc = let_(shuffle8(g(acc >= 0 ? acc : q[row]), g(q[row]), lanes))
    }
    zz.push(acc)
    body.push(...vstore(g(f.out), g(acc), j * 16))
  }

  // Result: zigzag index of the last non-zero coefficient (-1 if none).
  returnLastNonZero(f, (j) => g(zz[j]))
}

/**
 * A quantizer's kernel table from compute_reciprocal triples [reciprocal, correction, shift] (natural order):
 * corr as u16[64]; the reciprocal as i16 pairs (recip >> 1, the rest); 2^(32 - shift) in the high half of
 * i32[64] (the dot products' second factors, see the header).
 */
export function islow16Table(recips: ArrayLike<readonly [number, number, number]>): Uint16Array {
  const t = new Uint16Array(ISLOW16_TABLE_BYTES / 2)
  for (let i = 0; i < 64; i++) {
    const [fq, c, r] = recips[i]
    if (r < 18 || r > 30 || fq > 0xfffe || c > 0x7fff)
      throw new Error('islow 16-bit kernel: divisor out of range (islow divisors are 8..2040)')
    t[i] = c
    t[64 + 2 * i] = fq >> 1
    t[64 + 2 * i + 1] = fq - (fq >> 1)
    t[192 + 2 * i + 1] = 2 ** (32 - r)
  }
  return t
}
