/** Fixed (trained) Huffman tables: validation, training from symbol counts, and encoding with them. */
import t from 'tap'
import jpegJs from 'jpeg-js'
import { encodeJpeg, symbolFrequencies } from '../../shared/codec/encoder'
import { STD_AC_CHROMA, STD_AC_LUMA, STD_DC_CHROMA, STD_DC_LUMA, type HuffmanSpec } from '../../shared/codec/huffman'
import {
  BASELINE_AC_SYMBOLS,
  emptySymbolCounts,
  trainHuffmanTables,
  validateHuffmanTables,
} from '../../shared/codec/huffman-tables'
import { parseTableFile, qualityTables } from '../../shared/codec/tables'
import type { HuffmanTable, HuffmanTables, RawImage } from '../../shared/codec/types'
import { djpeg, makeImage, photos, toGray } from './helpers'

const json = (s: HuffmanSpec): HuffmanTable => ({
  counts: Array.from(s.bits.subarray(1)),
  symbols: Array.from(s.huffval),
})
const STANDARD: HuffmanTables = {
  lumaDc: json(STD_DC_LUMA),
  lumaAc: json(STD_AC_LUMA),
  chromaDc: json(STD_DC_CHROMA),
  chromaAc: json(STD_AC_CHROMA),
}

function train(images: RawImage[], quality: number, chroma: boolean): HuffmanTables {
  const counts = emptySymbolCounts()
  for (const im of images) symbolFrequencies(im, { quality, subsampling: '420' }, counts)
  return trainHuffmanTables(counts, chroma)
}

t.test('the Annex K tables passed explicitly give cjpeg-identical bytes (same as the default)', async (t) => {
  for (const im of [makeImage(67, 41, 'rgb', 'random', 2), makeImage(33, 17, 'gray', 'gradient', 3)]) {
    t.same(
      encodeJpeg(im, { quality: 60, huffman: STANDARD }),
      encodeJpeg(im, { quality: 60 }),
      `${im.format} ${im.width}x${im.height}`,
    )
  }
})

t.test(
  'trained tables: smaller scans than Annex K on similar frames, same decoded pixels (djpeg and jpeg-js)',
  async (t) => {
    const set = photos()
    const [held, ...rest] = set
    for (const chroma of [true, false]) {
      const images = chroma ? rest : rest.map(toGray)
      const target = chroma ? held : toGray(held)
      const huffman = train(images, 50, chroma)
      t.doesNotThrow(() => validateHuffmanTables(huffman), 'a trained set passes validation')
      const std = encodeJpeg(target, { quality: 50 })
      const trained = encodeJpeg(target, { quality: 50, huffman })
      t.ok(
        trained.length < std.length,
        `${chroma ? 'colour' : 'gray'}: ${trained.length} B < ${std.length} B with Annex K Huffman`,
      )
      t.same(djpeg(trained).data, djpeg(std).data, 'djpeg: identical pixels (only the entropy code differs)')
      t.same(
        jpegJs.decode(trained, { useTArray: true }).data,
        jpegJs.decode(std, { useTArray: true }).data,
        'jpeg-js: identical pixels',
      )
    }
  },
)

t.test('trained tables are complete: frames unlike the training data still encode and decode', async (t) => {
  const flat = makeImage(16, 16, 'gray', 'blocks', 1)
  const huffman = train([flat], 90, false)
  t.equal(
    huffman.lumaAc.symbols.length,
    BASELINE_AC_SYMBOLS.length,
    'every AC symbol has a code though one flat frame produced only EOB',
  )
  t.equal(huffman.chromaDc, undefined, 'gray training emits no chroma pair')
  for (const im of [makeImage(40, 24, 'gray', 'random', 9), makeImage(40, 24, 'rgb', 'random', 9)]) {
    const tables = { ...qualityTables(100) }
    const jpeg = encodeJpeg(im, { tables, huffman })
    t.same(
      djpeg(jpeg).data,
      djpeg(encodeJpeg(im, { tables })).data,
      `${im.format} noise at q100 (colour reuses the luma pair)`,
    )
  }
})

t.test('bad fixed tables are refused with the reason', async (t) => {
  const im = makeImage(8, 8, 'gray', 'blocks', 1)
  const noEob = { ...STANDARD.lumaAc, symbols: STANDARD.lumaAc.symbols.map((s) => (s === 0 ? 0xfa + 1 : s)) }
  const cases: [unknown, RegExp][] = [
    [
      { ...STANDARD, lumaAc: noEob },
      /lumaAc: (no code for 1 baseline symbol\(s\) \(0x00\)|symbol 251 is not a baseline AC symbol)/,
    ],
    [{ ...STANDARD, lumaDc: { counts: [0, 1], symbols: [0] } }, /lumaDc.counts: expected 16 integers/],
    [
      { ...STANDARD, lumaDc: { ...STANDARD.lumaDc, symbols: STANDARD.lumaDc.symbols.slice(1) } },
      /counts add up to 12 codes but 11 symbols/,
    ],
    [
      { ...STANDARD, lumaDc: { counts: [2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], symbols: [0, 1] } },
      /all-ones code must stay unused/,
    ],
    [
      { lumaDc: STANDARD.lumaDc, lumaAc: STANDARD.lumaAc, chromaDc: STANDARD.chromaDc },
      /chromaDc and chromaAc come together/,
    ],
    [{ ...STANDARD, extra: STANDARD.lumaDc }, /huffman.extra: unknown table/],
    [
      { ...STANDARD, lumaDc: { ...STANDARD.lumaDc, symbols: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10] } },
      /lumaDc: Huffman table: symbol 10 appears twice/,
    ],
  ]
  for (const [huffman, re] of cases) t.throws(() => encodeJpeg(im, { huffman: huffman as HuffmanTables }), re)
  t.throws(() => encodeJpeg(im, { huffman: STANDARD, optimizeHuffman: true }), /exclude each other/)
  const file = { id: 'x', ...qualityTables(50), huffman: { ...STANDARD, lumaAc: noEob } }
  t.throws(() => parseTableFile(JSON.stringify(file), 'x.json'), /x.json \(id x\) huffman.lumaAc/)
  t.same(
    parseTableFile({ id: 'y', ...qualityTables(50), huffman: STANDARD }).huffman,
    STANDARD,
    'a valid set is kept on the parsed file',
  )
})
