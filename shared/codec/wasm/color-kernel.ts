/**
 * WebAssembly SIMD colour conversion (jccolor's fixed-point RGB → YCbCr, and its fusion with h2v2 downsampling)
 * for interleaved RGB or RGBA, four pixels per i32x4: i8x16.swizzle gathers (G, G) and (B, R) pairs of four
 * pixels into i16 lanes, their difference (G - B, G - R) takes one i32x4.dot_i16x8_s per exact int32 sum, and
 * results narrow back to bytes. Computes the same integers as color.ts. Loops run whole groups (16 pixels for
 * 4:4:4, 32 pixel pairs for 4:2:0) and may read up to 64 bytes past the last source pixel and write up to 15
 * samples past a row: callers provide that slack. Pure.
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
  i32x4extaddPairwise16s,
  i32x4shrU,
  i16x8add,
  i16x8const,
  i16x8shrS,
  i16x8sub,
  i32x4shl,
  i8x16narrowU,
  set,
  swizzle,
  tee,
  v128bytes,
  vload,
  vstore32lane,
  vstore64lane,
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
// The identities convert4 rests on: the Y factors sum to 1 and each chroma row has a 0.5 factor balancing the other two.
if (Y_R + Y_G + Y_B !== 65536 || CB_B !== 32768 || CB_R + CB_G !== 32768 || CR_R !== 32768 || CR_G + CR_B !== 32768)
  throw new Error('colour kernel: unexpected jccolor constants')

/**
 * Y, Cb, Cr (i32x4, one pixel per lane) of the four pixels at `addr + offset` (`stride` 3: RGB, 4: RGBA),
 * into locals. With the i16 lane pair d = (G - B, G - R), each jccolor sum is one i32x4.dot_i16x8_s with 16-bit
 * constants, exactly (the factors sum to 1 and 0.5): Y·2^16 = G·2^16 - Y_B·(G - B) - Y_R·(G - R),
 * Cb = -0.5·(G - B) + CB_R·(G - R), Cr = CR_B·(G - B) - 0.5·(G - R).
 */
function convert4(body: Code, L: Locals, addr: Code, offset: number, stride: number): [number, number, number] {
  const v = L.v128(),
    gg = L.v128(),
    d = L.v128()
  body.push(...vload(addr, offset), ...set(v))
  body.push(...swizzle(get(v), pairs(stride, 1, 1)), ...set(gg))
  body.push(...i16x8sub(get(gg), swizzle(get(v), pairs(stride, 2, 0))), ...set(d))
  const y = L.v128(),
    cb = L.v128(),
    cr = L.v128()
  body.push(
    ...i32x4shrU(
      i32x4add(i32x4add(i32x4shl(get(gg), 16), i32x4dot16(get(d), pair(-Y_B, -Y_R))), i32x4const(Y_ROUND)),
      16,
    ),
    ...set(y),
  )
  const c = (k: Code): Code => i32x4shrU(i32x4add(i32x4dot16(get(d), k), i32x4const(C_ROUND)), 16)
  body.push(...c(pair(-32768, CB_R)), ...set(cb))
  body.push(...c(pair(CR_B, -32768)), ...set(cr))
  return [y, cb, cr]
}

/**
 * rgb444(src, y, cb, cr, groups): converts 16 * groups pixels (`stride` bytes each: 3 rgb, 4 rgba); groups >= 1.
 * Works in chunks of 8 pixels whose bytes are stored (8 per plane) before the next chunk is loaded: the
 * stores pin the order, so the compiler cannot hoist all loads and run out of registers.
 */
export function rgb444Func(name = 'rgb444', stride = 3): FuncDef {
  const SRC = 0,
    Y = 1,
    CB = 2,
    CR = 3,
    N = 4
  const L = new Locals(5)
  const body: Code = []
  for (let chunk = 0; chunk < 2; chunk++) {
    const [y0, cb0, cr0] = convert4(body, L, get(SRC), chunk * 8 * stride, stride)
    const [y1, cb1, cr1] = convert4(body, L, get(SRC), (chunk * 8 + 4) * stride, stride)
    const ycb = L.v128(),
      cr = L.v128()
    body.push(...i8x16narrowU(i16x8narrowU(get(y0), get(y1)), i16x8narrowU(get(cb0), get(cb1))), ...set(ycb))
    body.push(...i16x8narrowU(get(cr0), get(cr1)), ...set(cr))
    body.push(...i8x16narrowU(get(cr), get(cr)), ...set(cr))
    body.push(...vstore64lane(get(Y), get(ycb), chunk * 8, 0), ...vstore64lane(get(CB), get(ycb), chunk * 8, 1))
    body.push(...vstore64lane(get(CR), get(cr), chunk * 8, 0))
  }
  const bump = (l: number, n: number): Code => [...i32add(get(l), i32c(n)), ...set(l)]
  body.push(...bump(SRC, 16 * stride), ...bump(Y, 16), ...bump(CB, 16), ...bump(CR, 16))
  const loop = doWhile(body, [...i32sub(get(N), i32c(1)), ...tee(N)])
  return { name, params: [I32, I32, I32, I32, I32], locals: L.types, body: loop }
}

/**
 * rgb420(srcA, srcB, yA, yB, cb, cr, groups): for 32 * groups pixel columns of a row pair, Y of both rows and
 * 16 * groups Cb/Cr samples as (sum of the four per-pixel values + bias 1,2,1,2,...) >> 2; groups >= 1.
 * Works in chunks of 8 columns (4 chroma samples) stored before the next chunk is loaded (the stores pin the
 * order, so the compiler cannot hoist all loads and run out of registers). The two rows' per-pixel chroma
 * values are added (i32), narrowed to i16 and summed in horizontal pairs by i32x4.extadd_pairwise_i16x8_s;
 * bias and shift then run on Cb and Cr together in i16 lanes (sums stay <= 1022).
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
  const bias = i16x8const([1, 2, 1, 2, 1, 2, 1, 2])
  for (let chunk = 0; chunk < 4; chunk++) {
    const at = chunk * 8 * stride
    const half = (off: number): [number, number] => {
      const [ya, cba, cra] = convert4(body, L, get(SA), at + off * stride, stride)
      const [yb, cbb, crb] = convert4(body, L, get(SB), at + off * stride, stride)
      const yy = L.v128(),
        cb = L.v128(),
        cr = L.v128()
      body.push(...i16x8narrowU(get(ya), get(yb)), ...set(yy))
      body.push(...i8x16narrowU(get(yy), get(yy)), ...set(yy))
      const o = chunk * 8 + off
      body.push(...vstore32lane(get(YA), get(yy), o, 0), ...vstore32lane(get(YB), get(yy), o, 1))
      body.push(...i32x4add(get(cba), get(cbb)), ...set(cb))
      body.push(...i32x4add(get(cra), get(crb)), ...set(cr))
      return [cb, cr]
    }
    const [cb0, cr0] = half(0)
    const [cb1, cr1] = half(4)
    const cc = L.v128()
    const pairSums = (s0: number, s1: number): Code => i32x4extaddPairwise16s(i16x8narrowU(get(s0), get(s1)))
    body.push(...i16x8shrS(i16x8add(i16x8narrowU(pairSums(cb0, cb1), pairSums(cr0, cr1)), bias), 2), ...set(cc))
    body.push(...i8x16narrowU(get(cc), get(cc)), ...set(cc))
    body.push(...vstore32lane(get(CB), get(cc), chunk * 4, 0), ...vstore32lane(get(CR), get(cc), chunk * 4, 1))
  }
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
