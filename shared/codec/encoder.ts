/**
 * The JPEG encoder: options → tables, strips (prepare.ts) → DCT + quantization per MCU row (jccoefct.c, with
 * libjpeg's dummy blocks) → Huffman coding (entropy.ts; progressive.ts for the opt-in SOF2 scans) → markers.
 * Without metadata the output is byte-identical to cjpeg with the same options (see test/codec).
 * Hot stages run in generated WebAssembly SIMD kernels when available (wasm/: RGB colour conversion, islow and
 * ifast DCT + quantization); the TypeScript stages are the reference and the fallback, and produce the same bytes.
 * Pure.
 */
import { BitWriter, ByteSink } from './bit-writer'
import { HuffmanEncoder, gatherFrequencies } from './entropy'
import { type Blocks, frameBlocks, unpackedBlocks } from './frame-blocks'
import { ifastColumnsQuantize, ifastRows } from './fdct-ifast'
import { islowColumnsQuantize, islowRows } from './fdct-islow'
import {
  STD_AC_CHROMA,
  STD_AC_LUMA,
  STD_DC_CHROMA,
  STD_DC_LUMA,
  deriveCodes,
  optimalTable,
  type HuffmanSpec,
} from './huffman'
import { type SymbolCounts, emptySymbolCounts, validateHuffmanTables } from './huffman-tables'
import { type FrameLayout, frameLayout } from './layout'
import { EOI, JFIF_APP0, SOI, dht, dqt, dri, sof0, sof2, sos } from './markers'
import { metadataSegment } from './metadata'
import { createStripFiller, type StripFiller } from './prepare'
import { writeProgressiveScans } from './progressive'
import { kernelScan } from './scan-kernel'
import { type Quantizer, makeQuantizer } from './quantize'
import {
  type CodecKernels,
  codecKernels,
  KERNEL_RESERVED,
  KERNEL_TABLE_BYTES,
  quantKernelTable,
  writeQuantKernelTable,
} from './wasm/kernels'
import { qualityTables, validateTables } from './tables'
import type { BlockKeepMap, DctMethod, EncodeOptions, RawImage, Subsampling } from './types'
import { applyBlockKeep, mcuKeepCounts, validateBlockKeep } from './block-keep'
import { validateImage, validateSubsampling } from './validate'

/** Options after validation and defaults. */
export interface Resolved {
  luma: ArrayLike<number>
  chroma: ArrayLike<number>
  subsampling: Subsampling
  dct: DctMethod
  restartInterval: number
  optimizeHuffman: boolean
  /** SOF2 spectral-selection scans with per-scan optimal tables (progressive.ts). */
  progressive: boolean
  /** Fixed Huffman specs per slot (from `options.huffman`), or undefined for Annex K / optimised tables. */
  huffman?: { dc: HuffmanSpec[]; ac: HuffmanSpec[] }
  metadata?: Record<string, unknown>
  blockKeep?: BlockKeepMap
}

const OPTION_KEYS = new Set([
  'tables',
  'quality',
  'subsampling',
  'dct',
  'restartInterval',
  'optimizeHuffman',
  'progressive',
  'huffman',
  'metadata',
  'blockKeep',
])

export function resolveOptions(image: RawImage, options: EncodeOptions | undefined): Resolved {
  const o: EncodeOptions = options ?? {}
  if (o === null || typeof o !== 'object') throw new TypeError('options: expected an object')
  for (const k of Object.keys(o)) if (!OPTION_KEYS.has(k)) throw new RangeError(`options.${k}: unknown option`)
  let luma: ArrayLike<number>, chroma: ArrayLike<number>
  if (o.quality !== undefined) qualityTables(o.quality) // validates even when tables win
  if (o.tables !== undefined) {
    validateTables(o.tables, 'options.tables')
    luma = o.tables.luma
    chroma = o.tables.chroma
  } else {
    ;({ luma, chroma } = qualityTables(o.quality ?? 75))
  }
  const subsampling = o.subsampling ?? '420'
  validateSubsampling(subsampling)
  if (image.format === 'yuv420p' && subsampling !== '420') {
    throw new RangeError(`subsampling: yuv420p input is already 4:2:0 and cannot be encoded as '${subsampling}'`)
  }
  const dct = o.dct ?? 'islow'
  if (dct !== 'islow' && dct !== 'ifast')
    throw new RangeError(`dct: expected 'islow' or 'ifast', got ${JSON.stringify(dct)}`)
  const restartInterval = o.restartInterval ?? 0
  if (!Number.isInteger(restartInterval) || restartInterval < 0 || restartInterval > 65535) {
    throw new RangeError(`restartInterval: expected an integer 0..65535 (MCUs), got ${String(restartInterval)}`)
  }
  const optimizeHuffman = o.optimizeHuffman ?? false
  if (typeof optimizeHuffman !== 'boolean') throw new TypeError('optimizeHuffman: expected a boolean')
  const progressive = o.progressive ?? false
  if (typeof progressive !== 'boolean') throw new TypeError('progressive: expected a boolean')
  const huffman = o.huffman === undefined ? undefined : validateHuffmanTables(o.huffman, 'huffman')
  if (huffman && optimizeHuffman)
    throw new RangeError('huffman: fixed Huffman tables and optimizeHuffman exclude each other')
  // Progressive scans always get their own optimal tables (as libjpeg), and fixed sets lack the EOBRUN symbols.
  if (huffman && progressive) throw new RangeError('huffman: fixed Huffman tables and progressive exclude each other')
  if (
    o.metadata !== undefined &&
    (o.metadata === null || typeof o.metadata !== 'object' || Array.isArray(o.metadata))
  ) {
    throw new TypeError('metadata: expected a JSON object')
  }
  if (o.blockKeep !== undefined) validateBlockKeep(o.blockKeep)
  return {
    luma,
    chroma,
    subsampling,
    dct,
    restartInterval,
    optimizeHuffman,
    progressive,
    huffman,
    metadata: o.metadata,
    blockKeep: o.blockKeep,
  }
}

/** Where the kernel path keeps its tables, strips and row of blocks inside the kernel's memory. */
interface KernelPlan {
  kernel: CodecKernels
  /** The DCT + quantize entry point for the chosen DCT. */
  block: CodecKernels['block']
  tables: number[]
  strips: number[]
  src: number
  blocks: number
  bytes: number
}

/** Memory map: scratch, 2 tables, strips (+16 bytes slack each), source rows of one strip (+64), blocks. */
function kernelPlan(kernel: CodecKernels, layout: FrameLayout, blocksPerRow: number, dct: DctMethod): KernelPlan {
  let at = KERNEL_RESERVED
  const tables = [at, at + KERNEL_TABLE_BYTES]
  at += 2 * KERNEL_TABLE_BYTES
  const strips = layout.components.map((c) => {
    const a = at
    at += (c.stripWidth * c.stripHeight + 16 + 15) & ~15
    return a
  })
  const src = at
  at += (layout.maxV * 8 * layout.width * 4 + 64 + 15) & ~15
  const blocks = at
  at += blocksPerRow * 128
  return { kernel, block: dct === 'islow' ? kernel.block : kernel.blockFast, tables, strips, src, blocks, bytes: at }
}

/**
 * Transforms and quantizes MCU rows into blocks in MCU order (jccoefct.c compress_data). Dummy blocks that pad
 * a 4:2:0 MCU past the image get zero AC and the DC of the block before them, as libjpeg writes them.
 * The WebAssembly SIMD kernels are used when available (identical integers; see wasm/islow-kernel.ts), with
 * its buffers in kernel memory; each row() re-checks and refreshes them, so makers may even interleave as long
 * as a row's blocks are consumed before the next row() call. Exported for tests, not part of the public API.
 */
export class CoefficientMaker {
  private readonly ws = new Int32Array(64)
  private filler: StripFiller
  private readonly quantizers: Quantizer[]
  private readonly rows: (src: Uint8Array, off: number, stride: number, d: Int32Array) => void
  private readonly columns: (d: Int32Array, q: Quantizer, out: Int16Array, off: number) => void
  private readonly plan: KernelPlan | null
  private readonly kernelTables: Uint8Array[] = []
  private out: Int16Array
  /** Coefficients kept per MCU (blockKeep), or null to keep all. */
  private readonly keep: Uint8Array | null
  /** Per block of the last row(): zigzag index of its last non-zero coefficient (an upper bound after blockKeep). */
  readonly last: Int8Array

  constructor(
    private readonly image: RawImage,
    private readonly layout: FrameLayout,
    r: Resolved,
  ) {
    const luma = makeQuantizer(r.luma, r.dct)
    const chroma = makeQuantizer(r.chroma, r.dct)
    this.quantizers = layout.components.map((c) => (c.table === 0 ? luma : chroma))
    this.rows = r.dct === 'islow' ? islowRows : ifastRows
    this.columns = r.dct === 'islow' ? islowColumnsQuantize : ifastColumnsQuantize
    const blocksPerRow = layout.mcusPerRow * layout.blocksInMcu
    this.keep = r.blockKeep ? mcuKeepCounts(layout, r.blockKeep) : null
    this.last = new Int8Array(blocksPerRow).fill(63)
    const kernel = codecKernels()
    this.plan = kernel ? kernelPlan(kernel, layout, blocksPerRow, r.dct) : null
    if (this.plan) {
      for (const t of [r.luma, r.chroma]) this.kernelTables.push(quantKernelTable(t, r.dct))
      this.filler = createStripFiller(image, layout, [])
      this.out = new Int16Array(0)
      this.attach()
    } else {
      this.filler = createStripFiller(image, layout)
      this.out = new Int16Array(blocksPerRow * 64)
    }
  }

  /** (Re)creates the views into kernel memory, growing it first if needed, and writes the tables. */
  private attach(): void {
    const plan = this.plan!
    const mem = plan.kernel.memory
    if (mem.buffer.byteLength < plan.bytes) mem.grow(Math.ceil((plan.bytes - mem.buffer.byteLength) / 65536))
    const buf = mem.buffer
    if (this.out.buffer !== buf) {
      const views = this.layout.components.map(
        (c, ci) => new Uint8Array(buf, plan.strips[ci], c.stripWidth * c.stripHeight),
      )
      const accel = { kernels: plan.kernel, memory: new Uint8Array(buf), strips: plan.strips, src: plan.src }
      this.filler = createStripFiller(this.image, this.layout, views, accel)
      this.out = new Int16Array(buf, plan.blocks, this.layout.mcusPerRow * this.layout.blocksInMcu * 64)
    }
    this.kernelTables.forEach((t, i) => writeQuantKernelTable(mem, plan.tables[i], t))
  }

  /** Transforms MCU row `row`; returns its blocks (a buffer reused by the next call). */
  row(row: number): Int16Array {
    const { layout, ws, rows, columns, quantizers, plan, last } = this
    if (plan) this.attach()
    const out = this.out
    const strips = this.filler.strips
    this.filler.fill(row)
    const comps = layout.components
    let off = 0
    for (let mx = 0; mx < layout.mcusPerRow; mx++) {
      for (let ci = 0; ci < comps.length; ci++) {
        const c = comps[ci]
        const strip = strips[ci]
        const q = quantizers[ci]
        for (let yi = 0; yi < c.v; yi++) {
          const realRow = row * c.v + yi < c.heightInBlocks
          for (let xi = 0; xi < c.h; xi++, off += 64) {
            const bx = mx * c.h + xi
            if (realRow && bx < c.widthInBlocks) {
              const at = yi * 8 * c.stripWidth + bx * 8
              if (plan)
                last[off >> 6] = plan.block(
                  plan.strips[ci] + at,
                  c.stripWidth,
                  plan.tables[c.table],
                  plan.blocks + off * 2,
                )
              else {
                rows(strip, at, c.stripWidth, ws)
                columns(ws, q, out, off)
                // the kernel returns it; here a backward scan finds it (entropy coding and the two-pass buffer stop there)
                let l = 63
                while (l > 0 && out[off + l] === 0) l--
                last[off >> 6] = l
              }
            } else {
              out.fill(0, off, off + 64)
              out[off] = out[off - 64]
              last[off >> 6] = 0
            }
          }
        }
      }
    }
    if (this.keep) applyBlockKeep(out, last, layout, this.keep, row)
    return out
  }
}

function huffmanSpecs(
  r: Resolved,
  blocks: Blocks | null,
  layout: FrameLayout,
): { dc: HuffmanSpec[]; ac: HuffmanSpec[] } {
  // A fixed set without a chroma pair serves colour frames with its luma pair in both slots (still complete).
  if (r.huffman)
    return {
      dc: [r.huffman.dc[0], r.huffman.dc[1] ?? r.huffman.dc[0]],
      ac: [r.huffman.ac[0], r.huffman.ac[1] ?? r.huffman.ac[0]],
    }
  if (!r.optimizeHuffman || blocks === null)
    return { dc: [STD_DC_LUMA, STD_DC_CHROMA], ac: [STD_AC_LUMA, STD_AC_CHROMA] }
  const freq = frameFrequencies(blocks, layout, r.restartInterval)
  const used = layout.components.length > 1 ? 2 : 1
  const dc: HuffmanSpec[] = []
  const ac: HuffmanSpec[] = []
  for (let t = 0; t < used; t++) {
    dc.push(optimalTable(freq.dc[t]))
    ac.push(optimalTable(freq.ac[t]))
  }
  return { dc, ac }
}

/** The whole frame's DC and AC symbol counts per table slot, from the two-pass buffer. */
function frameFrequencies(blocks: Blocks, layout: FrameLayout, restartInterval: number) {
  const tableOf = layout.components.map((c) => c.table)
  return gatherFrequencies(blocks, layout.mcusPerRow * layout.mcuRows, layout.membership, tableOf, restartInterval)
}

/** Every block of the frame, for two-pass entropy coding (the arrays are reused by the next call). */
function allBlocks(maker: CoefficientMaker, layout: FrameLayout): Blocks {
  return frameBlocks(maker, layout.mcusPerRow * layout.blocksInMcu, layout.mcuRows)
}

/**
 * Encodes a raw frame as a baseline JPEG, or a progressive one with `options.progressive`. Throws an Error
 * naming the problem on bad input or options.
 */
export function encodeJpeg(image: RawImage, options: EncodeOptions = {}): Uint8Array {
  validateImage(image)
  const r = resolveOptions(image, options)
  const layout = frameLayout(image.width, image.height, image.format, r.subsampling)
  if (r.progressive) return encodeProgressive(image, layout, r)
  // Two-pass optimal tables need every block before the first code is written; otherwise one MCU row at a time.
  const whole = r.optimizeHuffman ? allBlocks(new CoefficientMaker(image, layout, r), layout) : null
  const specs = huffmanSpecs(r, whole, layout)

  const channels = layout.components.length
  // The fused scan kernel codes blocks as it makes them (keep map included); two-pass tables need them all first.
  const kernel = whole === null ? codecKernels() : null
  // The kernel path writes the scan into kernel memory: the sink then holds only the headers.
  const sink = new ByteSink(kernel ? 2048 : ((image.width * image.height * channels) >> 3) + 2048)
  writeFrameHeader(sink, r, layout, sof0(layout))
  for (let t = 0; t < Math.min(channels, 2); t++) {
    sink.bytes(dht(t, false, specs.dc[t]))
    sink.bytes(dht(t, true, specs.ac[t]))
  }
  if (r.restartInterval) sink.bytes(dri(r.restartInterval))
  sink.bytes(sos(layout))

  const dcCodes = specs.dc.map(deriveCodes)
  const acCodes = specs.ac.map(deriveCodes)
  const tables = {
    dc: layout.components.map((c) => dcCodes[c.table]),
    ac: layout.components.map((c) => acCodes[c.table]),
  }
  if (kernel) {
    const scan = kernelScan(
      kernel,
      image,
      layout,
      r.luma,
      r.chroma,
      r.dct,
      { dc: [dcCodes[0], dcCodes[1]], ac: [acCodes[0], acCodes[1]] },
      r.restartInterval,
      r.blockKeep ? mcuKeepCounts(layout, r.blockKeep) : null,
    )
    // One exactly sized result: headers, the scan (a view of kernel memory, copied once) and EOI.
    const out = new Uint8Array(sink.pos + scan.length + EOI.length)
    out.set(sink.buf.subarray(0, sink.pos))
    out.set(scan, sink.pos)
    out.set(EOI, sink.pos + scan.length)
    return out
  } else {
    const huff = new HuffmanEncoder(new BitWriter(sink), layout.membership, tables, r.restartInterval)
    if (whole !== null) {
      huff.encode(whole, 0, layout.mcusPerRow * layout.mcuRows)
    } else {
      const maker = new CoefficientMaker(image, layout, r)
      const row = unpackedBlocks(new Int16Array(0), maker.last)
      for (let y = 0; y < layout.mcuRows; y++) {
        row.coef = maker.row(y)
        huff.encode(row, 0, layout.mcusPerRow)
      }
    }
    huff.finish()
  }
  sink.bytes(EOI)
  return sink.result()
}

/** SOI, JFIF, the optional APP9, the DQTs and the frame header `sof`: what baseline and progressive files share. */
function writeFrameHeader(sink: ByteSink, r: Resolved, layout: FrameLayout, sof: number[]): void {
  sink.bytes(SOI)
  sink.bytes(JFIF_APP0)
  if (r.metadata !== undefined) sink.bytes(metadataSegment(r.metadata))
  sink.bytes(dqt(0, r.luma))
  if (layout.components.length > 1) sink.bytes(dqt(1, r.chroma))
  sink.bytes(sof)
}

/** SOI..SOF2, every scan (progressive.ts) and EOI, from all of the frame's blocks. */
function encodeProgressive(image: RawImage, layout: FrameLayout, r: Resolved): Uint8Array {
  const blocks = allBlocks(new CoefficientMaker(image, layout, r), layout)
  const channels = layout.components.length
  const sink = new ByteSink(((image.width * image.height * channels) >> 3) + 2048)
  writeFrameHeader(sink, r, layout, sof2(layout))
  writeProgressiveScans(sink, blocks, layout, r.restartInterval)
  sink.bytes(EOI)
  return sink.result()
}

/**
 * Adds the Huffman symbols one frame produces under `options` (same tables, DCT, subsampling and restart
 * interval as encodeJpeg) to `into`: the statistics trainHuffmanTables fits fixed tables to. Returns `into`.
 */
export function symbolFrequencies(
  image: RawImage,
  options: EncodeOptions = {},
  into: SymbolCounts = emptySymbolCounts(),
): SymbolCounts {
  validateImage(image)
  const r = resolveOptions(image, { ...options, optimizeHuffman: false, huffman: undefined })
  const layout = frameLayout(image.width, image.height, image.format, r.subsampling)
  const freq = frameFrequencies(allBlocks(new CoefficientMaker(image, layout, r), layout), layout, r.restartInterval)
  for (let t = 0; t < 2; t++) {
    for (let s = 0; s < 256; s++) {
      into.dc[t][s] += freq.dc[t][s]
      into.ac[t][s] += freq.ac[t][s]
    }
  }
  return into
}
