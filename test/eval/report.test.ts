import t from 'tap'
import { report, reportMarkdown } from '../../scripts/eval/report'
import { svgPlot } from '../../scripts/eval/plot'
import type { SweepPoint } from '../../scripts/eval/sweep'
import { fromCsv, toCsv } from '../../scripts/eval/sweep'

const pt = (curve: string, acc: number, bytes: number, extra: Partial<SweepPoint>): SweepPoint => ({
  curve,
  accuracy: acc,
  correct: Math.round(acc * 10000),
  count: 10000,
  meanBytes: bytes,
  meanScanBytes: bytes - 300,
  bpp: (8 * bytes) / 784,
  scanBpp: (8 * (bytes - 300)) / 784,
  ...extra,
})

const points: SweepPoint[] = [
  pt('jpeg', 0.8, 400, { quality: 20 }),
  pt('jpeg', 0.9, 600, { quality: 80 }),
  pt('jpeg', 0.91, 1000, { quality: 100 }),
  pt('t', 0.85, 350, { scale: 2 }),
  pt('t', 0.91, 500, { scale: 1 }),
]

t.test('paper and honest ratios from hand-computed curves', async (t) => {
  const r = report(points, 0.912)
  const row = r.rows.find((x) => x.rate === 'meanBytes' && x.label === 'q100 accuracy')!
  t.equal(row.paper, 2) // 1000 / 500
  t.equal(row.honest, 2) // JPEG reaches 0.91 only at q100 here
  const lower = r.rows.find((x) => x.rate === 'meanBytes' && x.label === 'q100 − 1 pt')!
  // target 0.90: JPEG needs 600 (q80), DeepN interpolates between 350@0.85 and 500@0.91 → 475
  t.ok(Math.abs(lower.deepnRate! - 475) < 1e-9)
  t.ok(Math.abs(lower.honest! - 600 / 475) < 1e-9)
  t.ok(Math.abs(r.band - 1.96 * Math.sqrt((0.91 * 0.09) / 10000)) < 1e-12)
  const md = reportMarkdown(r, points)
  t.match(md, /clean \(no codec\): 91\.20%/)
  t.match(md, /\| t \| whole file \| q100 accuracy = 91\.00% \| 500\.0 \| 1000\.0 \| 2\.00 \| 2\.00 \|/)
})

t.test('report needs the quality-100 reference', async (t) => {
  t.throws(() => report(points.filter((p) => p.quality !== 100)), /quality 100/)
})

t.test('CSV and SVG', async (t) => {
  const csv = toCsv(points).trim().split('\n')
  t.equal(csv.length, 6)
  t.equal(csv[1], 'jpeg,20,,10000,8000,0.8000,400.00,100.00,4.0816,1.0204')
  const svg = svgPlot(
    [
      {
        name: 'a<b',
        points: [
          { x: 1, y: 0.5 },
          { x: 2, y: 0.7 },
        ],
      },
    ],
    { title: 'T', xLabel: 'x', yLabel: 'y', hLines: [{ y: 0.6, label: 'ref' }] },
  )
  t.match(svg, /<polyline fill="none"[^>]*points="[\d.]+,[\d.]+ [\d.]+,[\d.]+"/)
  t.match(svg, /a&lt;b/)
  t.throws(() => svgPlot([], { title: '', xLabel: '', yLabel: '' }), /no points/)
})

t.test('a curve whose lowest-rate point already beats the target gives a lower-bound ratio', async (t) => {
  const pts = [...points, pt('u', 0.95, 300, { scale: 4 })]
  const r = report(pts)
  const row = r.rows.find((x) => x.curve === 'u' && x.rate === 'meanBytes' && x.label === 'q100 − 1 pt')!
  t.equal(row.lowerBound, true)
  t.equal(row.honest, 2) // 600 / 300
  t.match(
    reportMarkdown(r, pts),
    /\| u \| whole file \| q100 − 1 pt = 90\.00% \| ≤ 300\.0 \| 600\.0 \| n\/a \| ≥ 2\.00 \|/,
  )
})

t.test('CSV round trip for re-plotting', async (t) => {
  const back = fromCsv(toCsv(points))
  t.equal(back.length, points.length)
  t.same(back[2], {
    curve: 'jpeg',
    quality: 100,
    count: 10000,
    correct: 9100,
    accuracy: 0.91,
    meanBytes: 1000,
    meanScanBytes: 700,
    bpp: 10.2041,
    scanBpp: 7.1429,
  })
  t.equal(back[3].scale, 2)
  t.throws(() => fromCsv('a,b\n1,2'), /not a deepn eval CSV/)
})
