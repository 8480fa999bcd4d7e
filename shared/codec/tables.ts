/**
 * Quantization tables: Annex K defaults, IJG quality scaling (jcparam.c) and validation of the table file
 * format used everywhere (`config/tables/*.json`). All tables are in natural row-major order. Pure.
 */
import { cleanHuffmanTables, validateHuffmanTables } from './huffman-tables'
import type { HuffmanTables, QuantTables, TableFile } from './types'

/** Rec. ITU-T T.81 Annex K.1 luminance table (natural order). */
export const ANNEX_K_LUMA: readonly number[] = Object.freeze([
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51,
  87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101,
  72, 92, 95, 98, 112, 100, 103, 99,
])

/** Rec. ITU-T T.81 Annex K.2 chrominance table (natural order). */
export const ANNEX_K_CHROMA: readonly number[] = Object.freeze([
  17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99,
  99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
  99, 99, 99, 99, 99, 99,
])

/** ZIGZAG[k] = natural-order index of the k-th coefficient in zigzag (bitstream) order (jpeg_natural_order). */
export const ZIGZAG: Readonly<Uint8Array> = Uint8Array.from([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
  35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47,
  55, 62, 63,
])

function checkQuality(quality: number): void {
  if (typeof quality !== 'number' || !Number.isInteger(quality) || quality < 1 || quality > 100) {
    throw new RangeError(`quality must be an integer 1..100, got ${String(quality)}`)
  }
}

/** IJG jpeg_quality_scaling: quality 1..100 → percentage scale factor for the Annex K tables. */
export function qualityScaling(quality: number): number {
  checkQuality(quality)
  return quality < 50 ? Math.floor(5000 / quality) : 200 - quality * 2
}

/** One table scaled like jpeg_add_quant_table with force_baseline: (q*scale+50)/100 clamped to 1..255. */
export function scaleTable(basic: ArrayLike<number>, scale: number): number[] {
  const out = new Array<number>(64)
  for (let i = 0; i < 64; i++) {
    const v = Math.floor((basic[i] * scale + 50) / 100)
    out[i] = v < 1 ? 1 : Math.min(v, 255)
  }
  return out
}

/** The tables `cjpeg -quality N -baseline` uses (IJG scaling of Annex K). */
export function qualityTables(quality: number): { luma: number[]; chroma: number[] } {
  const scale = qualityScaling(quality)
  return { luma: scaleTable(ANNEX_K_LUMA, scale), chroma: scaleTable(ANNEX_K_CHROMA, scale) }
}

/** Throws naming `name` and the first bad index unless `table` is 64 integers in 1..255. */
export function validateTable(table: unknown, name: string): void {
  if (table === null || typeof table !== 'object' || typeof (table as ArrayLike<unknown>).length !== 'number') {
    throw new TypeError(`${name}: expected an array of 64 integers, got ${table === null ? 'null' : typeof table}`)
  }
  const t = table as ArrayLike<unknown>
  if (t.length !== 64) throw new RangeError(`${name}: expected 64 values, got ${t.length}`)
  for (let i = 0; i < 64; i++) {
    const v = t[i]
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw new TypeError(`${name}[${i}]: expected an integer, got ${JSON.stringify(v) ?? String(v)}`)
    }
    if (v < 1 || v > 255) throw new RangeError(`${name}[${i}]: ${v} is outside 1..255`)
  }
}

/** Validates both tables; `label` (e.g. a table file id) prefixes the message: "deepn-v1 luma[12]: ...". */
export function validateTables(tables: unknown, label = 'tables'): asserts tables is QuantTables {
  if (tables === null || typeof tables !== 'object') throw new TypeError(`${label}: expected { luma, chroma }`)
  const t = tables as Record<string, unknown>
  validateTable(t.luma, `${label} luma`)
  validateTable(t.chroma, `${label} chroma`)
}

/**
 * Parses and validates a table file (`{ id, luma[64], chroma[64], huffman?, source? }`, natural order) from JSON text or
 * an already parsed value. `nameHint` (usually the file name) names the file in errors before its id is known.
 */
export function parseTableFile(input: string | unknown, nameHint = 'table file'): TableFile {
  let value: unknown = input
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input)
    } catch (err) {
      throw new SyntaxError(`${nameHint}: not valid JSON (${(err as Error).message})`)
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${nameHint}: expected a JSON object { id, luma, chroma }`)
  }
  const v = value as Record<string, unknown>
  if (typeof v.id !== 'string' || v.id.length === 0) throw new TypeError(`${nameHint}: "id" must be a non-empty string`)
  validateTables(v, `${nameHint} (id ${v.id})`)
  if (v.source !== undefined && (v.source === null || typeof v.source !== 'object' || Array.isArray(v.source))) {
    throw new TypeError(`${nameHint} (id ${v.id}): "source" must be an object when present`)
  }
  const out: TableFile = { id: v.id, luma: Array.from(v.luma as number[]), chroma: Array.from(v.chroma as number[]) }
  if (v.huffman !== undefined) {
    validateHuffmanTables(v.huffman, `${nameHint} (id ${v.id}) huffman`)
    out.huffman = cleanHuffmanTables(v.huffman as HuffmanTables)
  }
  if (v.source !== undefined) out.source = v.source as Record<string, unknown>
  return out
}
