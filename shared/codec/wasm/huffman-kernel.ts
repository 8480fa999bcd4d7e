/**
 * WebAssembly Huffman coding of one run of blocks (jchuff.c encode_mcu_huff with libjpeg-turbo's SIMD-era
 * tricks), fused with the DCT + quantization kernel so the coefficients of a block never leave it:
 *   for each block of a block plan: DCT + quantize (a call into the DCT kernel, zigzag order to a scratch
 *   block) → a 64-bit map of the non-zero coefficients (i16x8.ne, narrow, bitmask) → DC difference, then each
 *   non-zero AC coefficient found with ctz (runs of zeros are skipped, not scanned) → codes into a 64-bit bit
 *   buffer; a full buffer goes out as 8 big-endian bytes at once unless one of them is 0xFF (checked for the
 *   whole word at once), in which case the bytes go out one by one with 0x00 stuffed after each 0xFF.
 * With the DCT inlined (the islow path) this runs in two phases: DCT + quantize every block of the run into its
 * own COEF_SLOT_BYTES slot, then Huffman-code them all. Each loop then keeps its own working set in registers
 * (the DCT's v128 constants, the coder's bit buffer and pointers) instead of both competing in one loop body.
 * Produces the same bits as entropy.ts + bit-writer.ts (the reference and the fallback). Pure code generation.
 *
 * Memory the caller lays out (all 4-aligned):
 *   block plan: PLAN_ENTRY_BYTES per block in MCU order: i32 src (0 = dummy block: DC difference 0 and EOB, as
 *     libjpeg's dummy blocks code), i32 stride, i32 quant table, i32 Huffman table, i32 address of the
 *     component's last DC (in the state), i32 keep: coefficients kept in zig-zag order, 0..64 (block-keep.ts;
 *     the rest count as zero, so the AC scan stops there and EOB follows; 0 zeroes the DC too).
 *   Huffman table: HUFF_TABLE_BYTES: 16 DC entries, then 256 AC entries, each i32 (code << 8) | length.
 *   state: STATE_BYTES: i64 bit buffer, i32 free bits (64 = empty), pad, i32 last DC per component.
 */
import {
  type Code,
  type FuncDef,
  I32,
  I64,
  block,
  br,
  brIf,
  call,
  drop,
  get,
  i16x8ne,
  i32add,
  i32and,
  i32c,
  i32clz,
  i32eq,
  i32eqz,
  i32geS,
  i32ltS,
  i32ne,
  i32or,
  i32shl,
  i32shrS,
  i32shrU,
  i32sub,
  i32wrap,
  i32x4const,
  i32xor,
  i64add,
  i64xor,
  i64and,
  i64c,
  i64ctz,
  i64eqz,
  i64extendU,
  i64or,
  i64shl,
  i64shrU,
  i64sub,
  i64x2extract,
  i64x2splat,
  i8x16bitmask,
  i8x16narrow,
  ifThen,
  load16s,
  load32,
  load8u,
  load64,
  loop,
  set,
  shuffle8,
  store32,
  store64,
  store8,
  tee,
  vload,
} from './asm'
import type { HuffmanCodes } from '../huffman'
import { BlockFunc } from './block-kernel'
import type { WasmMemory } from './asm'
import { ZIGZAG_TABLE } from './islow16-kernel'

export const PLAN_ENTRY_BYTES = 32
/** Byte offset of the keep count inside a block plan entry. */
export const PLAN_KEEP_OFFSET = 20
export const HUFF_TABLE_BYTES = (16 + 256) * 4
export const STATE_BYTES = 32
/** Byte offset of component c's last DC inside the state. */
export const stateDcOffset = (c: number): number => 16 + 4 * c
/** Worst case output bytes of one block: 16+11 bit DC, 63 x (16+10) bit AC, every byte stuffed. */
export const MAX_BLOCK_BYTES = 420
/** Bytes per block of the two-phase kernel's scratch: 64 natural-order i16 coefficients, then the i64 non-zero map. */
export const COEF_SLOT_BYTES = 136

/**
 * `encodeBlocks(plan, n, state, out, coef)`: codes `n` >= 1 blocks of `plan`, writes whole bytes from `out`
 * and returns the address after the last; pending bits stay in the state. `coef` is a 128-byte scratch block,
 * or with `inlineDct` n * COEF_SLOT_BYTES of scratch (one slot per block).
 * `dctFn` is the function index of the DCT + quantize kernel (`block(src, stride, table, out)`).
 */
export function huffmanBlocksFunc(
  name: string,
  dctFn: number,
  natural = false,
  inlineDct?: (f: BlockFunc) => void,
): FuncDef {
  const PLAN = 0,
    N = 1,
    STATE = 2,
    OUT = 3,
    COEF = 4
  const locals: number[] = []
  let next = 5
  const local = (t: number): number => {
    locals.push(t)
    return next++
  }
  const acc = local(I64),
    free = local(I32),
    pos = local(I32),
    huff = local(I32),
    slot = local(I32)
  const code = local(I32),
    size = local(I32),
    v = local(I32),
    s = local(I32),
    n = local(I32),
    e = local(I32)
  const mask = local(I64),
    r = local(I32),
    k = local(I32),
    run = local(I32)
  const g = get

  /** Writes the 8 bytes of the full bit buffer (most significant first) with 0xFF stuffing. */
  const flush = (): Code => {
    // A byte is 0xFF only where adding 1 carries out of it: x & ~(x + 0x01..01) & 0x80..80 flags it (and at
    // worst a byte next to a flagged one, which only sends the word down the slow path).
    const noFF = i64eqz(
      i64and(i64and(g(acc), i64c(0x8080808080808080n)), i64xor(i64add(g(acc), i64c(0x0101010101010101n)), i64c(-1n))),
    )
    const reversed = i64x2extract(
      shuffle8(i64x2splat(g(acc)), i64x2splat(g(acc)), [7, 6, 5, 4, 3, 2, 1, 0, 8, 9, 10, 11, 12, 13, 14, 15]),
      0,
    )
    const slow: Code = []
    for (let i = 0; i < 8; i++) {
      slow.push(...i32and(i32wrap(i64shrU(g(acc), i64c(BigInt(56 - 8 * i)))), i32c(0xff)), ...set(e))
      slow.push(...store8(g(pos), g(e), 0), ...store8(g(pos), i32c(0), 1))
      slow.push(...i32add(i32add(g(pos), i32c(1)), i32eq(g(e), i32c(0xff))), ...set(pos))
    }
    return ifThen(noFF, [...store64(g(pos), reversed, 0), ...i32add(g(pos), i32c(8)), ...set(pos)], slow)
  }

  /** Appends the low `size` bits of `code` (locals set by the caller; 1..27 bits). */
  const put = (): Code => [
    ...i32sub(g(free), g(size)),
    ...set(free),
    ...ifThen(
      i32geS(g(free), i32c(0)),
      [...i64or(i64shl(g(acc), i64extendU(g(size))), i64extendU(g(code))), ...set(acc)],
      [
        // Fill the buffer with the top bits of the code, write it, keep the rest (stale high bits shift out later).
        ...i64or(
          i64shl(g(acc), i64extendU(i32add(g(size), g(free)))),
          i64extendU(i32shrU(g(code), i32sub(i32c(0), g(free)))),
        ),
        ...set(acc),
        ...flush(),
        ...i64extendU(g(code)),
        ...set(acc),
        ...i32add(g(free), i32c(64)),
        ...set(free),
      ],
    ),
  ]
  /** Puts table entry `entry` ((code << 8) | length) as is. */
  const putEntry = (entry: Code): Code => [
    ...entry,
    ...set(e),
    ...i32shrU(g(e), i32c(8)),
    ...set(code),
    ...i32and(g(e), i32c(0xff)),
    ...set(size),
    ...put(),
  ]
  /**
   * Puts the table entry at `entryAddr + offset` (the symbol's, whose low 4 bits are n = the magnitude
   * category of v) followed by the n low bits of v (of v - 1 for negatives); s = v >> 31 and n must be set.
   */
  const putWithBits = (entryAddr: Code, offset: number): Code => [
    ...load32(entryAddr, offset),
    ...set(e),
    ...i32or(i32shl(i32shrU(g(e), i32c(8)), g(n)), i32and(i32add(g(v), g(s)), i32sub(i32shl(i32c(1), g(n)), i32c(1)))),
    ...set(code),
    ...i32add(i32and(g(e), i32c(0xff)), g(n)),
    ...set(size),
    ...put(),
  ]
  /** s = v >> 31; n = bits of |v| (0 for 0). */
  const category = (): Code => [
    ...i32shrS(g(v), i32c(31)),
    ...set(s),
    ...i32sub(i32c(32), i32clz(i32sub(i32xor(g(v), g(s)), g(s)))),
    ...set(n),
  ]

  // Non-zero map of the 64 zigzag coefficients: bit k set when coefficient k is not zero.
  const zero = i32x4const(0)
  const bits16 = (j: number): Code =>
    i64extendU(
      i8x16bitmask(i8x16narrow(i16x8ne(vload(g(COEF), 32 * j), zero), i16x8ne(vload(g(COEF), 32 * j + 16), zero))),
    )
  const nonZeroMap = i64or(
    i64or(bits16(0), i64shl(bits16(1), i64c(16n))),
    i64or(i64shl(bits16(2), i64c(32n)), i64shl(bits16(3), i64c(48n))),
  )

  // With `natural`, the DCT kernel leaves natural order and returns the zigzag non-zero map itself. With
  // `inlineDct` its body is generated into a loop of its own ahead of the coding loop (phase 1): no call
  // prologue per block, and V8 materializes the DCT's v128 constants once per call of this function.
  const dctCall = call(dctFn, g(s), load32(g(PLAN), 4), load32(g(PLAN), 8), g(COEF))
  let phase1: Code = []
  if (inlineDct) {
    if (!natural) throw new Error('huffmanBlocksFunc: inlineDct needs natural (the slots hold the non-zero map)')
    const f = new BlockFunc(next)
    inlineDct(f)
    locals.push(I32, I32, I32, I32, ...f.locals)
    next += 4 + f.locals.length
    const plan = local(I32),
      left = local(I32)
    // Slot i (coefficients, then the map) for plan entry i. Dummy blocks (src 0) are transformed too, on
    // whatever is at address 0, and phase 2 never reads their slot: a DCT that runs on every iteration lets V8
    // hoist its v128 constants out of the loop (a branch around it cost 5-7 % CPU per frame).
    phase1 = [
      ...g(PLAN),
      ...set(plan),
      ...g(COEF),
      ...set(f.out),
      ...g(N),
      ...set(left),
      ...loop(
        [...load32(g(plan), 0), ...set(f.src)],
        [
          ...load32(g(plan), 4),
          ...set(f.stride),
          ...load32(g(plan), 8),
          ...set(f.table),
          ...f.body,
          ...set(mask),
          ...store64(g(f.out), g(mask), 128),
        ],
        [...i32add(g(plan), i32c(PLAN_ENTRY_BYTES)), ...set(plan)],
        [...i32add(g(f.out), i32c(COEF_SLOT_BYTES)), ...set(f.out)],
        brIf([...i32sub(g(left), i32c(1)), ...tee(left)], 0),
      ),
    ]
  }
  const coefAt = (k: Code): Code =>
    natural ? i32add(g(COEF), load8u(k, ZIGZAG_TABLE)) : i32add(g(COEF), i32shl(k, i32c(1)))
  const dct: Code = inlineDct
    ? [...load64(g(COEF), 128), ...set(mask)]
    : natural
      ? [...dctCall, ...set(mask)]
      : drop(dctCall)
  const real: Code = [
    ...dct,
    // DC: difference to the component's last DC. Keep 0 blanks the block: its DC counts as 0 (mid-grey).
    ...i32and(load16s(g(COEF), 0), i32sub(i32eqz(load32(g(PLAN), PLAN_KEEP_OFFSET)), i32c(1))),
    ...set(e),
    ...i32sub(g(e), load32(g(slot), 0)),
    ...set(v),
    ...store32(g(slot), g(e), 0),
    ...category(),
    ...putWithBits(i32add(g(huff), i32shl(g(n), i32c(2))), 0),
    // AC: visit the non-zero coefficients only, and of those only the first `keep` (-1 >>> (64 - keep) has
    // their bits; keep 64 shifts by 0). Keep 0 shifts by 63 like keep 1: wasm takes shift counts mod 64, so
    // 64 - 0 would keep everything.
    ...i64and(
      i64and(natural ? g(mask) : nonZeroMap, i64c(-2n)),
      i64shrU(
        i64c(-1n),
        i64extendU(
          i32sub(i32sub(i32c(64), load32(g(PLAN), PLAN_KEEP_OFFSET)), i32eqz(load32(g(PLAN), PLAN_KEEP_OFFSET))),
        ),
      ),
    ),
    ...set(mask),
    ...i32c(0),
    ...set(k),
    ...block(
      loop(
        brIf(i64eqz(g(mask)), 1),
        [...i32wrap(i64ctz(g(mask))), ...set(r)],
        [...i64and(g(mask), i64sub(g(mask), i64c(1n))), ...set(mask)],
        [...i32sub(i32sub(g(r), g(k)), i32c(1)), ...set(run)],
        block(
          loop(
            brIf(i32ltS(g(run), i32c(16)), 1),
            putEntry(load32(g(huff), 64 + 0xf0 * 4)),
            [...i32sub(g(run), i32c(16)), ...set(run)],
            br(0),
          ),
        ),
        [...load16s(coefAt(g(r)), 0), ...set(v)],
        category(),
        putWithBits(i32add(g(huff), i32shl(i32or(i32shl(g(run), i32c(4)), g(n)), i32c(2))), 64),
        [...g(r), ...set(k)],
        br(0),
      ),
    ),
    // EOB unless the last coefficient was non-zero.
    ...ifThen(i32ne(g(k), i32c(63)), putEntry(load32(g(huff), 64))),
  ]
  const dummy: Code = [...putEntry(load32(g(huff), 0)), ...putEntry(load32(g(huff), 64))]

  const body: Code = [
    ...phase1,
    ...load64(g(STATE), 0),
    ...set(acc),
    ...load32(g(STATE), 8),
    ...set(free),
    ...g(OUT),
    ...set(pos),
    ...loop(
      [...load32(g(PLAN), 0), ...set(s)],
      [...load32(g(PLAN), 12), ...set(huff)],
      [...load32(g(PLAN), 16), ...set(slot)],
      ifThen(i32eqz(g(s)), dummy, real),
      [...i32add(g(PLAN), i32c(PLAN_ENTRY_BYTES)), ...set(PLAN)],
      inlineDct ? [...i32add(g(COEF), i32c(COEF_SLOT_BYTES)), ...set(COEF)] : [],
      brIf([...i32sub(g(N), i32c(1)), ...tee(N)], 0),
    ),
    ...store64(g(STATE), g(acc), 0),
    ...store32(g(STATE), g(free), 8),
    ...g(pos),
  ]
  return { name, params: [I32, I32, I32, I32, I32], results: [I32], locals, body }
}

/** Writes one component's Huffman codes (DC and AC) as a kernel table at `addr`. */
export function writeHuffmanTable(memory: WasmMemory, addr: number, dc: HuffmanCodes, ac: HuffmanCodes): void {
  const t = new Int32Array(memory.buffer, addr, HUFF_TABLE_BYTES / 4)
  for (let i = 0; i < 16; i++) t[i] = (dc.code[i] << 8) | dc.size[i]
  for (let i = 0; i < 256; i++) t[16 + i] = (ac.code[i] << 8) | ac.size[i]
}

/** Empties the state: no pending bits, DC predictions 0 (start of scan and after each restart marker). */
export function resetHuffmanState(memory: WasmMemory, state: number): void {
  new Int32Array(memory.buffer, state, STATE_BYTES / 4).fill(0)
  new Int32Array(memory.buffer, state, STATE_BYTES / 4)[2] = 64
}

/**
 * flush_bits: the pending bits of the state as bytes (0xFF stuffed), the last one padded with 1s; empties the
 * bit buffer (DC predictions stay).
 */
export function flushHuffmanState(memory: WasmMemory, state: number): number[] {
  const i32 = new Int32Array(memory.buffer, state, 4)
  const acc = new BigUint64Array(memory.buffer, state, 1)[0]
  let n = 64 - i32[2]
  const out: number[] = []
  while (n >= 8) {
    n -= 8
    const b = Number((acc >> BigInt(n)) & 0xffn)
    out.push(b)
    if (b === 0xff) out.push(0)
  }
  if (n > 0) {
    const b = Number(((acc << BigInt(8 - n)) | BigInt(0xff >> n)) & 0xffn)
    out.push(b)
    if (b === 0xff) out.push(0)
  }
  new BigUint64Array(memory.buffer, state, 1)[0] = 0n
  i32[2] = 64
  return out
}
