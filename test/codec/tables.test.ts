import t from 'tap'
import {
  ANNEX_K_LUMA,
  ANNEX_K_CHROMA,
  ZIGZAG,
  parseTableFile,
  qualityScaling,
  qualityTables,
  validateTables,
} from '../../shared/codec/tables'

t.test('IJG quality scaling', async (t) => {
  t.equal(qualityScaling(50), 100)
  t.equal(qualityScaling(75), 50)
  t.equal(qualityScaling(10), 500)
  t.equal(qualityScaling(100), 0)
  t.same(qualityTables(50).luma, ANNEX_K_LUMA)
  t.same(qualityTables(100).luma, new Array(64).fill(1), 'q100 clamps to 1')
  t.ok(
    qualityTables(1).chroma.every((v) => v === 255),
    'q1 clamps to 255 (force_baseline)',
  )
  t.equal(qualityTables(75).luma[0], 8, '(16*50+50)/100 = 8')
  t.equal(qualityTables(75).chroma[63], 50, '(99*50+50)/100 = 50')
  t.throws(() => qualityTables(0), /quality must be an integer 1\.\.100, got 0/)
  t.throws(() => qualityTables(50.5), /quality/)
  t.throws(() => qualityTables(101), /quality/)
})

t.test('zigzag is a permutation walking anti-diagonals', async (t) => {
  t.same(
    [...ZIGZAG].sort((a, b) => a - b),
    Array.from({ length: 64 }, (_, i) => i),
  )
  for (let k = 1; k < 64; k++) {
    const a = ZIGZAG[k - 1],
      b = ZIGZAG[k]
    const da = (a >> 3) + (a & 7),
      db = (b >> 3) + (b & 7)
    t.ok(db === da || db === da + 1, `step ${k} stays on or moves to the next diagonal`)
  }
})

t.test('validation names the table and the index', async (t) => {
  const good = { luma: [...ANNEX_K_LUMA], chroma: [...ANNEX_K_CHROMA] }
  t.doesNotThrow(() => validateTables(good))
  t.throws(() => validateTables({ ...good, luma: good.luma.slice(1) }), /tables luma: expected 64 values, got 63/)
  t.throws(
    () => validateTables({ ...good, chroma: good.chroma.map((v, i) => (i === 5 ? 0 : v)) }),
    /tables chroma\[5\]: 0 is outside 1\.\.255/,
  )
  t.throws(
    () => validateTables({ ...good, luma: good.luma.map((v, i) => (i === 9 ? 256 : v)) }),
    /luma\[9\]: 256 is outside/,
  )
  t.throws(
    () => validateTables({ ...good, luma: good.luma.map((v, i) => (i === 3 ? 2.5 : v)) }),
    /luma\[3\]: expected an integer, got 2\.5/,
  )
  t.throws(() => validateTables({ luma: good.luma }), /tables chroma: expected an array/)
})

t.test('parseTableFile', async (t) => {
  const file = { id: 'deepn-test', luma: [...ANNEX_K_LUMA], chroma: [...ANNEX_K_CHROMA], source: { note: 'x' } }
  t.same(parseTableFile(JSON.stringify(file)), file)
  t.throws(() => parseTableFile('{', 'a.json'), /a\.json: not valid JSON/)
  t.throws(() => parseTableFile({ ...file, id: '' }, 'a.json'), /a\.json: "id" must be a non-empty string/)
  t.throws(
    () => parseTableFile({ ...file, chroma: file.chroma.map((v, i) => (i === 63 ? -1 : v)) }, 'a.json'),
    /a\.json \(id deepn-test\) chroma\[63\]: -1 is outside 1\.\.255/,
  )
  t.throws(() => parseTableFile([], 'a.json'), /expected a JSON object/)
})
