/** The detector-tuned table family: Annex K at tilt 0, steeper with frequency, rescalable from its source. */
import t from 'tap'
import { ANNEX_K_CHROMA, ANNEX_K_LUMA, qualityTables } from '../../shared/codec/tables'
import { rescaleTableFile } from '../../shared/deepn/table-file'
import { tiltParamsOf, tiltTableFile, tiltTables } from '../../shared/deepn/tilt-table'

t.test('tilt 0, chroma 1, scale 1 is Annex K itself (IJG quality 50)', async (t) => {
  const a = tiltTables({ tilt: 0, chroma: 1, scale: 1 })
  t.same(a.luma, [...ANNEX_K_LUMA])
  t.same(a.chroma, [...ANNEX_K_CHROMA])
  t.same(a, { luma: [...qualityTables(50).luma], chroma: [...qualityTables(50).chroma] })
})

t.test('the step grows with max(u, v); chroma has its own multiplier; entries stay 1..255', async (t) => {
  const a = tiltTables({ tilt: 1, chroma: 0.5, scale: 0.5 })
  for (let i = 0; i < 64; i++) {
    const f = Math.max(i & 7, i >> 3)
    t.equal(a.luma[i], Math.max(1, Math.min(255, Math.round(ANNEX_K_LUMA[i] * 0.5 * (1 + f)))), `luma ${i}`)
    t.equal(a.chroma[i], Math.max(1, Math.min(255, Math.round(ANNEX_K_CHROMA[i] * 0.25 * (1 + f)))), `chroma ${i}`)
  }
  const coarse = tiltTables({ tilt: 100, chroma: 1, scale: 100 })
  t.ok([...coarse.luma, ...coarse.chroma].every((v) => v >= 1 && v <= 255))
})

t.test('a tilt table file rescales from its source, keeping tilt and chroma', async (t) => {
  const file = tiltTableFile('cam-ssd', { tilt: 2, chroma: 0.5, scale: 1.5 }, { detector: 'coco-ssd' })
  t.same(tiltParamsOf(file), { tilt: 2, chroma: 0.5, scale: 1.5 })
  t.equal(file.source?.detector, 'coco-ssd', 'provenance kept')
  const r = rescaleTableFile(file, 3)
  t.same({ luma: r.luma, chroma: r.chroma }, tiltTables({ tilt: 2, chroma: 0.5, scale: 3 }))
  t.equal(r.source?.scale, 3)
  t.equal(tiltParamsOf({ id: 'x', luma: r.luma, chroma: r.chroma }), undefined, 'no source, no parameters')
})

t.test('bad parameters and ids are refused by name', async (t) => {
  t.throws(() => tiltTables({ tilt: -1, chroma: 1, scale: 1 }), /tilt: expected a number >= 0/)
  t.throws(() => tiltTables({ tilt: 0, chroma: 0, scale: 1 }), /chroma: expected a number > 0/)
  t.throws(() => tiltTables({ tilt: 0, chroma: 1, scale: Number.NaN }), /scale: expected/)
  t.throws(() => tiltTableFile('bad id!', { tilt: 0, chroma: 1, scale: 1 }), /id|table/)
  const forged = {
    id: 'x',
    luma: [],
    chroma: [],
    source: { method: 'annexk-tilt', tilt: 'steep', chroma: 1, scale: 1 },
  }
  t.throws(() => tiltParamsOf(forged as never), /tilt: expected a number/)
})
