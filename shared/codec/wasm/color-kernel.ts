/**
 * WebAssembly SIMD colour conversion (jccolor's fixed-point RGB → YCbCr, and its fusion with h2v2 downsampling)
 * for interleaved RGB or RGBA, four pixels per i32x4: i8x16.swizzle gathers (R, G) and (B, G) pairs of four
 * pixels into i16 lanes, i32x4.dot_i16x8_s forms the exact int32 sums, and results narrow back to bytes. Computes the same integers as
 * color.ts. Loops run whole groups (16 pixels for 4:4:4, 32 pixel pairs for 4:2:0) and may read up to 64 bytes
 * past the last source pixel and write up to 15 samples past a row: callers provide that slack. Pure.
 */
import { Y_COEFFS } from '../color'
import {
  type Code,
  type FuncDef,
  I32,
  V128,
  doWhile,
  get,
  i16x8narrowU,
  i32c,
  i32sub,
  i32x4add,
  i32x4const,
  i32x4dot16,
  i32x4shl,
  i32x4shrU,
  i8x16narrowU,
  set,
  shuffle32,
  swizzle,
  tee,
  v128bytes,
  vload,
  vstore,
  i32add,
} from './asm'

const { Y_R, Y_G, Y_B, CB_R, CB_G, CB_B, CR_R, CR_G, CR_B, Y_ROUND, C_ROUND } = Y_COEFFS

/** Swizzle indices: i16 lanes (byte at `a + stride * pixel`, byte at `b + stride * pixel`) for 4 pixels, zero-extended. */
function pairs(stride: number, a: number, b: number): Code {
  const x: number[] = []
  for (let l = 0; l < 4; l++) x.push(a + stride * l, 0x80, b + stride * l, 0x80)
  return v128bytes(x)
}

class Locals {
  readonly types: number[] = []
  constructor(private readonly base: number) {}
  v128(): number {
    this.types.push(V128)
    return this.base + this.types.length - 1
  }
  i32(): number {
    this.types.push(I32)
    return this.base + this.types.length - 1
  }
}

const pair = (a: number, b: number): Code =>
  v128bytes([a, a >> 8, b, b >> 8, a, a >> 8, b, b >> 8, a, a >> 8, b, b >> 8, a, a >> 8, b, b >> 8])
if (Y_G % 2 !== 0 || CB_B !== 32768 || CR_R !== 32768) throw new Error('colour kernel: unexpected jccolor constants')

/**
 * Y, Cb, Cr (i32x4, one pixel per lane) of the four pixels at `addr + offset` (`stride` 3: RGB, 4: RGBA),
 * into locals. Each sum is the exact jccolor integer: i32x4.dot_i16x8_s on (R, G) and (B, G) lane pairs with
 * 16-bit constants (Y's G factor split in halves), and the 0.5 factors (32768, beyond i16) as a shift by 15.
 */
function convert4(body: Code, L: Locals, addr: Code, offset: number, stride: number): [number, number, number] {
  const v = L.v128(),
    rg = L.v128(),
    bg = L.v128()
  body.push(...vload(addr, offset), ...set(v))
  body.push(...swizzle(get(v), pairs(stride, 0, 1)), ...set(rg))
  body.push(...swizzle(get(v), pairs(stride, 2, 1)), ...set(bg))
  // (x & 0xffff) << 15 of each i32 lane: the lane's low i16 (R of rg, B of bg) times 32768.
  const half = (x: number): Code => i32x4shrU(i32x4shl(get(x), 16), 1)
  const y = L.v128(),
    cb = L.v128(),
    cr = L.v128()
  body.push(
    ...i32x4shrU(
      i32x4add(
        i32x4add(i32x4dot16(get(rg), pair(Y_R, Y_G / 2)), i32x4dot16(get(bg), pair(Y_B, Y_G / 2))),
        i32x4const(Y_ROUND),
      ),
      16,
    ),
    ...set(y),
  )
  body.push(
    ...i32x4shrU(i32x4add(i32x4add(i32x4dot16(get(rg), pair(-CB_R, -CB_G)), half(bg)), i32x4const(C_ROUND)), 16),
    ...set(cb),
  )
  body.push(
    ...i32x4shrU(i32x4add(i32x4add(i32x4dot16(get(bg), pair(-CR_B, -CR_G)), half(rg)), i32x4const(C_ROUND)), 16),
    ...set(cr),
  )
  return [y, cb, cr]
}

/** Four i32x4 of byte values → one i8x16. */
const pack = (a: number, b: number, c: number, d: number): Code =>
  i8x16narrowU(i16x8narrowU(get(a), get(b)), i16x8narrowU(get(c), get(d)))

/** rgb444(src, y, cb, cr, groups): converts 16 * groups pixels (`stride` bytes each: 3 rgb, 4 rgba); groups >= 1. */
export function rgb444Func(name = 'rgb444', stride = 3): FuncDef {
  const SRC = 0,
    Y = 1,
    CB = 2,
    CR = 3,
    N = 4
  const L = new Locals(5)
  const body: Code = []
  const ys: number[] = [],
    cbs: number[] = [],
    crs: number[] = []
  for (let gi = 0; gi < 4; gi++) {
    const [y, cb, cr] = convert4(body, L, get(SRC), gi * 4 * stride, stride)
    ys.push(y)
    cbs.push(cb)
    crs.push(cr)
  }
  body.push(...vstore(get(Y), pack(ys[0], ys[1], ys[2], ys[3]), 0))
  body.push(...vstore(get(CB), pack(cbs[0], cbs[1], cbs[2], cbs[3]), 0))
  body.push(...vstore(get(CR), pack(crs[0], crs[1], crs[2], crs[3]), 0))
  const bump = (l: number, n: number): Code => [...i32add(get(l), i32c(n)), ...set(l)]
  body.push(...bump(SRC, 16 * stride), ...bump(Y, 16), ...bump(CB, 16), ...bump(CR, 16))
  const loop = doWhile(body, [...i32sub(get(N), i32c(1)), ...tee(N)])
  return { name, params: [I32, I32, I32, I32, I32], locals: L.types, body: loop }
}

/**
 * rgb420(srcA, srcB, yA, yB, cb, cr, groups): for 32 * groups pixel columns of a row pair, Y of both rows and
 * 16 * groups Cb/Cr samples as (sum of the four per-pixel values + bias 1,2,1,2,...) >> 2; groups >= 1.
 */
export function rgb420Func(name = 'rgb420', stride = 3): FuncDef {
  const SA = 0,
    SB = 1,
    YA = 2,
    YB = 3,
    CB = 4,
    CR = 5,
    N = 6
  const L = new Locals(7)
  const body: Code = []
  const rowCb: number[][] = [[], []],
    rowCr: number[][] = [[], []]
  for (const [ri, src, ydst] of [
    [0, SA, YA],
    [1, SB, YB],
  ] as const) {
    const ys: number[] = []
    for (let gi = 0; gi < 8; gi++) {
      const [y, cb, cr] = convert4(body, L, get(src), gi * 4 * stride, stride)
      ys.push(y)
      rowCb[ri].push(cb)
      rowCr[ri].push(cr)
    }
    body.push(...vstore(get(ydst), pack(ys[0], ys[1], ys[2], ys[3]), 0))
    body.push(...vstore(get(ydst), pack(ys[4], ys[5], ys[6], ys[7]), 16))
  }
  const biasV = v128bytes([1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0])
  const chroma = (rows: number[][], dst: number): void => {
    const out: number[] = []
    for (let h = 0; h < 4; h++) {
      const pairs = (row: number[]): Code =>
        i32x4add(
          shuffle32(get(row[2 * h]), get(row[2 * h + 1]), [0, 2, 4, 6]),
          shuffle32(get(row[2 * h]), get(row[2 * h + 1]), [1, 3, 5, 7]),
        )
      const s = L.v128()
      body.push(...i32x4shrU(i32x4add(i32x4add(pairs(rows[0]), pairs(rows[1])), biasV), 2), ...set(s))
      out.push(s)
    }
    body.push(...vstore(get(dst), pack(out[0], out[1], out[2], out[3]), 0))
  }
  chroma(rowCb, CB)
  chroma(rowCr, CR)
  const bump = (l: number, n: number): Code => [...i32add(get(l), i32c(n)), ...set(l)]
  body.push(
    ...bump(SA, 32 * stride),
    ...bump(SB, 32 * stride),
    ...bump(YA, 32),
    ...bump(YB, 32),
    ...bump(CB, 16),
    ...bump(CR, 16),
  )
  const loop = doWhile(body, [...i32sub(get(N), i32c(1)), ...tee(N)])
  return { name, params: [I32, I32, I32, I32, I32, I32, I32], locals: L.types, body: loop }
}
