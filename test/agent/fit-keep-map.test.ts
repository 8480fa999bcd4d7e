/**
 * The payload-fit path keeps the keep map: encodeToFit applies it at every coarser step, refit (a stored frame
 * over a lower limit) applies the current map; the map id comes back with the fitted JPEG. Real encoder, djpeg.
 */
import t from 'tap'
import { encodeJpeg } from '../../shared/codec/encoder'
import { defaults } from '../../shared/config'
import { checkKeepMap, toBlockKeep } from '../../shared/spatial/keep-map'
import { syntheticFrame } from '../../agent/capture/synthetic'
import { COARSER, encodeToFit, refit } from '../../agent/pipeline/fit'
import { resolveTables, scaled } from '../../agent/pipeline/tables'
import { AgentStats } from '../../agent/pipeline/stats'
import { crop, djpeg, firstDiff, photos, toGray } from '../codec/helpers'

const encode = encodeJpeg

t.test('encodeToFit keeps the map through every coarser step', async (t) => {
  const image = syntheticFrame(320, 240, 3)
  const tables = resolveTables(defaults().encoder)
  const map = checkKeepMap({ id: 'half', cols: 2, rows: 1, levels: '01', keep: [1, 64] })
  const keep = { id: map.id, blockKeep: toBlockKeep(map, null, 64) }
  const base = { encode, image, tables, subsampling: '420' as const, optimizeHuffman: false }
  const natural = encodeToFit({ ...base, limit: Infinity, keep })
  t.equal(natural.steps, 0)
  t.equal(natural.keepMapId, 'half')
  const plain = encodeToFit({ ...base, limit: Infinity })
  t.equal(plain.keepMapId, undefined, 'no map: no id')
  t.ok(natural.jpeg.length < plain.jpeg.length, `${natural.jpeg.length} < ${plain.jpeg.length}`)

  const fit = encodeToFit({ ...base, limit: Math.floor(natural.jpeg.length * 0.85), keep })
  t.ok(fit.steps > 0, `${fit.steps} coarser steps`)
  t.equal(fit.keepMapId, 'half')
  let coarser = tables
  for (let i = 0; i < fit.steps; i++) coarser = scaled(coarser, COARSER) // rounded per step, as encodeToFit does
  const opts = { tables: coarser.tables, subsampling: '420' as const, huffman: coarser.huffman } // the table's trained set
  const expected = encodeJpeg(image, { ...opts, blockKeep: keep.blockKeep })
  t.equal(firstDiff(fit.jpeg, expected), -1, 'the coarser tables with the map, byte for byte')
  const withoutMap = encodeJpeg(image, opts)
  t.ok(fit.jpeg.length < withoutMap.length, 'smaller than the same step without the map')
})

t.test('refit applies the current keep map (no motion known) and says so', async (t) => {
  const gray = toGray(crop(photos()[0], 0, 0, 128, 96))
  const stored = encodeJpeg(gray, { quality: 95 })
  const encoder = {
    ...defaults().encoder,
    keepMap: checkKeepMap({ id: 'left-dc', cols: 2, rows: 1, levels: '01', keep: [1, 64] }),
  }
  const fit = refit(stored, { encode, encoder, limit: Math.floor(stored.length * 0.8) })
  t.equal(fit.keepMapId, 'left-dc')
  t.ok(fit.jpeg.length <= stored.length * 0.8)
  const out = djpeg(fit.jpeg)
  t.equal(out.format, 'gray', 'a grey frame stays one component')
  let flat = 0
  let blocks = 0
  for (let by = 0; by < 96 / 8; by++)
    for (let bx = 0; bx < 8; bx++) {
      blocks++
      const v = out.data[by * 8 * 128 + bx * 8]
      let same = true
      for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) same &&= out.data[(by * 8 + y) * 128 + bx * 8 + x] === v
      if (same) flat++
    }
  t.equal(flat, blocks, 'every block of the left half is DC only')
  const none = refit(stored, { encode, encoder: defaults().encoder, limit: Math.floor(stored.length * 0.8) })
  t.equal(none.keepMapId, undefined, 'without a map: no id')
})

t.test('telemetry numbers: the map id and the mean share of full cells, reset when the map changes', async (t) => {
  const s = new AgentStats(4)
  t.equal(s.keepMapReport(), undefined, 'no frame yet')
  s.recordKeepMap('a', 0.5)
  s.recordKeepMap('a', 0.25)
  t.same(s.keepMapReport(), { id: 'a', fullShare: 0.375 })
  for (const v of [1, 1, 1, 1]) s.recordKeepMap('a', v)
  t.same(s.keepMapReport(), { id: 'a', fullShare: 1 }, 'a window of the recent frames')
  s.recordKeepMap('b', 0.1)
  t.same(s.keepMapReport(), { id: 'b', fullShare: 0.1 }, 'a new map starts over')
  s.recordKeepMap(undefined, 1)
  t.equal(s.keepMapReport(), undefined, 'map cleared: nothing to report')
})
