/**
 * Baseline Huffman entropy coding of quantized blocks (jchuff.c encode_mcu_huff / encode_mcu_gather): DC
 * differences per component, AC run/size symbols with ZRL and EOB, restart markers every `restartInterval`
 * MCUs with DC prediction reset. Blocks arrive in MCU order (frame-blocks.ts: zigzag-ordered Int16 coefficients up
 * to each block's last non-zero one). Pure.
 */
import { type BitWriter, putWord } from './bit-writer'
import type { Blocks } from './frame-blocks'
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

  /** Encodes `mcus` MCUs of `blocks` starting at block `firstBlock`. */
  encode(blocks: Blocks, firstBlock: number, mcus: number): void {
    const { membership, bits, restartInterval, lastDc } = this
    const { coef, last, start } = blocks
    const sink = bits.sink
    const perMcu = membership.length
    let block = firstBlock
    for (let m = 0; m < mcus; m++, this.mcu++) {
      sink.ensure(perMcu * MAX_BLOCK_BYTES + 16)
      if (restartInterval && this.mcu > 0 && this.mcu % restartInterval === 0) {
        bits.flush()
        const n = (this.mcu / restartInterval - 1) & 7
        sink.buf[sink.pos++] = 0xff
        sink.buf[sink.pos++] = 0xd0 + n
        lastDc.fill(0)
      }
      for (let b = 0; b < perMcu; b++, block++) {
        const ci = membership[b]
        const dc = this.tables.dc[ci],
          ac = this.tables.ac[ci]
        const off = start[block]
        encodeBlock(bits, coef, off, last[block], lastDc[ci], dc.code, dc.size, ac.code, ac.size)
        lastDc[ci] = coef[off]
      }
    }
  }

  /** Pads the final byte with 1s (the caller then writes EOI). */
  finish(): void {
    this.bits.flush()
  }
}

/**
 * encode_one_block with the bit buffer in locals: code and magnitude bits go out as one put of up to 27 bits;
 * a put that overflows the 32-bit accumulator completes and flushes the word, keeping the leftover bits.
 * Stale high bits left in `acc` after a flush are shifted out before the next word completes.
 */
function encodeBlock(
  bw: BitWriter,
  coef: Int16Array,
  off: number,
  lastNz: number,
  lastDc: number,
  dcCode: Uint32Array,
  dcSize: Uint8Array,
  acCode: Uint32Array,
  acSize: Uint8Array,
): void {
  const sink = bw.sink
  const buf = sink.buf
  let pos = sink.pos
  let acc = bw.acc
  let free = bw.free
  let code: number, size: number

  let v = coef[off] - lastDc
  let s = v >> 31
  let n = 32 - Math.clz32((v ^ s) - s)
  if (n > 11) throw new Error(`DC difference ${v} out of range for 8-bit JPEG`)
  code = (dcCode[n] << n) | ((v + s) & ((1 << n) - 1))
  size = dcSize[n] + n
  free -= size
  if (free >= 0) acc = (acc << size) | code
  else {
    pos = putWord(buf, pos, (acc << (size + free)) | (code >>> -free))
    acc = code
    free += 32
  }

  let run = 0
  // Coefficients after lastNz are zero: stop there and let EOB cover them.
  for (let k = off + 1, end = off + lastNz + 1; k < end; k++) {
    v = coef[k]
    if (v === 0) {
      run++
      continue
    }
    while (run > 15) {
      code = acCode[0xf0]
      size = acSize[0xf0]
      free -= size
      if (free >= 0) acc = (acc << size) | code
      else {
        pos = putWord(buf, pos, (acc << (size + free)) | (code >>> -free))
        acc = code
        free += 32
      }
      run -= 16
    }
    s = v >> 31
    n = 32 - Math.clz32((v ^ s) - s)
    const sym = (run << 4) | n
    code = (acCode[sym] << n) | ((v + s) & ((1 << n) - 1))
    size = acSize[sym] + n
    free -= size
    if (free >= 0) acc = (acc << size) | code
    else {
      pos = putWord(buf, pos, (acc << (size + free)) | (code >>> -free))
      acc = code
      free += 32
    }
    run = 0
  }
  if (run > 0 || lastNz < 63) {
    code = acCode[0]
    size = acSize[0]
    free -= size
    if (free >= 0) acc = (acc << size) | code
    else {
      pos = putWord(buf, pos, (acc << (size + free)) | (code >>> -free))
      acc = code
      free += 32
    }
  }
  sink.pos = pos
  bw.acc = acc
  bw.free = free
}

/**
 * htest_one_block over all blocks: DC and AC symbol frequencies per Huffman table slot (`tableOf[component]`),
 * with the same restart resets as encoding. Returns freq arrays of length 257 for jpeg_gen_optimal_table.
 */
export function gatherFrequencies(
  blocks: Blocks,
  totalMcus: number,
  membership: Uint8Array,
  tableOf: ArrayLike<number>,
  restartInterval: number,
): { dc: Float64Array[]; ac: Float64Array[] } {
  const dc = [new Float64Array(257), new Float64Array(257)]
  const ac = [new Float64Array(257), new Float64Array(257)]
  const lastDc = new Int32Array(4)
  const perMcu = membership.length
  const { coef, last, start } = blocks
  let block = 0
  for (let m = 0; m < totalMcus; m++) {
    if (restartInterval && m > 0 && m % restartInterval === 0) lastDc.fill(0)
    for (let b = 0; b < perMcu; b++, block++) {
      const ci = membership[b]
      const t = tableOf[ci]
      const off = start[block]
      const d = coef[off] - lastDc[ci]
      lastDc[ci] = coef[off]
      const da = d < 0 ? -d : d
      const dn = da === 0 ? 0 : 32 - Math.clz32(da)
      if (dn > 11) throw new Error(`DC difference ${d} out of range for 8-bit JPEG`)
      dc[t][dn]++
      const acf = ac[t]
      let run = 0
      // Past the block's last non-zero coefficient there is nothing to count but the EOB below.
      const end = last[block]
      for (let k = 1; k <= end; k++) {
        const v = coef[off + k]
        if (v === 0) {
          run++
          continue
        }
        while (run > 15) {
          acf[0xf0]++
          run -= 16
        }
        acf[(run << 4) | (32 - Math.clz32(v < 0 ? -v : v))]++
        run = 0
      }
      if (run > 0 || end < 63) acf[0]++
    }
  }
  return { dc, ac }
}
