/**
 * Public codec API (`deepn-edge/codec`): the baseline (and opt-in progressive) JPEG encoder, its tables and the DCT
 * statistics hook.
 */
export type {
  BlockKeepMap,
  DctMethod,
  EncodeOptions,
  HuffmanTable,
  HuffmanTables,
  PixelFormat,
  QuantTables,
  RawImage,
  Subsampling,
  TableFile,
} from './types'
export { MAX_METADATA_BYTES, metadataSegment, readJpegMetadata } from './metadata'
export { quantDigest } from './quant-digest'
export {
  ANNEX_K_CHROMA,
  ANNEX_K_LUMA,
  ZIGZAG,
  parseTableFile,
  qualityScaling,
  qualityTables,
  scaleTable,
  validateTable,
  validateTables,
} from './tables'
export { applyBlockKeep, mcuKeepCounts, validateBlockKeep } from './block-keep'
export { forEachDctBlock, forEachDctBlockFloat } from './blocks'
export { encodeJpeg, symbolFrequencies } from './encoder'
export { encoderKernel } from './wasm/kernels'
export {
  BASELINE_AC_SYMBOLS,
  BASELINE_DC_SYMBOLS,
  cleanHuffmanTables,
  emptySymbolCounts,
  trainHuffmanTables,
  validateHuffmanTables,
  type SymbolCounts,
} from './huffman-tables'
