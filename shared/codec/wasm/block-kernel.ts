/**
 * What the two 8x8 block kernels (islow16-kernel.ts: islow in 16-bit lanes; islow-kernel.ts: ifast in 32-bit
 * lanes) share: the `(src, stride, table, out)` function scaffolding with its v128 temporaries, libjpeg's islow
 * constants, the first butterfly stage of both DCTs, and the "index of the last non-zero coefficient" result the
 * entropy coder stops at. Pure code generation; the emitted bytes are what each kernel wrote on its own before.
 */
import {
  type Code,
  type FuncDef,
  I32,
  V128,
  get,
  i16x8bitmask,
  i16x8ne,
  i32c,
  i32clz,
  i32or,
  i32shl,
  i32sub,
  i32x4const,
  select,
  set,
} from './asm'

/** The parameters of every block kernel, `block(src, stride, table, out)`: local indices 0..3. */
export const SRC = 0,
  STRIDE = 1,
  TABLE = 2,
  OUT = 3

/** jfdctint.c's FIX_0_298631336 .. FIX_3_072711026: the islow constants, scaled by 2^13. */
export const F_0_298 = 2446,
  F_0_390 = 3196,
  F_0_541 = 4433,
  F_0_765 = 6270,
  F_0_899 = 7373,
  F_1_175 = 9633
export const F_1_501 = 12299,
  F_1_847 = 15137,
  F_1_961 = 16069,
  F_2_053 = 16819,
  F_2_562 = 20995,
  F_3_072 = 25172

/**
 * A block kernel's body and locals as it is generated. As a function of its own (`first` 0) the four
 * parameters are locals 0..3; inlined into another function, they are the i32 locals first..first+3 the host
 * declares (followed by `locals`) and sets before the body.
 */
export class BlockFunc {
  readonly locals: number[] = []
  readonly body: Code = []
  readonly src: number
  readonly stride: number
  readonly table: number
  readonly out: number
  private next: number

  constructor(first = 0) {
    this.src = first + SRC
    this.stride = first + STRIDE
    this.table = first + TABLE
    this.out = first + OUT
    this.next = first + 4 // after the four parameters
  }

  /** Evaluates `expr` into a fresh v128 local; returns its index. */
  readonly let_ = (expr: Code): number => {
    this.locals.push(V128)
    this.body.push(...expr, ...set(this.next))
    return this.next++
  }

  /** A fresh local of `type`. */
  local(type: number): number {
    this.locals.push(type)
    return this.next++
  }

  /** The finished function: the block kernels' four i32 parameters, one result. */
  def(name: string, result: number): FuncDef {
    return { name, params: [I32, I32, I32, I32], results: [result], locals: this.locals, body: this.body }
  }
}

/**
 * The first butterfly stage of jfdctint.c and jfdctfst.c, lane-parallel over 8 vectors `x` with the lane width's
 * `add` and `sub`: the odd part's inputs tmp4..7 and the even part's tmp10..13.
 */
export function butterfly(
  f: BlockFunc,
  x: number[],
  add: (a: number, b: number) => Code,
  sub: (a: number, b: number) => Code,
) {
  const let_ = f.let_
  const tmp0 = let_(add(x[0], x[7])),
    tmp7 = let_(sub(x[0], x[7]))
  const tmp1 = let_(add(x[1], x[6])),
    tmp6 = let_(sub(x[1], x[6]))
  const tmp2 = let_(add(x[2], x[5])),
    tmp5 = let_(sub(x[2], x[5]))
  const tmp3 = let_(add(x[3], x[4])),
    tmp4 = let_(sub(x[3], x[4]))
  const tmp10 = let_(add(tmp0, tmp3)),
    tmp13 = let_(sub(tmp0, tmp3))
  const tmp11 = let_(add(tmp1, tmp2)),
    tmp12 = let_(sub(tmp1, tmp2))
  return { tmp4, tmp5, tmp6, tmp7, tmp10, tmp11, tmp12, tmp13 }
}

/**
 * Ends the body with the result: the zigzag index of the last non-zero coefficient (-1 if none), from the
 * zigzag-ordered coefficient vectors `zigzag(j)` (j = 0..7, eight i16 each), via i16x8.ne + bitmask + clz.
 */
export function returnLastNonZero(f: BlockFunc, zigzag: (j: number) => Code): void {
  const zero = i32x4const(0)
  const bits = (j: number): Code => i16x8bitmask(i16x8ne(zigzag(j), zero))
  const word = (j0: number): Code =>
    i32or(
      i32or(bits(j0), i32shl(bits(j0 + 1), i32c(8))),
      i32or(i32shl(bits(j0 + 2), i32c(16)), i32shl(bits(j0 + 3), i32c(24))),
    )
  const hiWord = f.local(I32)
  f.body.push(...word(4), ...set(hiWord))
  f.body.push(...select(i32sub(i32c(63), i32clz(get(hiWord))), i32sub(i32c(31), i32clz(word(0))), get(hiWord)))
}
