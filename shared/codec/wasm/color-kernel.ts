/**
 * WebAssembly SIMD colour conversion (jccolor's fixed-point RGB → YCbCr, and its fusion with h2v2 downsampling)
 * for interleaved RGB, four pixels per i32x4: i8x16.swizzle gathers R, G, B of four pixels into zero-extended
 * lanes, the products are exact int32, and results narrow back to bytes. Computes the same integers as
 * color.ts. Loops run whole groups (16 pixels for 4:4:4, 32 pixel pairs for 4:2:0) and may read up to 64 bytes
 * past the last source pixel and write up to 15 samples past a row: callers provide that slack. Pure.
 */
import { Y_COEFFS } from '../color'
import {
  type Code, type FuncDef, I32, V128, doWhile, get, i16x8narrowU, i32c, i32sub, i32x4add, i32x4const, i32x4mul,
  i32x4shrU, i32x4sub, i8x16narrowU, set, shuffle32, swizzle, tee, v128bytes, vload, vstore, i32add,
} from './asm'

const { Y_R, Y_G, Y_B, CB_R, CB_G, CB_B, CR_R, CR_G, CR_B, Y_ROUND, C_ROUND } = Y_COEFFS

/** Swizzle indices picking byte `first + 3 * lane` into the low byte of each i32 lane (others zero). */
function pick(first: number): Code {
  const b: number[] = []
  for (let l = 0; l < 4; l++) b.push(first + 3 * l, 0x80, 0x80, 0x80)
  return v128bytes(b)
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

/** Y, Cb, Cr (i32x4, one pixel per lane) of the four RGB pixels at `addr + offset`, into locals. */
function convert4(body: Code, L: Locals, addr: Code, offset: number): [number, number, number] {
  const v = L.v128(), r = L.v128(), g = L.v128(), b = L.v128()
  body.push(...vload(addr, offset), ...set(v))
  body.push(...swizzle(get(v), pick(0)), ...set(r))
  body.push(...swizzle(get(v), pick(1)), ...set(g))
  body.push(...swizzle(get(v), pick(2)), ...set(b))
  const m = (x: number, c: number): Code => i32x4mul(get(x), i32x4const(c))
  const y = L.v128(), cb = L.v128(), cr = L.v128()
  body.push(...i32x4shrU(i32x4add(i32x4add(i32x4add(m(r, Y_R), m(g, Y_G)), m(b, Y_B)), i32x4const(Y_ROUND)), 16), ...set(y))
  body.push(...i32x4shrU(i32x4add(i32x4sub(i32x4sub(m(b, CB_B), m(r, CB_R)), m(g, CB_G)), i32x4const(C_ROUND)), 16), ...set(cb))
  body.push(...i32x4shrU(i32x4add(i32x4sub(i32x4sub(m(r, CR_R), m(g, CR_G)), m(b, CR_B)), i32x4const(C_ROUND)), 16), ...set(cr))
  return [y, cb, cr]
}

/** Four i32x4 of byte values → one i8x16. */
const pack = (a: number, b: number, c: number, d: number): Code =>
  i8x16narrowU(i16x8narrowU(get(a), get(b)), i16x8narrowU(get(c), get(d)))

/** rgb444(src, y, cb, cr, groups): converts 16 * groups pixels; groups >= 1. */
export function rgb444Func(): FuncDef {
  const SRC = 0, Y = 1, CB = 2, CR = 3, N = 4
  const L = new Locals(5)
  const body: Code = []
  const ys: number[] = [], cbs: number[] = [], crs: number[] = []
  for (let gi = 0; gi < 4; gi++) {
    const [y, cb, cr] = convert4(body, L, get(SRC), gi * 12)
    ys.push(y); cbs.push(cb); crs.push(cr)
  }
  body.push(...vstore(get(Y), pack(ys[0], ys[1], ys[2], ys[3]), 0))
  body.push(...vstore(get(CB), pack(cbs[0], cbs[1], cbs[2], cbs[3]), 0))
  body.push(...vstore(get(CR), pack(crs[0], crs[1], crs[2], crs[3]), 0))
  const bump = (l: number, n: number): Code => [...i32add(get(l), i32c(n)), ...set(l)]
  body.push(...bump(SRC, 48), ...bump(Y, 16), ...bump(CB, 16), ...bump(CR, 16))
  const loop = doWhile(body, [...i32sub(get(N), i32c(1)), ...tee(N)])
  return { name: 'rgb444', params: [I32, I32, I32, I32, I32], locals: L.types, body: loop }
}

/**
 * rgb420(srcA, srcB, yA, yB, cb, cr, groups): for 32 * groups pixel columns of a row pair, Y of both rows and
 * 16 * groups Cb/Cr samples as (sum of the four per-pixel values + bias 1,2,1,2,...) >> 2; groups >= 1.
 */
export function rgb420Func(): FuncDef {
  const SA = 0, SB = 1, YA = 2, YB = 3, CB = 4, CR = 5, N = 6
  const L = new Locals(7)
  const body: Code = []
  const rowCb: number[][] = [[], []], rowCr: number[][] = [[], []]
  for (const [ri, src, ydst] of [[0, SA, YA], [1, SB, YB]] as const) {
    const ys: number[] = []
    for (let gi = 0; gi < 8; gi++) {
      const [y, cb, cr] = convert4(body, L, get(src), gi * 12)
      ys.push(y); rowCb[ri].push(cb); rowCr[ri].push(cr)
    }
    body.push(...vstore(get(ydst), pack(ys[0], ys[1], ys[2], ys[3]), 0))
    body.push(...vstore(get(ydst), pack(ys[4], ys[5], ys[6], ys[7]), 16))
  }
  const biasV = v128bytes([1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0])
  const chroma = (rows: number[][], dst: number): void => {
    const out: number[] = []
    for (let h = 0; h < 4; h++) {
      const pairs = (row: number[]): Code => i32x4add(
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
  body.push(...bump(SA, 96), ...bump(SB, 96), ...bump(YA, 32), ...bump(YB, 32), ...bump(CB, 16), ...bump(CR, 16))
  const loop = doWhile(body, [...i32sub(get(N), i32c(1)), ...tee(N)])
  return { name: 'rgb420', params: [I32, I32, I32, I32, I32, I32, I32], locals: L.types, body: loop }
}
