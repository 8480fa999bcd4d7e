/**
 * The codec's WebAssembly SIMD kernels in one module sharing one memory: islow or ifast DCT + quantization of a block,
 * RGB → YCbCr conversion for 4:4:4 and fused with 4:2:0 downsampling, and Huffman coding fused with the DCT. Generated and compiled once per
 * process on first use; null where the runtime lacks WebAssembly SIMD (or after setWasmKernelEnabled(false)),
 * in which case the encoder runs its TypeScript reference path, which computes the same bytes.
 */
import { module, type WasmMemory } from './asm'
import { rgb420Func, rgb444Func } from './color-kernel'
import { huffmanBlocksFunc } from './huffman-kernel'
import { islowFunc, kernelTable } from './islow-kernel'
import { ZIGZAG_TABLE, islow16Body, islow16Func, islow16Table } from './islow16-kernel'
import { ZIGZAG } from '../tables'
import { rawDivisor, reciprocal } from '../quantize'
import type { DctMethod } from '../types'

declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> }
}

/**
 * Bytes 0..127: the kernel's scratch block (natural-order i16); 128..191: the zigzag table (ZIGZAG_TABLE).
 * Callers place tables and buffers above.
 */
export const KERNEL_RESERVED = 256
/** Bytes per quantization table in kernel memory: the larger of islow16Table's (640) and kernelTable's (corr, recip, 2^(32-shift) as i32[64] each: 768). */
export const KERNEL_TABLE_BYTES = 768

export interface CodecKernels {
  readonly memory: WasmMemory
  /**
   * islow DCT + quantize the block at `src` (`stride` bytes per row) with the table at `table` (an
   * islow16Table); 64 zigzag i16 to `out`. Returns the zigzag index of the last non-zero coefficient, -1 if all are zero.
   */
  block(src: number, stride: number, table: number, out: number): number
  /**
   * `block` leaving natural order in `out`; returns the zigzag-ordered map of non-zero coefficients (bit k for
   * coefficient ZIGZAG[k]) as a bigint (an i64 to other kernels).
   */
  blockNatural(src: number, stride: number, table: number, out: number): bigint
  /** The same with libjpeg's ifast DCT (the table a kernelTable built from ifast divisors). */
  blockFast(src: number, stride: number, table: number, out: number): number
  /** 16 * groups RGB pixels at `src` → Y/Cb/Cr bytes. */
  rgb444(src: number, y: number, cb: number, cr: number, groups: number): void
  /** 32 * groups pixel columns of rows `srcA`/`srcB` → Y of both rows and 16 * groups Cb/Cr samples. */
  rgb420(srcA: number, srcB: number, yA: number, yB: number, cb: number, cr: number, groups: number): void
  /** rgb444 and rgb420 for RGBA input (alpha ignored). */
  rgba444(src: number, y: number, cb: number, cr: number, groups: number): void
  rgba420(srcA: number, srcB: number, yA: number, yB: number, cb: number, cr: number, groups: number): void
  /**
   * DCT + quantize + Huffman-code `n` blocks of the block plan at `plan` (see huffman-kernel.ts) with the
   * bit buffer and DC predictions at `state`; whole bytes go to `out`; returns the address after the last.
   * `coef` is n * COEF_SLOT_BYTES of scratch (encodeBlocksFast needs 128 bytes).
   */
  encodeBlocks(plan: number, n: number, state: number, out: number, coef: number): number
  /** The same with the ifast DCT. */
  encodeBlocksFast(plan: number, n: number, state: number, out: number, coef: number): number
}

/**
 * The bytes of a quantization table (natural order, values 1..255) for the kernel of `dct`: 16-bit lanes for
 * islow (`block`), 32-bit for ifast (`blockFast`, whose divisors can be 1 or 2). At most KERNEL_TABLE_BYTES.
 */
export function quantKernelTable(table: ArrayLike<number>, dct: DctMethod): Uint8Array {
  // Frames of a stream reuse the same two tables: remember the last few (the bytes are never mutated).
  let key = dct
  for (let i = 0; i < 64; i++) key += `,${table[i]}`
  const known = recentTables.get(key)
  if (known) return known
  const recips = Array.from({ length: 64 }, (_, i) => reciprocal(rawDivisor(table[i], i, dct)))
  const t = dct === 'islow' ? islow16Table(recips) : kernelTable(recips)
  const bytes = new Uint8Array(t.buffer, t.byteOffset, t.byteLength)
  if (recentTables.size >= 8) recentTables.delete(recentTables.keys().next().value as string)
  recentTables.set(key, bytes)
  return bytes
}
const recentTables = new Map<string, Uint8Array>()

export function writeQuantKernelTable(memory: WasmMemory, addr: number, bytes: Uint8Array): void {
  new Uint8Array(memory.buffer, addr, bytes.length).set(bytes)
}

let cached: CodecKernels | null | undefined
let enabled = true

/** Turns the kernels off (or back on) for this process: for tests and benchmarks of the TypeScript path. */
export function setWasmKernelEnabled(on: boolean): void {
  enabled = on
}

/** Which path encodes on this runtime: the WebAssembly SIMD kernels, or the TypeScript reference (same bytes, slower). */
export function encoderKernel(): 'wasm-simd' | 'typescript' {
  return codecKernels() ? 'wasm-simd' : 'typescript'
}

export function codecKernels(): CodecKernels | null {
  if (!enabled) return null
  if (cached !== undefined) return cached
  try {
    // Function indices follow this order: the entropy coders call the DCT kernels 0 and 1.
    const bytes = module(
      [
        islow16Func('block'),
        islowFunc(true),
        rgb444Func(),
        rgb420Func(),
        islow16Func('blockNatural', true),
        huffmanBlocksFunc('encodeBlocks', 4, true, (f) => islow16Body(f, true)),
        huffmanBlocksFunc('encodeBlocksFast', 1),
        rgb444Func('rgba444', 4),
        rgb420Func('rgba420', 4),
      ],
      1,
    )
    const exp = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as unknown as CodecKernels
    new Uint8Array(exp.memory.buffer, ZIGZAG_TABLE, 64).set(ZIGZAG.map((n) => n * 2))
    cached = {
      memory: exp.memory,
      block: exp.block,
      blockFast: exp.blockFast,
      blockNatural: exp.blockNatural,
      rgb444: exp.rgb444,
      rgb420: exp.rgb420,
      encodeBlocks: exp.encodeBlocks,
      encodeBlocksFast: exp.encodeBlocksFast,
      rgba444: exp.rgba444,
      rgba420: exp.rgba420,
    }
  } catch {
    cached = null
  }
  return cached
}
