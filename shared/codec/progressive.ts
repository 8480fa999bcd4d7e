/**
 * Progressive (SOF2) Huffman coding with spectral selection only (jcphuff.c, Ah = Al = 0): one interleaved DC
 * scan of all components, then one AC scan (1..63) per component. Each scan gets its own optimal tables, counted
 * in a first pass over the same code (libjpeg's gather pass) and written as DHTs right before its SOS, exactly as
 * cjpeg does with such a -scans script (progressive forces optimize_coding there). AC scans code runs of blocks
 * with no AC at all as one EOBRUN symbol: that is what makes DC-only blocks cheap.
 * Blocks arrive as the two-pass buffer (frame-blocks.ts): MCU order with dummy blocks. Pure.
 */
import { BitWriter, type ByteSink } from './bit-writer'
import type { Blocks } from './frame-blocks'
import { type HuffmanCodes, deriveCodes, optimalTable } from './huffman'
import type { FrameLayout } from './layout'
import { dht, dri, sosProgressive } from './markers'

/** Worst case bytes for one block and a pending EOBRUN: 63 x (16+10) bit AC, 30 EOBRUN bits, every byte stuffed. */
const MAX_BLOCK_BYTES = 440
/** libjpeg forces an EOBRUN out before it reaches this (the largest run EOB14 can code is 0x7FFF). */
const MAX_EOBRUN = 0x7fff

/** Where a scan's symbols go: counted per table slot (first pass) or written with their codes (second pass). */
class Symbols {
  /** Blocks with no (further) AC waiting to be coded as one EOBn symbol (emit_eobrun). */
  eobrun = 0

  constructor(
    readonly freq: Float64Array[] | null,
    readonly codes: HuffmanCodes[],
    readonly bits: BitWriter,
  ) {}

  /** Symbol `sym` of table slot `t`, followed by the low `n` bits of `v`. */
  put(t: number, sym: number, v: number, n: number): void {
    if (this.freq) {
      this.freq[t][sym]++
      return
    }
    const c = this.codes[t]
    this.bits.put((c.code[sym] << n) | (v & ((1 << n) - 1)), c.size[sym] + n)
  }

  /** emit_eobrun: EOBn (n = floor(log2 run)) and the run's low n bits. */
  flushEobrun(t: number): void {
    const run = this.eobrun
    if (run === 0) return
    const n = 31 - Math.clz32(run)
    this.put(t, n << 4, run, n)
    this.eobrun = 0
  }

  /** emit_restart after the pending EOBRUN (the caller resets DC predictions). */
  restart(t: number, index: number): void {
    this.flushEobrun(t)
    if (this.freq) return
    this.bits.flush()
    const sink = this.bits.sink
    sink.ensure(2)
    sink.buf[sink.pos++] = 0xff
    sink.buf[sink.pos++] = 0xd0 + (index & 7)
  }

  /** Room for one more block (writing only). */
  room(blocks: number): void {
    if (!this.freq) this.bits.sink.ensure(blocks * MAX_BLOCK_BYTES + 16)
  }
}

/**
 * encode_mcu_DC_first over every MCU (a gray frame's one-component scan has one block per MCU, which is the same
 * order). `tableOf[ci]` is component ci's DC table slot.
 */
function dcScan(out: Symbols, blocks: Blocks, layout: FrameLayout, restartInterval: number): void {
  const { coef, start } = blocks
  const { membership } = layout
  const tableOf = layout.components.map((c) => c.table)
  const perMcu = membership.length
  const mcus = layout.mcusPerRow * layout.mcuRows
  const lastDc = new Int32Array(layout.components.length)
  let block = 0
  for (let m = 0; m < mcus; m++) {
    if (restartInterval && m > 0 && m % restartInterval === 0) {
      out.restart(0, m / restartInterval - 1)
      lastDc.fill(0)
    }
    out.room(perMcu)
    for (let b = 0; b < perMcu; b++, block++) {
      const ci = membership[b]
      const dcv = coef[start[block]]
      const v = dcv - lastDc[ci]
      lastDc[ci] = dcv
      const s = v >> 31
      const n = 32 - Math.clz32((v ^ s) - s)
      if (n > 11) throw new Error(`DC difference ${v} out of range for 8-bit JPEG`)
      out.put(tableOf[ci], n, v + s, n)
    }
  }
  out.flushEobrun(0) // nothing pending in a DC scan; kept for symmetry with finish_pass_phuff
}

/**
 * encode_mcu_AC_first for coefficients 1..63 of component `ci`: a non-interleaved scan, so only the component's
 * own blocks (widthInBlocks x heightInBlocks, none of the dummy blocks that pad its MCUs) in raster order, one
 * block per MCU for the restart interval.
 */
function acScan(out: Symbols, blocks: Blocks, layout: FrameLayout, ci: number, restartInterval: number): void {
  const { coef, last, start } = blocks
  const comps = layout.components
  const c = comps[ci]
  const t = c.table
  let before = 0
  for (let i = 0; i < ci; i++) before += comps[i].h * comps[i].v
  const { h, v, widthInBlocks, heightInBlocks } = c
  const mcuStride = layout.blocksInMcu
  let count = 0
  for (let by = 0; by < heightInBlocks; by++) {
    const rowBase = Math.floor(by / v) * layout.mcusPerRow * mcuStride + before + (by % v) * h
    for (let bx = 0; bx < widthInBlocks; bx++, count++) {
      if (restartInterval && count > 0 && count % restartInterval === 0) out.restart(t, count / restartInterval - 1)
      out.room(1)
      const block = rowBase + Math.floor(bx / h) * mcuStride + (bx % h)
      const off = start[block]
      const end = last[block]
      let run = 0
      for (let k = 1; k <= end; k++) {
        const a = coef[off + k]
        if (a === 0) {
          run++
          continue
        }
        out.flushEobrun(t)
        while (run > 15) {
          out.put(t, 0xf0, 0, 0)
          run -= 16
        }
        const s = a >> 31
        const n = 32 - Math.clz32((a ^ s) - s)
        out.put(t, (run << 4) | n, a + s, n)
        run = 0
      }
      // Trailing zeros (counted, or known from `last`) join the run of blocks ending here.
      if ((run > 0 || end < 63) && ++out.eobrun === MAX_EOBRUN) out.flushEobrun(t)
    }
  }
  out.flushEobrun(t)
}

/** Counts a scan, writes its optimal tables (DHT per slot used, in component order), DRI if due, SOS, then codes it. */
function scan(
  sink: ByteSink,
  bits: BitWriter,
  slots: number[],
  ac: boolean,
  header: number[],
  code: (out: Symbols) => void,
): void {
  const freq = [new Float64Array(257), new Float64Array(257)]
  code(new Symbols(freq, [], bits))
  const codes: HuffmanCodes[] = []
  for (const t of slots) {
    const spec = optimalTable(freq[t])
    sink.bytes(dht(t, ac, spec))
    codes[t] = deriveCodes(spec)
  }
  sink.bytes(header)
  code(new Symbols(null, codes, bits))
  bits.flush()
}

/**
 * Writes every scan of the progressive frame (from the first scan's DHTs to the last scan's final byte; the
 * caller writes SOI..SOF2 before and EOI after). `restartInterval` counts MCUs of each scan: interleaved MCUs in
 * the DC scan, single blocks in the AC scans, as libjpeg applies one `-restart NB` to every scan.
 */
export function writeProgressiveScans(
  sink: ByteSink,
  blocks: Blocks,
  layout: FrameLayout,
  restartInterval: number,
): void {
  const comps = layout.components
  const bits = new BitWriter(sink)
  const dcSlots = [...new Set(comps.map((c) => c.table))]
  const dcHeader = [...(restartInterval ? dri(restartInterval) : []), ...sosProgressive(comps, 0, 0)]
  scan(sink, bits, dcSlots, false, dcHeader, (out) => dcScan(out, blocks, layout, restartInterval))
  comps.forEach((c, ci) => {
    scan(sink, bits, [c.table], true, sosProgressive([c], 1, 63), (out) =>
      acScan(out, blocks, layout, ci, restartInterval),
    )
  })
}
