import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseTableFile } from '../../shared/codec/tables'
import {
  bootstrapRatios,
  classRows,
  detectMarkdown,
  detectRatios,
  majorClasses,
} from '../../scripts/eval/detect-report'
import {
  detectClassCsv,
  detectCsv,
  detectSettings,
  parseDetectCsv,
  withClassCsv,
  type DetectPoint,
  selectCurves,
} from '../../scripts/eval/detect-sweep'

const pt = (curve: string, meanBytes: number, f1: number, extra: Partial<DetectPoint> = {}): DetectPoint => ({
  curve,
  frames: 10,
  tp: 0,
  fp: 0,
  fn: 0,
  precision: f1,
  recall: f1,
  f1,
  f1Low: f1 - 0.01,
  f1High: Math.min(1, f1 + 0.01),
  map: f1,
  meanBytes,
  bpp: meanBytes / 1000,
  ...extra,
})

// standard JPEG: q100 300 KB F1 1; q60 50 KB F1 0.98; q20 24 KB F1 0.96; q10 20 KB F1 0.94 ... a candidate twice as cheap
const points = [
  pt('jpeg', 300000, 1, { quality: 100 }),
  pt('jpeg', 50000, 0.98, { quality: 60 }),
  pt('jpeg', 24000, 0.96, { quality: 20 }),
  pt('jpeg', 20000, 0.94, { quality: 10 }),
  pt('jpeg', 10000, 0.86, { quality: 5 }),
  pt('cand', 25000, 0.98, { scale: 1 }),
  pt('cand', 12000, 0.96, { scale: 2 }),
  pt('cand', 10000, 0.94, { scale: 3 }),
  pt('cand', 6000, 0.92, { scale: 4 }),
]

t.test('paper ratio is against q100, honest against the cheapest standard quality at the same F1', async (t) => {
  const rows = detectRatios(points)
  const at = (c: string, f: number) => rows.find((r) => r.curve === c && r.target === f)!
  t.equal(at('cand', 0.98).honest, 2, '50 KB / 25 KB')
  t.equal(at('cand', 0.98).paper, 12, '300 KB / 25 KB')
  // F1 0.95: JPEG interpolates between q10 (20 KB, .94) and q20 (24 KB, .96) = 22 KB; cand between 10 and 12 KB = 11 KB
  t.ok(Math.abs(at('cand', 0.95).honest! - 2) < 1e-9)
  t.equal(at('cand', 0.9).lowerBound, true, 'even its cheapest point beats 0.90: a lower bound')
  t.equal(at('jpeg', 0.98).honest, undefined, 'standard JPEG against itself has no honest ratio')
  t.equal(at('jpeg', 0.98).paper, 6, "the paper metric credits JPEG's own curve")
  t.throws(() => detectRatios(points.filter((p) => p.quality !== 100)), /needs standard JPEG quality 100/)
  // every standard quality reaches 0.95: its cheapest bytes are only a ceiling, so no honest ratio is claimed
  const easy = points.map((p) => (p.curve === 'jpeg' ? { ...p, f1: Math.max(p.f1, 0.96) } : p))
  const floor = detectRatios(easy, [0.95]).find((r) => r.curve === 'cand')!
  t.equal(floor.anchorFloor, true)
  t.equal(floor.honest, undefined, 'not 10 KB / 11 KB: neither bound holds')
  t.match(
    detectMarkdown(easy, { source: 's', testFrames: 't' }),
    /\| cand \| 0\.95 \| 11\.0 \| ≤ 10\.0 \| .* \| — \(standard JPEG's cheapest quality reaches it\) \|/,
  )
})

t.test('markdown names the ratios and marks bounds; CSV round-trips', async (t) => {
  const md = detectMarkdown(points, { source: 'clip', testFrames: '400..409', referenceDetections: 5 })
  t.match(md, /\| cand \| 0\.98 \| 25\.0 \| 50\.0 \| 12\.00 \| 2\.00 \|/)
  t.match(md, /\| cand \| 0\.90 \| ≤ 6\.0 \| .* \| ≥ 50\.00 \| ≥ /)
  t.match(md, /\| jpeg \| 0\.98 \| 50\.0 \| 50\.0 \| 6\.00 \| 1 \(itself\) \|/)
  t.match(md, /^Source: clip; test frames: 400\.\.409 \(10 frames, 5\.0 reference detections per frame\)\./)
  t.match(
    detectMarkdown(points, { source: 'x.csv', testFrames: 'as in the CSV' }),
    /^Source: x\.csv; test frames: as in the CSV \(10 frames\)\./,
    'a CSV redraw does not invent a count',
  )
  const back = parseDetectCsv(detectCsv(points))
  t.same(
    back.map((p) => [p.curve, p.quality, p.scale, p.f1, p.meanBytes]),
    points.map((p) => [p.curve, p.quality, p.scale, p.f1, p.meanBytes]),
  )
  t.throws(() => parseDetectCsv('curve,accuracy\n'), /not a deepn eval detect CSV/)
})

t.test('per class: each curve at its cheapest setting reaching the target, and what it gave up', async (t) => {
  const c = (tp: number, fp: number, fn: number) => ({ tp, fp, fn })
  // q100: 40 person boxes, 6 sports balls, 2 frisbees (too few for a column)
  const ref = { person: c(40, 0, 0), 'sports ball': c(6, 0, 0), frisbee: c(2, 0, 0) }
  const withClasses = points.map((p) => ({ ...p, classes: ref }))
  // cand's cheapest setting reaching 0.95 (12 KB) keeps every person but loses half the balls
  withClasses[6] = { ...withClasses[6], classes: { ...ref, 'sports ball': c(3, 0, 3) } }
  const rows = classRows(withClasses)
  const at = (curve: string, target: number) => rows.find((r) => r.curve === curve && r.target === target)!
  t.equal(at('cand', 0.95).point.meanBytes, 12000, 'the cheapest setting at or above 0.95, not an interpolation')
  t.same(at('cand', 0.95).f1, { person: 1, 'sports ball': 2 / 3 })
  t.equal(at('jpeg', 0.98).point.quality, 60)
  t.notOk(
    rows.some((r) => 'frisbee' in r.f1),
    'a class with 2 boxes gets no column',
  )
  const md = detectMarkdown(withClasses, { source: 's', testFrames: 't' })
  t.match(md, /\| F1 target \| curve \| setting \| KB\/frame \| person \(40\) \| sports ball \(6\) \|/)
  t.match(md, /\| 0\.95 \| cand \| ×2 \| 12\.0 \| 1\.000 \| 0\.667 \|/)
  t.notMatch(
    detectMarkdown(points, { source: 's', testFrames: 't' }),
    /Per class/,
    'no per-class counts (a CSV redraw): no table',
  )
})

t.test('per class, honest: a class held to the target on its own, against standard JPEG on that class', async (t) => {
  const c = (tp: number, fp: number, fn: number) => ({ tp, fp, fn })
  // person F1 0.98 = c(294, 6, 6), 0.96 = c(288, 12, 12), 0.94 = c(282, 18, 18), 0.92 = c(276, 24, 24), 0.86 = c(258, 42, 42)
  const f1c = { 1: c(300, 0, 0), 0.98: c(294, 6, 6), 0.96: c(288, 12, 12), 0.94: c(282, 18, 18) }
  const person = [
    f1c[1],
    f1c[0.98],
    f1c[0.96],
    f1c[0.94],
    c(258, 42, 42),
    f1c[0.98],
    f1c[0.94],
    c(276, 24, 24),
    c(276, 24, 24),
  ]
  // standard JPEG loses both classes alike; cand keeps every car and reaches the pooled targets through them
  const withClasses = points.map((p, i) => ({
    ...p,
    classes: { person: person[i], car: p.curve === 'jpeg' ? person[i] : f1c[1], frisbee: c(2, 0, 0) },
  }))
  t.same(
    majorClasses(withClasses),
    ['person', 'car'],
    'classes with 200 boxes or more, commonest first (a tie keeps order)',
  )
  const at = (rows: ReturnType<typeof detectRatios>, f: number) =>
    rows.find((r) => r.curve === 'cand' && r.target === f)!
  t.equal(at(detectRatios(withClasses), 0.95).honest, 2, 'pooled: 22 KB / 11 KB')
  const p95 = at(detectRatios(withClasses, [0.95], 'person'), 0.95)
  // person 0.95: JPEG 22 KB (q10..q20); cand between 12 KB (0.94) and 25 KB (0.98): 12 + 13/4 = 15.25 KB
  t.ok(Math.abs(p95.honest! - 22 / 15.25) < 1e-9, `person: 22 / 15.25 KB, got ${p95.honest}`)
  t.equal(at(detectRatios(withClasses, [0.95], 'car'), 0.95).lowerBound, true, 'every cand setting keeps the cars')

  // six identical frames: every resample sums to the points' counts, so the band is the point estimate itself
  const split = (n: { tp: number; fp: number; fn: number }) => c(n.tp / 6, n.fp / 6, n.fn / 6)
  const perFrame = withClasses.map((p) => ({
    counts: Array.from({ length: 6 }, () => split(p.classes.person)),
    bytes: Array.from({ length: 6 }, () => p.meanBytes),
    classes: Array.from({ length: 6 }, () => ({ person: split(p.classes.person), car: split(p.classes.car) })),
  }))
  const bands = bootstrapRatios(withClasses, perFrame, { resamples: 20, targets: [0.95], cls: 'person' })
  const b = bands.find((x) => x.curve === 'cand')!
  t.ok(Math.abs(b.low! - 22 / 15.25) < 1e-9 && Math.abs(b.high! - 22 / 15.25) < 1e-9, 'the band is on person F1')
  t.throws(
    () =>
      bootstrapRatios(
        withClasses,
        perFrame.map(({ counts, bytes }) => ({ counts, bytes })),
        { cls: 'person' },
      ),
    /needs per-frame class counts/,
  )

  const md = detectMarkdown(withClasses, { source: 's', testFrames: 't', classBands: { person: bands } })
  t.match(
    md,
    /\| curve \| F1 target \| person \(300\) KB\/frame \| person honest \| car \(300\) KB\/frame \| car honest \|/,
  )
  t.match(md, /\| cand \| 0\.95 \| 15\.3 \| 1\.44 \[1\.44, 1\.44\] \| ≤ 6\.0 \| ≥ 3\.67 \|/)
  t.notMatch(md, /frisbee \(2\) KB/, 'a class with 2 boxes gets no ratio')

  const back = withClassCsv(parseDetectCsv(detectCsv(withClasses)), detectClassCsv(withClasses))
  t.same(
    back.map((p) => p.classes),
    withClasses.map((p) => p.classes),
    'the class CSV puts every count back on its setting',
  )
  t.throws(() => withClassCsv(points, 'curve,class\n'), /not a deepn eval detect class CSV/)
  t.throws(
    () => withClassCsv(points, 'curve,quality,scale,class,tp,fp,fn,f1\njpeg,5,,person,-1,0,0,1\n'),
    /row 2: counts must be whole numbers/,
  )
})

t.test("detectSettings: optimal-Huffman twins reuse their quality's pixels; duplicate ids are refused", async (t) => {
  const table = parseTableFile(
    readFileSync(join(__dirname, '../../config/tables/natural-deepn.json'), 'utf8'),
    'natural-deepn.json',
  )
  const s = detectSettings({ qualities: [50, 100], optimizeHuffman: true, tables: [table], scales: [1, 2] })
  t.same(
    s.map((x) => x.key),
    ['jpeg-q50', 'jpeg-q100', 'jpeg-opt-q50', 'jpeg-opt-q100', 'natural-deepn-x1', 'natural-deepn-x2'],
  )
  t.same(
    s.map((x) => x.samePixelsAs),
    [undefined, undefined, 'jpeg-q50', 'jpeg-q100', undefined, undefined],
  )
  t.ok(
    s.every((x) => x.enc.subsampling === '420'),
    'all 4:2:0',
  )
  t.ok(s[5].enc.tables!.luma[63] >= s[4].enc.tables!.luma[63], 'a larger scale quantizes coarser')
  t.throws(
    () => detectSettings({ qualities: [50], optimizeHuffman: false, tables: [table, table], scales: [1] }),
    /both 'natural-deepn-x1'/,
  )
})

t.test('bootstrapRatios: paired resamples give a band around the ratio, and say when it is unstable', async (t) => {
  // 20 frames; each setting's per-frame counts reproduce its F1 on average but vary by frame
  const perFrame = points.map((p) => {
    const misses = Math.round((1 - p.f1) * 100) // per 100 boxes, spread over frames
    const counts = Array.from({ length: 20 }, (_, i) => {
      const fn = Math.floor(misses / 20) + (i < misses % 20 ? 1 : 0)
      return { tp: 5 - Math.min(5, fn), fp: 0, fn: Math.min(5, fn) }
    })
    return { counts, bytes: Array.from({ length: 20 }, (_, i) => p.meanBytes * (0.8 + (0.4 * i) / 19)) }
  })
  const bands = bootstrapRatios(points, perFrame, { resamples: 100, seed: 1 })
  const b = (c: string, f: number) => bands.find((x) => x.curve === c && x.target === f)!
  t.equal(bands.length, 2 * 3, 'one band per curve and target')
  const twice = b('cand', 0.95)
  t.ok(twice.low !== undefined && twice.high !== undefined, 'a band where both curves reach 0.95')
  t.ok(twice.low! <= twice.high!, `band ${twice.low}..${twice.high}`)
  t.equal(b('jpeg', 0.98).low, undefined, 'no honest ratio for standard JPEG itself')
  t.throws(() => bootstrapRatios(points, perFrame.slice(1)), /per-frame data must match/)
  const md = detectMarkdown(points, { source: 's', testFrames: 't', bands })
  t.match(
    md,
    /\| cand \| 0\.95 \| .* \| \d\.\d\d \[\d\.\d\d, \d\.\d\d\] \|/,
    'the report prints the band next to the ratio',
  )
})

t.test('selectCurves: the named curves plus the anchors; a twin left alone makes its own detections', async (t) => {
  const nat = parseTableFile(readFileSync(join(__dirname, '../../config/tables/natural-deepn.json'), 'utf8'))
  const all = detectSettings({ qualities: [20, 50], optimizeHuffman: true, tables: [nat], scales: [1, 2] })
  const opt = { ...all[all.length - 1], key: 'tuned-opt-x1', curve: 'tuned-opt', samePixelsAs: 'natural-deepn-x2' }
  const picked = selectCurves([...all, opt], ['tuned-opt'])
  t.same(
    picked.map((s) => s.key),
    ['jpeg-q20', 'jpeg-q50', 'jpeg-opt-q20', 'jpeg-opt-q50', 'tuned-opt-x1'],
  )
  t.equal(picked.find((s) => s.key === 'jpeg-opt-q20')?.samePixelsAs, 'jpeg-q20', 'twin kept: still reused')
  t.equal(picked.find((s) => s.key === 'tuned-opt-x1')?.samePixelsAs, undefined, 'twin dropped: detects itself')
  t.equal(selectCurves(all, ['natural-deepn']).length, all.length, 'every curve named: nothing dropped')
  t.throws(
    () => selectCurves(all, ['nope']),
    /--curves: 'nope' is not a curve of this run \(it has jpeg, jpeg-opt, natural-deepn\)/,
  )
})
