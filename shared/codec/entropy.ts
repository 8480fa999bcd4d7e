/**
 * Baseline Huffman entropy coding of quantized blocks (jchuff.c encode_mcu_huff / encode_mcu_gather): DC
 * differences per component, AC run/size symbols with ZRL and EOB, restart markers every `restartInterval`
 * MCUs with DC prediction reset. Blocks arrive in MCU order, 64 zigzag-ordered Int16 coefficients each. Pure.
 */
import { BitWriter } from './bit-writer'
import type { HuffmanCodes } from './huffman'

/** Worst case bytes for one block: 16+11 bit DC, 63 x (16+10) bit AC, every byte stuffed. */
const MAX_BLOCK_BYTES = 420

export interface EntropyTables {
  /** Indexed by component: its DC and AC codes. */
  dc: HuffmanCodes[]
  ac: HuffmanCodes[]
}

export class HuffmanEncoder {
  private readonly lastDc = new Int32Array(4)
  private mcu = 0

  constructor(
    private readonly bits: BitWriter,
    private readonly membership: Uint8Array,
    private readonly tables: EntropyTables,
    private readonly restartInterval: number,
  ) {}

  /** Encodes `mcus` MCUs from `coef` starting at block `firstBlock`. */
  encode(coef: Int16Array, firstBlock: number, mcus: number): void {
    const { membership, bits, restartInterval } = this
    const sink = bits.sink
    const perMcu = membership.length
    let off = firstBlock * 64
    for (let m = 0; m < mcus; m++, this.mcu++) {
      sink.ensure(perMcu * MAX_BLOCK_BYTES + 16)
      if (restartInterval && this.mcu > 0 && this.mcu % restartInterval === 0) {
        bits.flush()
        const n = (this.mcu / restartInterval - 1) & 7
        sink.buf[sink.pos++] = 0xff
        sink.buf[sink.pos++] = 0xd0 + n
        this.lastDc.fill(0)
      }
      for (let b = 0; b < perMcu; b++, off += 64) {
        const ci = membership[b]
        this.block(coef, off, this.lastDc[ci], this.tables.dc[ci], this.tables.ac[ci])
        this.lastDc[ci] = coef[off]
      }
    }
  }

  private block(coef: Int16Array, off: number, lastDc: number, dc: HuffmanCodes, ac: HuffmanCodes): void {
    const bits = this.bits
    let v = coef[off] - lastDc
    let a = v < 0 ? -v : v
    let n = a === 0 ? 0 : 32 - Math.clz32(a)
    if (n > 11) throw new Error(`DC difference ${v} out of range for 8-bit JPEG`)
    if (n === 0) bits.put(dc.code[0], dc.size[0])
    else bits.put((dc.code[n] << n) | ((v < 0 ? v - 1 : v) & ((1 << n) - 1)), dc.size[n] + n)
    const acCode = ac.code, acSize = ac.size
    let run = 0
    for (let k = 1; k < 64; k++) {
      v = coef[off + k]
      if (v === 0) { run++; continue }
      while (run > 15) { bits.put(acCode[0xf0], acSize[0xf0]); run -= 16 }
      a = v < 0 ? -v : v
      n = 32 - Math.clz32(a)
      const sym = (run << 4) | n
      bits.put((acCode[sym] << n) | ((v < 0 ? v - 1 : v) & ((1 << n) - 1)), acSize[sym] + n)
      run = 0
    }
    if (run > 0) bits.put(acCode[0], acSize[0])
  }

  /** Pads the final byte with 1s (the caller then writes EOI). */
  finish(): void {
    this.bits.flush()
  }
}

/**
 * htest_one_block over all blocks: DC and AC symbol frequencies per Huffman table slot (`tableOf[component]`),
 * with the same restart resets as encoding. Returns freq arrays of length 257 for jpeg_gen_optimal_table.
 */
export function gatherFrequencies(coef: Int16Array, totalMcus: number, membership: Uint8Array, tableOf: ArrayLike<number>, restartInterval: number): { dc: Float64Array[]; ac: Float64Array[] } {
  const dc = [new Float64Array(257), new Float64Array(257)]
  const ac = [new Float64Array(257), new Float64Array(257)]
  const lastDc = new Int32Array(4)
  const perMcu = membership.length
  let off = 0
  for (let m = 0; m < totalMcus; m++) {
    if (restartInterval && m > 0 && m % restartInterval === 0) lastDc.fill(0)
    for (let b = 0; b < perMcu; b++, off += 64) {
      const ci = membership[b]
      const t = tableOf[ci]
      const d = coef[off] - lastDc[ci]
      lastDc[ci] = coef[off]
      const da = d < 0 ? -d : d
      const dn = da === 0 ? 0 : 32 - Math.clz32(da)
      if (dn > 11) throw new Error(`DC difference ${d} out of range for 8-bit JPEG`)
      dc[t][dn]++
      const acf = ac[t]
      let run = 0
      for (let k = 1; k < 64; k++) {
        const v = coef[off + k]
        if (v === 0) { run++; continue }
        while (run > 15) { acf[0xf0]++; run -= 16 }
        acf[(run << 4) | (32 - Math.clz32(v < 0 ? -v : v))]++
        run = 0
      }
      if (run > 0) acf[0]++
    }
  }
  return { dc, ac }
}
