/** Pixel layouts the encoder accepts. `yuv420p` is planar I420 (Y, then U, then V), as rpicam/libcamera hand it over. */
export type PixelFormat = 'rgb' | 'rgba' | 'gray' | 'yuv420p'

/** A raw frame. `data` is tightly packed: no row padding (capture sources strip stride padding). */
export interface RawImage {
  width: number
  height: number
  data: Uint8Array
  format: PixelFormat
}

/** Quantization tables in natural row-major order (like `cjpeg -qtables`), values 1..255. */
export interface QuantTables {
  luma: ArrayLike<number>
  chroma: ArrayLike<number>
}

/** The table file format used everywhere tables are stored (`config/tables/*.json`). */
export interface TableFile {
  id: string
  luma: number[]
  chroma: number[]
  /** Fixed Huffman tables fitted to the same data (optional; see huffman-tables.ts). */
  huffman?: HuffmanTables
  source?: Record<string, unknown>
}

/** One DHT table: counts[i] = codes of length i + 1 (16 entries), symbols in code order. */
export interface HuffmanTable {
  counts: number[]
  symbols: number[]
}

/** Fixed Huffman tables for a stream. Each must cover every baseline symbol; chroma pair absent for gray-only sets. */
export interface HuffmanTables {
  lumaDc: HuffmanTable
  lumaAc: HuffmanTable
  chromaDc?: HuffmanTable
  chromaAc?: HuffmanTable
}

export type Subsampling = '444' | '420'
export type DctMethod = 'islow' | 'ifast'

export interface EncodeOptions {
  /** Custom tables; takes precedence over `quality`. */
  tables?: QuantTables
  /** IJG quality 1..100 applied to the Annex K tables (default 75). */
  quality?: number
  /** Chroma subsampling for colour input; ignored for gray (single component); yuv420p is 4:2:0 only. Default '420'. */
  subsampling?: Subsampling
  /** Forward DCT: 'islow' (default, libjpeg's accurate integer DCT) or 'ifast' (AA&N). */
  dct?: DctMethod
  /**
   * MCUs between restart markers (cjpeg `-restart NB`); 0 or absent = none. With `progressive` it applies to every
   * scan, where an AC scan's MCU is one block (as libjpeg counts non-interleaved scans).
   */
  restartInterval?: number
  /** Two-pass optimal Huffman tables, per frame. */
  optimizeHuffman?: boolean
  /**
   * Progressive JPEG (SOF2): a DC scan, then one AC scan per component (spectral selection, no successive
   * approximation), each with its own optimal Huffman tables (implies two passes, whatever `optimizeHuffman`
   * says). Same coefficients as baseline; runs of blocks without AC cost one EOBRUN code. Not with `huffman`.
   */
  progressive?: boolean
  /** Fixed Huffman tables instead of Annex K's (e.g. trained over many frames); not with `optimizeHuffman`. */
  huffman?: HuffmanTables
  /** Small JSON object written in one APP9 "DEEPN" segment; omitted when absent. */
  metadata?: Record<string, unknown>
  /** Per-region coefficient selection (block-keep.ts): blocks keep only their first zig-zag coefficients. */
  blockKeep?: BlockKeepMap
}

/** A coarse grid over the frame; each cell says how many zig-zag coefficients its blocks keep (0..64; 0 = a blank mid-grey block). */
export interface BlockKeepMap {
  cols: number
  rows: number
  /** cols x rows counts, row-major; a cell covers the same fraction of any frame size. */
  keep: ArrayLike<number>
}
