/**
 * Fixed Huffman tables as a stream setting (`EncodeOptions.huffman`, a table file's `huffman`): the JSON form,
 * its validation, and training tables from symbol counts gathered over many frames. A trained set is always
 * complete (every baseline symbol has a code), so any frame encodes with it, even at another scale; symbols the
 * training data never produced get the longest codes. Pure.
 */
import { deriveCodes, optimalTable, type HuffmanSpec } from './huffman'
import type { HuffmanTable, HuffmanTables } from './types'

/** Baseline 8-bit symbols: DC magnitude categories 0..11; AC EOB, ZRL and run/size with run 0..15, size 1..10. */
export const BASELINE_DC_SYMBOLS: readonly number[] = Object.freeze(Array.from({ length: 12 }, (_, i) => i))
export const BASELINE_AC_SYMBOLS: readonly number[] = Object.freeze([
  0x00,
  0xf0,
  ...Array.from({ length: 16 * 10 }, (_, i) => ((i / 10) | 0) * 16 + (i % 10) + 1),
])

/** Symbol counts per table slot (0 luma, 1 chroma), length 257 each as jpeg_gen_optimal_table wants. */
export interface SymbolCounts {
  dc: Float64Array[]
  ac: Float64Array[]
}

export function emptySymbolCounts(): SymbolCounts {
  return { dc: [new Float64Array(257), new Float64Array(257)], ac: [new Float64Array(257), new Float64Array(257)] }
}

const SLOTS = [
  ['lumaDc', 'dc'],
  ['lumaAc', 'ac'],
  ['chromaDc', 'dc'],
  ['chromaAc', 'ac'],
] as const

function validateOne(t: unknown, kind: 'dc' | 'ac', name: string): HuffmanSpec {
  if (t === null || typeof t !== 'object' || Array.isArray(t))
    throw new TypeError(`${name}: expected { counts[16], symbols[] }`)
  const { counts, symbols } = t as Record<string, unknown>
  if (
    !Array.isArray(counts) ||
    counts.length !== 16 ||
    !counts.every((c) => Number.isInteger(c) && c >= 0 && c <= 255)
  ) {
    throw new RangeError(`${name}.counts: expected 16 integers 0..255 (codes of length 1..16)`)
  }
  if (!Array.isArray(symbols) || !symbols.every((s) => Number.isInteger(s) && s >= 0 && s <= 255)) {
    throw new RangeError(`${name}.symbols: expected integers 0..255`)
  }
  const total = counts.reduce((a: number, c: number) => a + c, 0)
  if (total !== symbols.length)
    throw new RangeError(`${name}: counts add up to ${total} codes but ${symbols.length} symbols are listed`)
  const spec: HuffmanSpec = { bits: Uint8Array.from([0, ...counts]), huffval: Uint8Array.from(symbols) }
  let kraft = 0
  for (let l = 1; l <= 16; l++) kraft += spec.bits[l] / 2 ** l
  // Annex C: the all-ones code of each length is reserved, so a valid table never fills the code space.
  if (kraft >= 1)
    throw new RangeError(`${name}: the codes fill the whole code space; the all-ones code must stay unused`)
  let codes
  try {
    codes = deriveCodes(spec)
  } catch (err) {
    throw new RangeError(`${name}: ${(err as Error).message}`)
  }
  const need = kind === 'dc' ? BASELINE_DC_SYMBOLS : BASELINE_AC_SYMBOLS
  const missing = need.filter((s) => codes.size[s] === 0)
  if (missing.length > 0) {
    const hex = missing
      .slice(0, 8)
      .map((s) => `0x${s.toString(16).padStart(2, '0')}`)
      .join(', ')
    throw new RangeError(
      `${name}: no code for ${missing.length} baseline symbol(s) (${hex}${missing.length > 8 ? ', ...' : ''}); fixed tables must cover every symbol a frame can produce`,
    )
  }
  const extra = symbols.filter((s) => !need.includes(s as number))
  if (extra.length > 0)
    throw new RangeError(`${name}: symbol ${String(extra[0])} is not a baseline ${kind.toUpperCase()} symbol`)
  return spec
}

/** Checks a fixed table set; returns the specs per slot (chroma absent when the set has none). */
export function validateHuffmanTables(t: unknown, label = 'huffman'): { dc: HuffmanSpec[]; ac: HuffmanSpec[] } {
  if (t === null || typeof t !== 'object' || Array.isArray(t))
    throw new TypeError(`${label}: expected { lumaDc, lumaAc, chromaDc?, chromaAc? }`)
  const v = t as Record<string, unknown>
  for (const k of Object.keys(v))
    if (!SLOTS.some(([s]) => s === k))
      throw new RangeError(`${label}.${k}: unknown table (expected lumaDc, lumaAc, chromaDc, chromaAc)`)
  if ((v.chromaDc === undefined) !== (v.chromaAc === undefined))
    throw new RangeError(`${label}: chromaDc and chromaAc come together or not at all`)
  const dc = [validateOne(v.lumaDc, 'dc', `${label}.lumaDc`)]
  const ac = [validateOne(v.lumaAc, 'ac', `${label}.lumaAc`)]
  if (v.chromaDc !== undefined) {
    dc.push(validateOne(v.chromaDc, 'dc', `${label}.chromaDc`))
    ac.push(validateOne(v.chromaAc, 'ac', `${label}.chromaAc`))
  }
  return { dc, ac }
}

/** A validated set reduced to its data: `counts` and `symbols` per table, copied, nothing else (for storing, sending). */
export function cleanHuffmanTables(t: HuffmanTables): HuffmanTables {
  const copy = (h: HuffmanTable): HuffmanTable => ({ counts: Array.from(h.counts), symbols: Array.from(h.symbols) })
  const out: HuffmanTables = { lumaDc: copy(t.lumaDc), lumaAc: copy(t.lumaAc) }
  if (t.chromaDc && t.chromaAc) {
    out.chromaDc = copy(t.chromaDc)
    out.chromaAc = copy(t.chromaAc)
  }
  return out
}

function toJson(spec: HuffmanSpec): HuffmanTable {
  return { counts: Array.from(spec.bits.subarray(1, 17)), symbols: Array.from(spec.huffval) }
}

/** Weight of a symbol the training data never produced: far below any seen count, so the unseen symbols share
 * the longest codes and cost the seen ones almost no code space, even when the training set is small. */
const UNSEEN_WEIGHT = 1e-3

/** The optimal table for `freq` after giving each baseline symbol the training data never produced a tiny weight. */
function completeTable(freq: Float64Array, kind: 'dc' | 'ac'): HuffmanSpec {
  const f = new Float64Array(257)
  for (const s of kind === 'dc' ? BASELINE_DC_SYMBOLS : BASELINE_AC_SYMBOLS)
    f[s] = freq[s] > 0 ? freq[s] : UNSEEN_WEIGHT
  return optimalTable(f)
}

/**
 * Complete tables fitted to counts gathered with `symbolFrequencies` (shared/codec/encoder.ts). `chroma` adds
 * the second pair (colour streams); gray streams only use the luma pair.
 */
export function trainHuffmanTables(counts: SymbolCounts, chroma: boolean): HuffmanTables {
  const out: HuffmanTables = {
    lumaDc: toJson(completeTable(counts.dc[0], 'dc')),
    lumaAc: toJson(completeTable(counts.ac[0], 'ac')),
  }
  if (chroma) {
    out.chromaDc = toJson(completeTable(counts.dc[1], 'dc'))
    out.chromaAc = toJson(completeTable(counts.ac[1], 'ac'))
  }
  return out
}
