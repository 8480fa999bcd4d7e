/**
 * The entropy-coded scan on the WebAssembly path: per MCU row, the strips are filled in kernel memory (colour
 * conversion and downsampling kernels, prepare.ts), then one kernel call transforms, quantizes and
 * Huffman-codes every block of the row (wasm/huffman-kernel.ts) from a block plan built once per frame, and the
 * row's whole bytes are appended to the sink. Restart markers are written between calls. With a keep map
 * (block-keep.ts) only the plan's keep counts change from row to row. Same bytes as CoefficientMaker
 * (+ applyBlockKeep) + HuffmanEncoder (the reference path, still used for two-pass optimal tables). Pure.
 */
import type { HuffmanCodes } from './huffman'
import type { FrameLayout } from './layout'
import { createStripFiller } from './prepare'
import type { DctMethod, RawImage } from './types'
import {
  COEF_SLOT_BYTES,
  HUFF_TABLE_BYTES,
  MAX_BLOCK_BYTES,
  PLAN_ENTRY_BYTES,
  PLAN_KEEP_OFFSET,
  STATE_BYTES,
  flushHuffmanState,
  resetHuffmanState,
  stateDcOffset,
  writeHuffmanTable,
} from './wasm/huffman-kernel'
import {
  type CodecKernels,
  KERNEL_RESERVED,
  KERNEL_TABLE_BYTES,
  quantKernelTable,
  writeQuantKernelTable,
} from './wasm/kernels'

/** Where everything lives in kernel memory for one frame. */
interface ScanMemory {
  quant: number[]
  huff: number[]
  strips: number[]
  src: number
  coef: number
  state: number
  /** Block plans of an MCU row: [0] every row but the last, [1] the last (its dummy block rows differ). */
  plans: [number, number]
  out: number
  bytes: number
}

function scanMemory(layout: FrameLayout, blocksPerRow: number): ScanMemory {
  let at = KERNEL_RESERVED
  const take = (n: number): number => {
    const a = at
    at += (n + 15) & ~15
    return a
  }
  const quant = [take(KERNEL_TABLE_BYTES), take(KERNEL_TABLE_BYTES)]
  const huff = [take(HUFF_TABLE_BYTES), take(HUFF_TABLE_BYTES)]
  // Strips and source rows get slack: the colour kernels write up to 15 samples past a row and read 64 bytes past.
  const strips = layout.components.map((c) => take(c.stripWidth * c.stripHeight + 16))
  const src = take(layout.maxV * 8 * layout.width * 4 + 64)
  // One slot per block of an MCU row: the islow kernel transforms a whole run before coding it.
  const coef = take(blocksPerRow * COEF_SLOT_BYTES)
  const state = take(STATE_BYTES)
  const plans: [number, number] = [take(blocksPerRow * PLAN_ENTRY_BYTES), take(blocksPerRow * PLAN_ENTRY_BYTES)]
  // The scan's bytes accumulate from `out` (last, so growing the memory extends it).
  const out = take(0)
  return {
    quant,
    huff,
    strips,
    src,
    coef,
    state,
    plans,
    out,
    bytes: at + blocksPerRow * MAX_BLOCK_BYTES + layout.mcusPerRow * 16 + 64,
  }
}

/** The block plan of one MCU row (jccoefct's order; dummy blocks past the image have src 0), keeping all 64. */
function writeBlockPlan(buf: ArrayBuffer, at: number, layout: FrameLayout, m: ScanMemory, lastRow: boolean): void {
  const plan = new Int32Array(buf, at, (layout.mcusPerRow * layout.blocksInMcu * PLAN_ENTRY_BYTES) >> 2)
  const row = layout.mcuRows - 1
  let o = 0
  for (let mx = 0; mx < layout.mcusPerRow; mx++) {
    layout.components.forEach((c, ci) => {
      for (let yi = 0; yi < c.v; yi++) {
        for (let xi = 0; xi < c.h; xi++, o += PLAN_ENTRY_BYTES >> 2) {
          const bx = mx * c.h + xi
          const real = (!lastRow || row * c.v + yi < c.heightInBlocks) && bx < c.widthInBlocks
          plan[o] = real ? m.strips[ci] + yi * 8 * c.stripWidth + bx * 8 : 0
          plan[o + 1] = c.stripWidth
          plan[o + 2] = m.quant[c.table]
          plan[o + 3] = m.huff[c.table]
          plan[o + 4] = m.state + stateDcOffset(ci)
          plan[o + (PLAN_KEEP_OFFSET >> 2)] = 64
        }
      }
    })
  }
}

/** Sets every block's keep count in the plan `plan` (an i32 view of it) to its MCU's in MCU row `row`. */
function writePlanKeep(plan: Int32Array, layout: FrameLayout, keep: Uint8Array, row: number): void {
  const step = PLAN_ENTRY_BYTES >> 2
  const perMcu = layout.blocksInMcu * step
  let o = PLAN_KEEP_OFFSET >> 2
  for (let i = row * layout.mcusPerRow, end = i + layout.mcusPerRow; i < end; i++) {
    const k = keep[i]
    for (const stop = o + perMcu; o < stop; o += step) plan[o] = k
  }
}

/**
 * The scan of `image` with the kernels: quantization tables `luma`/`chroma` for `dct`, Huffman codes per
 * table slot, restart markers every `restartInterval` MCUs (0 = none), and with `keep` (mcuKeepCounts) only the
 * first keep[mcu] zig-zag coefficients of each block of an MCU. Returns the entropy-coded bytes as a
 * view of kernel memory: valid until the kernels are used again, so copy it.
 */
export function kernelScan(
  kernel: CodecKernels,
  image: RawImage,
  layout: FrameLayout,
  luma: ArrayLike<number>,
  chroma: ArrayLike<number>,
  dct: DctMethod,
  codes: { dc: HuffmanCodes[]; ac: HuffmanCodes[] },
  restartInterval: number,
  keep: Uint8Array | null = null,
): Uint8Array {
  const bpm = layout.blocksInMcu
  const blocksPerRow = layout.mcusPerRow * bpm
  const m = scanMemory(layout, blocksPerRow)
  const mem = kernel.memory
  const room = (need: number): void => {
    if (mem.buffer.byteLength < need) mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536))
  }
  room(m.bytes)
  ;[luma, chroma].forEach((t, i) => writeQuantKernelTable(mem, m.quant[i], quantKernelTable(t, dct)))
  for (let t = 0; t < Math.min(2, codes.dc.length); t++) writeHuffmanTable(mem, m.huff[t], codes.dc[t], codes.ac[t])
  writeBlockPlan(mem.buffer, m.plans[0], layout, m, false)
  writeBlockPlan(mem.buffer, m.plans[1], layout, m, true)
  resetHuffmanState(mem, m.state)
  // Views of kernel memory, made again whenever the scan's growth grows the memory.
  let bytes = new Uint8Array(0)
  let filler = createStripFiller(image, layout, [])
  const planWords = (blocksPerRow * PLAN_ENTRY_BYTES) >> 2
  let plans = [new Int32Array(0), new Int32Array(0)]
  const attach = (): void => {
    bytes = new Uint8Array(mem.buffer)
    plans = m.plans.map((at) => new Int32Array(mem.buffer, at, planWords))
    const views = layout.components.map(
      (c, ci) => new Uint8Array(mem.buffer, m.strips[ci], c.stripWidth * c.stripHeight),
    )
    filler = createStripFiller(image, layout, views, { kernels: kernel, memory: bytes, strips: m.strips, src: m.src })
  }
  attach()
  const encode = dct === 'islow' ? kernel.encodeBlocks : kernel.encodeBlocksFast
  let pos = m.out
  const put = (b: number[]): void => {
    bytes.set(b, pos)
    pos += b.length
  }

  // Worst case bytes of one MCU row: every block at its maximum, a restart marker and flush after each MCU.
  const rowBudget = blocksPerRow * MAX_BLOCK_BYTES + layout.mcusPerRow * 16 + 64
  let mcu = 0
  for (let row = 0; row < layout.mcuRows; row++) {
    if (pos + rowBudget > bytes.length) {
      room(pos + 2 * rowBudget + (pos - m.out))
      attach()
    }
    filler.fill(row)
    const which = row === layout.mcuRows - 1 ? 1 : 0
    const plan = m.plans[which]
    if (keep) writePlanKeep(plans[which], layout, keep, row)
    for (let mx = 0; mx < layout.mcusPerRow; ) {
      if (restartInterval && mcu > 0 && mcu % restartInterval === 0) {
        put(flushHuffmanState(mem, m.state))
        put([0xff, 0xd0 + ((mcu / restartInterval - 1) & 7)])
        resetHuffmanState(mem, m.state)
      }
      const count = restartInterval
        ? Math.min(layout.mcusPerRow - mx, restartInterval - (mcu % restartInterval))
        : layout.mcusPerRow
      pos = encode(plan + mx * bpm * PLAN_ENTRY_BYTES, count * bpm, m.state, pos, m.coef)
      mx += count
      mcu += count
    }
  }
  put(flushHuffmanState(mem, m.state))
  return bytes.subarray(m.out, pos)
}
