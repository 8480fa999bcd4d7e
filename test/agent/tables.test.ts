/**
 * A table's trained Huffman set through the agent's pipeline: resolveTables reads it from a table file (or a
 * pushed table), keeps it through scaling, encodeToFit hands it to the real encoder unless optimizeHuffman is on,
 * and the JPEGs decode to the same pixels as with Annex K's Huffman tables. A broken set is refused by file name.
 */
import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import jpegJs from 'jpeg-js'
import { encodeJpeg, symbolFrequencies } from '../../shared/codec/encoder'
import { emptySymbolCounts, trainHuffmanTables } from '../../shared/codec/huffman-tables'
import { STD_AC_LUMA, STD_DC_LUMA } from '../../shared/codec/huffman'
import type { HuffmanTables } from '../../shared/codec/types'
import { applyPartial, defaults, validatePartial, type AgentConfig } from '../../shared/config'
import { syntheticFrame } from '../../agent/capture/synthetic'
import { encodeToFit } from '../../agent/pipeline/fit'
import { resolveTables } from '../../agent/pipeline/tables'
import { dhtOf, readDht } from '../helpers/jpeg-dht'

const W = 64,
  H = 48
const quant = {
  luma: Array.from({ length: 64 }, (_, i) => 4 + ((i * 5) % 40)),
  chroma: Array.from({ length: 64 }, (_, i) => 8 + (i % 30)),
}

/** Trained the way a table optimiser would: symbol counts over frames like the ones the camera sends. */
function trainedSet(): HuffmanTables {
  const c = emptySymbolCounts()
  for (let n = 0; n < 8; n++) symbolFrequencies(syntheticFrame(W, H, n * 11), { tables: quant, subsampling: '420' }, c)
  return trainHuffmanTables(c, true)
}
const huffman = trainedSet()

function tablesDir(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'deepn-tables-'))
  for (const [id, body] of Object.entries(files)) writeFileSync(join(dir, `${id}.json`), JSON.stringify(body))
  return dir
}

function encoderConfig(over: Partial<AgentConfig['encoder']>): AgentConfig['encoder'] {
  return { ...defaults().encoder, ...over }
}

const fit = (enc: AgentConfig['encoder'], image = syntheticFrame(W, H, 200), limit = Infinity) =>
  encodeToFit({
    encode: encodeJpeg,
    image,
    tables: resolveTables(enc),
    subsampling: enc.subsampling,
    optimizeHuffman: enc.optimizeHuffman,
    limit,
  })
const pixels = (jpeg: Uint8Array) => jpegJs.decode(jpeg, { useTArray: true }).data

t.test('a table file with a trained set: frames use it, decode to the same pixels and are smaller', async (t) => {
  const dir = tablesDir({ trained: { id: 'trained', ...quant, huffman }, plain: { id: 'plain', ...quant } })
  const r = resolveTables(encoderConfig({ table: 'trained', tablesDir: dir }))
  t.equal(r.tableId, 'trained', 'the tableId scheme is unchanged')
  t.same(r.huffman, huffman, "resolveTables keeps the file's huffman set")
  t.equal(
    resolveTables(encoderConfig({ table: 'plain', tablesDir: dir })).huffman,
    undefined,
    'no set in the file, none resolved',
  )

  let saved = 0,
    total = 0
  for (const n of [200, 301, 457]) {
    // frames the set was not trained on, from the same camera
    const image = syntheticFrame(W, H, n)
    const withSet = fit(encoderConfig({ table: 'trained', tablesDir: dir }), image)
    const without = fit(encoderConfig({ table: 'plain', tablesDir: dir }), image)
    t.same(readDht(withSet.jpeg), dhtOf(huffman), `frame ${n}: the JPEG carries the trained tables in its DHT`)
    t.same(
      readDht(without.jpeg).ac0,
      { counts: Array.from(STD_AC_LUMA.bits.subarray(1)), symbols: Array.from(STD_AC_LUMA.huffval) },
      'without a set: Annex K',
    )
    t.same(pixels(withSet.jpeg), pixels(without.jpeg), `frame ${n}: identical pixels with jpeg-js`)
    t.not(
      withSet.jpeg.length,
      without.jpeg.length,
      `frame ${n}: size differs (${withSet.jpeg.length} B vs ${without.jpeg.length} B)`,
    )
    saved += without.jpeg.length - withSet.jpeg.length
    total += without.jpeg.length
  }
  t.ok(saved > 0, `smaller on frames like the training data: ${saved} of ${total} B saved`)
})

t.test('the set survives encoder.scale and the coarser re-encodes of encodeToFit', async (t) => {
  const dir = tablesDir({ trained: { id: 'trained', ...quant, huffman }, plain: { id: 'plain', ...quant } })
  const r = resolveTables(encoderConfig({ table: 'trained', tablesDir: dir, scale: 2 }))
  t.equal(r.tableId, 'trained*2')
  t.same(r.huffman, huffman, 'scaled tables keep the set')
  const scaledFit = fit(encoderConfig({ table: 'trained', tablesDir: dir, scale: 2 }))
  t.same(readDht(scaledFit.jpeg), dhtOf(huffman))
  t.same(
    pixels(scaledFit.jpeg),
    pixels(fit(encoderConfig({ table: 'plain', tablesDir: dir, scale: 2 })).jpeg),
    'same pixels as the scaled table without the set',
  )

  const natural = fit(encoderConfig({ table: 'trained', tablesDir: dir })).jpeg.length
  const squeezed = fit(encoderConfig({ table: 'trained', tablesDir: dir }), undefined, Math.floor(natural * 0.7))
  t.ok(squeezed.steps > 0, `re-encoded ${squeezed.steps}x coarser (${squeezed.tableId}) to fit`)
  t.same(readDht(squeezed.jpeg), dhtOf(huffman), 'the coarser re-encode still uses the set')
  t.ok(jpegJs.decode(squeezed.jpeg).width === W, 'and decodes')
})

t.test('encoder.optimizeHuffman wins: the fixed set is not passed', async (t) => {
  const dir = tablesDir({ trained: { id: 'trained', ...quant, huffman }, plain: { id: 'plain', ...quant } })
  const seen: unknown[] = []
  const r = resolveTables(encoderConfig({ table: 'trained', tablesDir: dir }))
  const opt = encodeToFit({
    encode: (im, o) => {
      seen.push(o.huffman)
      return encodeJpeg(im, o)
    },
    image: syntheticFrame(W, H, 200),
    tables: r,
    subsampling: '420',
    optimizeHuffman: true,
    limit: Infinity,
  })
  t.same(seen, [undefined], 'no huffman option with optimizeHuffman (the encoder would refuse both)')
  t.same(
    opt.jpeg,
    fit(encoderConfig({ table: 'plain', tablesDir: dir, optimizeHuffman: true })).jpeg,
    'byte-identical to the table without a set',
  )
})

t.test('encoder.progressive: the fixed set is not passed either, and the frame is progressive', async (t) => {
  const dir = tablesDir({ trained: { id: 'trained', ...quant, huffman } })
  const seen: unknown[] = []
  const enc = encoderConfig({ table: 'trained', tablesDir: dir, progressive: true })
  const prog = encodeToFit({
    encode: (im, o) => {
      seen.push([o.huffman, o.progressive])
      return encodeJpeg(im, o)
    },
    image: syntheticFrame(W, H, 200),
    tables: resolveTables(enc),
    subsampling: '420',
    optimizeHuffman: enc.optimizeHuffman,
    progressive: enc.progressive,
    limit: Infinity,
  })
  t.same(seen, [[undefined, true]], 'progressive on, no huffman option (the encoder would refuse both)')
  t.equal(prog.jpeg[prog.jpeg.indexOf(0xc2, 2) - 1], 0xff, 'SOF2')
  t.same(pixels(prog.jpeg), pixels(fit(encoderConfig({ table: 'trained', tablesDir: dir })).jpeg), 'same pixels')
})

t.test('a pushed table (encoder.tables) carries its set to the encoder', async (t) => {
  const cfg = applyPartial(
    defaults(),
    validatePartial({ encoder: { table: 'pushed', tables: { pushed: { ...quant, huffman } } } }, { remote: true }),
  )
  const r = resolveTables(cfg.encoder)
  t.equal(r.tableId, 'pushed')
  t.same(r.huffman, huffman)
  t.same(readDht(fit(cfg.encoder).jpeg), dhtOf(huffman))
})

t.test('a table file with a broken set is refused with an error naming the file', async (t) => {
  const lumaAc = { counts: huffman.lumaAc.counts.slice(), symbols: huffman.lumaAc.symbols.slice(0, -1) } // one symbol short
  lumaAc.counts[lumaAc.counts.findLastIndex((c) => c > 0)]--
  const broken = { ...huffman, lumaAc }
  const missingDc = {
    lumaDc: { counts: Array.from(STD_DC_LUMA.bits.subarray(1)), symbols: Array.from(STD_DC_LUMA.huffval) },
  } // no lumaAc
  const dir = tablesDir({
    broken: { id: 'broken', ...quant, huffman: broken },
    half: { id: 'half', ...quant, huffman: missingDc },
  })
  const file = join(dir, 'broken.json')
  t.throws(() => resolveTables(encoderConfig({ table: 'broken', tablesDir: dir })), {
    message: new RegExp(
      `^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(id broken\\) huffman\\.lumaAc: no code for 1 baseline symbol`,
    ),
  })
  t.throws(
    () => resolveTables(encoderConfig({ table: 'half', tablesDir: dir })),
    /half\.json \(id half\) huffman\.lumaAc: expected \{ counts\[16\], symbols\[\] \}/,
  )
})
