/**
 * A minimal WebAssembly binary writer: just enough (one memory, i32/v128 functions, the opcodes the codec
 * kernels use) to generate small SIMD kernels at runtime from TypeScript, without a toolchain or a committed
 * binary. Expressions are byte arrays; functions build them and `module()` wraps them. Pure.
 */
export type Code = number[]

export const I32 = 0x7f
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

// SIMD (opcode numbers from the WebAssembly SIMD proposal's binary encoding)
export const vload = (addr: Code, offset: number): Code => [...addr, ...simd(0x00), ...memarg(offset)]
export const vload8x8u = (addr: Code, offset: number): Code => [...addr, ...simd(0x02), ...memarg(offset)]
export const vstore = (addr: Code, value: Code, offset: number): Code => [...addr, ...value, ...simd(0x0b), ...memarg(offset)]
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
    for (let i = 0; i < f.locals.length;) {
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
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(3, vec(funcs.map((_, i) => uleb(i)))),
    ...section(5, vec([[0x00, ...uleb(pages)]])),
    ...section(7, vec(exports)),
    ...section(10, vec(code)),
  ])
}
