/**
 * A minimal WebAssembly binary writer: just enough (one memory, i32/v128 functions, the opcodes the codec
 * kernels use) to generate small SIMD kernels at runtime from TypeScript, without a toolchain or a committed
 * binary. Expressions are byte arrays; functions build them and `module()` wraps them. Pure.
 */
export type Code = number[]

/** The slice of WebAssembly.Memory the kernels use (the project's lib setting has no WebAssembly typings). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer
  grow(pages: number): number
}

export const I32 = 0x7f
export const I64 = 0x7e
export const V128 = 0x7b

export function uleb(n: number): Code {
  const out: Code = []
  do {
    let b = n & 0x7f
    n >>>= 7
    if (n !== 0) b |= 0x80
    out.push(b)
  } while (n !== 0)
  return out
}

export function sleb(n: number): Code {
  const out: Code = []
  for (;;) {
    const b = n & 0x7f
    n >>= 7
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b)
      return out
    }
    out.push(b | 0x80)
  }
}

/** Signed LEB128 of a 64-bit value (i64.const immediates). */
export function sleb64(n: bigint): Code {
  const out: Code = []
  let v = BigInt.asIntN(64, n)
  for (;;) {
    const b = Number(v & 0x7fn)
    v >>= 7n
    if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) {
      out.push(b)
      return out
    }
    out.push(b | 0x80)
  }
}

function str(s: string): Code {
  const b = Array.from(new TextEncoder().encode(s))
  return [...uleb(b.length), ...b]
}

function vec(items: Code[]): Code {
  return [...uleb(items.length), ...items.flat()]
}

function section(id: number, body: Code): Code {
  return [id, ...uleb(body.length), ...body]
}

const simd = (op: number): Code => [0xfd, ...uleb(op)]
const memarg = (offset: number): Code => [0x00, ...uleb(offset)] // alignment hint 1: any address is valid

// Scalar
export const get = (i: number): Code => [0x20, ...uleb(i)]
export const set = (i: number): Code => [0x21, ...uleb(i)]
export const i32c = (n: number): Code => [0x41, ...sleb(n)]
export const i32add = (a: Code, b: Code): Code => [...a, ...b, 0x6a]
export const i32mul = (a: Code, b: Code): Code => [...a, ...b, 0x6c]
export const load16s = (addr: Code, offset: number): Code => [...addr, 0x2e, ...memarg(offset)]
export const store16 = (addr: Code, value: Code, offset: number): Code => [...addr, ...value, 0x3b, ...memarg(offset)]

export const tee = (i: number): Code => [0x22, ...uleb(i)]
export const i32clz = (a: Code): Code => [...a, 0x67]
export const i32or = (a: Code, b: Code): Code => [...a, ...b, 0x72]
export const i32shl = (a: Code, b: Code): Code => [...a, ...b, 0x74]
/** `a` if `cond` is non-zero, else `b`. */
export const select = (a: Code, b: Code, cond: Code): Code => [...a, ...b, ...cond, 0x1b]
export const i32sub = (a: Code, b: Code): Code => [...a, ...b, 0x6b]
/** `loop ... end` that repeats while `cond` (evaluated at the end of each pass) is non-zero. */
export const doWhile = (body: Code, cond: Code): Code => [0x03, 0x40, ...body, ...cond, 0x0d, 0x00, 0x0b]

// Control flow (block type 0x40: no result). Branch depths count enclosing blocks/loops/ifs from the inside.
export const block = (...body: Code[]): Code => [0x02, 0x40, ...body.flat(), 0x0b]
export const loop = (...body: Code[]): Code => [0x03, 0x40, ...body.flat(), 0x0b]
export const ifThen = (cond: Code, then: Code, otherwise?: Code): Code =>
  otherwise ? [...cond, 0x04, 0x40, ...then, 0x05, ...otherwise, 0x0b] : [...cond, 0x04, 0x40, ...then, 0x0b]
export const br = (depth: number): Code => [0x0c, ...uleb(depth)]
export const brIf = (cond: Code, depth: number): Code => [...cond, 0x0d, ...uleb(depth)]
export const call = (fn: number, ...args: Code[]): Code => [...args.flat(), 0x10, ...uleb(fn)]
export const drop = (e: Code): Code => [...e, 0x1a]

// More scalar i32 / i64
export const load32 = (addr: Code, offset: number): Code => [...addr, 0x28, 0x02, ...uleb(offset)]
export const store32 = (addr: Code, value: Code, offset: number): Code => [
  ...addr,
  ...value,
  0x36,
  0x02,
  ...uleb(offset),
]
export const load8u = (addr: Code, offset: number): Code => [...addr, 0x2d, 0x00, ...uleb(offset)]
export const store8 = (addr: Code, value: Code, offset: number): Code => [
  ...addr,
  ...value,
  0x3a,
  0x00,
  ...uleb(offset),
]
export const load64 = (addr: Code, offset: number): Code => [...addr, 0x29, 0x03, ...uleb(offset)]
export const store64 = (addr: Code, value: Code, offset: number): Code => [
  ...addr,
  ...value,
  0x37,
  0x03,
  ...uleb(offset),
]
export const i32eqz = (a: Code): Code => [...a, 0x45]
export const i32eq = (a: Code, b: Code): Code => [...a, ...b, 0x46]
export const i32ne = (a: Code, b: Code): Code => [...a, ...b, 0x47]
export const i32ltS = (a: Code, b: Code): Code => [...a, ...b, 0x48]
export const i32geS = (a: Code, b: Code): Code => [...a, ...b, 0x4e]
export const i32and = (a: Code, b: Code): Code => [...a, ...b, 0x71]
export const i32xor = (a: Code, b: Code): Code => [...a, ...b, 0x73]
export const i32shrS = (a: Code, b: Code): Code => [...a, ...b, 0x75]
export const i32shrU = (a: Code, b: Code): Code => [...a, ...b, 0x76]
export const i64c = (n: bigint): Code => [0x42, ...sleb64(n)]
export const i64eqz = (a: Code): Code => [...a, 0x50]
export const i64ctz = (a: Code): Code => [...a, 0x7a]
export const i64add = (a: Code, b: Code): Code => [...a, ...b, 0x7c]
export const i64sub = (a: Code, b: Code): Code => [...a, ...b, 0x7d]
export const i64and = (a: Code, b: Code): Code => [...a, ...b, 0x83]
export const i64or = (a: Code, b: Code): Code => [...a, ...b, 0x84]
export const i64xor = (a: Code, b: Code): Code => [...a, ...b, 0x85]
export const i64shl = (a: Code, b: Code): Code => [...a, ...b, 0x86]
export const i64shrU = (a: Code, b: Code): Code => [...a, ...b, 0x88]
export const i32wrap = (a: Code): Code => [...a, 0xa7]
export const i64extendU = (a: Code): Code => [...a, 0xad]

// SIMD (opcode numbers from the WebAssembly SIMD proposal's binary encoding)
export const vload = (addr: Code, offset: number): Code => [...addr, ...simd(0x00), ...memarg(offset)]
export const vload8x8u = (addr: Code, offset: number): Code => [...addr, ...simd(0x02), ...memarg(offset)]
export const vstore = (addr: Code, value: Code, offset: number): Code => [
  ...addr,
  ...value,
  ...simd(0x0b),
  ...memarg(offset),
]
/** v128.store{16,32,64}_lane: stores lane `lane` of `value` (2, 4 or 8 bytes) at `addr + offset`. */
const storeLane =
  (op: number) =>
  (addr: Code, value: Code, offset: number, lane: number): Code => [
    ...addr,
    ...value,
    ...simd(op),
    ...memarg(offset),
    lane,
  ]
export const vstore16lane = storeLane(0x59)
export const vstore32lane = storeLane(0x5a)
export const vstore64lane = storeLane(0x5b)
export function i32x4const(n: number): Code {
  const bytes: number[] = []
  for (let l = 0; l < 4; l++) for (let k = 0; k < 4; k++) bytes.push((n >>> (8 * k)) & 0xff)
  return [...simd(0x0c), ...bytes]
}
/** i8x16.shuffle expressed on i32 lanes: lanes 0..3 pick from `a`, 4..7 from `b`. */
export function shuffle32(a: Code, b: Code, lanes: [number, number, number, number]): Code {
  const bytes: number[] = []
  for (const l of lanes) for (let k = 0; k < 4; k++) bytes.push(l * 4 + k)
  return [...a, ...b, ...simd(0x0d), ...bytes]
}
export const vxor = (a: Code, b: Code): Code => [...a, ...b, ...simd(0x51)]
export const vor = (a: Code, b: Code): Code => [...a, ...b, ...simd(0x50)]
export const vand = (a: Code, b: Code): Code => [...a, ...b, ...simd(0x4e)]
export const i8x16eq = (a: Code, b: Code): Code => [...a, ...b, ...simd(0x23)]
/** i8x16.shuffle: byte i of the result is byte lanes[i] of a:b (0..15 from a, 16..31 from b). */
export const shuffle8 = (a: Code, b: Code, lanes: number[]): Code => {
  if (lanes.length !== 16 || lanes.some((l) => l < 0 || l > 31)) throw new Error('shuffle8 needs 16 lanes in 0..31')
  return [...a, ...b, ...simd(0x0d), ...lanes]
}
export const i64x2splat = (a: Code): Code => [...a, ...simd(0x12)]
export const i64x2extract = (a: Code, lane: number): Code => [...a, ...simd(0x1d), lane]
export const i8x16bitmask = (a: Code): Code => [...a, ...simd(0x64)]
export const i8x16narrow = (a: Code, b: Code): Code => [...a, ...b, ...simd(0x65)]
export const i16x8splat = (a: Code): Code => [...a, ...simd(0x10)]
export const i16x8extLowU8 = (a: Code): Code => [...a, ...simd(0x89)]
export const i16x8extHighU8 = (a: Code): Code => [...a, ...simd(0x8a)]
export const i16x8abs = (a: Code): Code => [...a, ...simd(0x80)]
/** i16x8.q15mulr_sat_s: (a * b + 2^14) >> 15 per lane, saturated. */
export const i16x8q15mulr = (a: Code, b: Code): Code => [...a, ...b, ...simd(0x82)]
export const i16x8shl = (a: Code, n: number): Code => [...a, ...i32c(n), ...simd(0x8b)]
export const i16x8shrS = (a: Code, n: number): Code => [...a, ...i32c(n), ...simd(0x8c)]
export const i16x8add = (a: Code, b: Code): Code => [...a, ...b, ...simd(0x8e)]
export const i16x8sub = (a: Code, b: Code): Code => [...a, ...b, ...simd(0x91)]
export const i16x8eq = (a: Code, b: Code): Code => [...a, ...b, ...simd(0x2d)]
export const i32x4dot16 = (a: Code, b: Code): Code => [...a, ...b, ...simd(0xba)]
/** i32x4.extadd_pairwise_i16x8_s: sums of adjacent signed i16 lane pairs. */
export const i32x4extaddPairwise16s = (a: Code): Code => [...a, ...simd(0x7e)]
export const i32x4extmulLowU16 = (a: Code, b: Code): Code => [...a, ...b, ...simd(0xbe)]
export const i32x4extmulHighU16 = (a: Code, b: Code): Code => [...a, ...b, ...simd(0xbf)]
export function i16x8const(lanes: number[]): Code {
  if (lanes.length !== 8) throw new Error('i16x8 constant needs 8 lanes')
  return [...simd(0x0c), ...lanes.flatMap((n) => [n & 0xff, (n >> 8) & 0xff])]
}
export function v128bytes(bytes: number[]): Code {
  if (bytes.length !== 16) throw new Error('v128 constant needs 16 bytes')
  return [...simd(0x0c), ...bytes.map((b) => b & 0xff)]
}
/** i8x16.swizzle: byte i of the result is a[idx[i]], or 0 when idx[i] >= 16. */
export const swizzle = (a: Code, idx: Code): Code => [...a, ...idx, ...simd(0x0e)]
export const i8x16narrowU = (a: Code, b: Code): Code => [...a, ...b, ...simd(0x66)]
export const i16x8ne = (a: Code, b: Code): Code => [...a, ...b, ...simd(0x2e)]
export const i16x8bitmask = (a: Code): Code => [...a, ...simd(0x84)]
export const i16x8narrowU = (a: Code, b: Code): Code => [...a, ...b, ...simd(0x86)]
export const i16x8narrow = (a: Code, b: Code): Code => [...a, ...b, ...simd(0x85)]
export const i32x4extLowU16 = (a: Code): Code => [...a, ...simd(0xa9)]
export const i32x4extHighU16 = (a: Code): Code => [...a, ...simd(0xaa)]
export const i32x4abs = (a: Code): Code => [...a, ...simd(0xa0)]
export const i32x4shl = (a: Code, n: number): Code => [...a, ...i32c(n), ...simd(0xab)]
export const i32x4shrS = (a: Code, n: number): Code => [...a, ...i32c(n), ...simd(0xac)]
export const i32x4shrU = (a: Code, n: number): Code => [...a, ...i32c(n), ...simd(0xad)]
export const i32x4add = (a: Code, b: Code): Code => [...a, ...b, ...simd(0xae)]
export const i32x4sub = (a: Code, b: Code): Code => [...a, ...b, ...simd(0xb1)]
export const i32x4mul = (a: Code, b: Code): Code => [...a, ...b, ...simd(0xb5)]

export interface FuncDef {
  name: string
  params: number[]
  /** Result types (none when absent). */
  results?: number[]
  /** Extra locals after the params, as value types. */
  locals: number[]
  body: Code
}

/** A module with one exported memory ("memory", `pages` initial 64 KiB pages) and the exported functions. */
export function module(funcs: FuncDef[], pages: number): Uint8Array {
  const types = funcs.map((f) => [0x60, ...vec(f.params.map((p) => [p])), ...vec((f.results ?? []).map((r) => [r]))])
  const code = funcs.map((f) => {
    const groups: Code[] = []
    for (let i = 0; i < f.locals.length; ) {
      let j = i
      while (j < f.locals.length && f.locals[j] === f.locals[i]) j++
      groups.push([...uleb(j - i), f.locals[i]])
      i = j
    }
    const body = [...vec(groups), ...f.body, 0x0b]
    return [...uleb(body.length), ...body]
  })
  const exports = [[...str('memory'), 0x02, 0x00], ...funcs.map((f, i) => [...str(f.name), 0x00, ...uleb(i)])]
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec(types)),
    ...section(3, vec(funcs.map((_, i) => uleb(i)))),
    ...section(5, vec([[0x00, ...uleb(pages)]])),
    ...section(7, vec(exports)),
    ...section(10, vec(code)),
  ])
}
