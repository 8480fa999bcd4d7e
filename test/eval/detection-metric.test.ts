import t from 'tap'
import {
  addClassCounts,
  bootstrapF1,
  countsByClass,
  iou,
  matchFrame,
  meanAveragePrecision,
  prf,
  sumCounts,
  type Box,
} from '../../scripts/eval/detection-metric'
import { mulberry32 } from '../../shared/deepn/optimize'

const box = (x: number, y: number, w: number, h: number, cls = 'person', score = 0.9): Box => ({
  bbox: [x, y, w, h],
  class: cls,
  score,
})

t.test('iou: identical, disjoint, half overlap, touching', async (t) => {
  t.equal(iou([0, 0, 10, 10], [0, 0, 10, 10]), 1)
  t.equal(iou([0, 0, 10, 10], [20, 20, 5, 5]), 0)
  t.equal(iou([0, 0, 10, 10], [5, 0, 10, 10]), 50 / 150)
  t.equal(iou([0, 0, 10, 10], [10, 0, 10, 10]), 0, 'sharing an edge is no overlap')
  t.equal(iou([0, 0, 0, 0], [0, 0, 0, 0]), 0, 'empty boxes do not divide by zero')
})

t.test('matchFrame: same class, IoU >= 0.5, each reference used once, score threshold on both sides', async (t) => {
  const ref = [box(0, 0, 10, 10), box(100, 100, 10, 10, 'car'), box(50, 50, 10, 10, 'person', 0.4)]
  // one good person hit, a duplicate of it (fp), a car box labelled truck (fp, and the car a fn), a low-score pred ignored
  const pred = [
    box(1, 0, 10, 10, 'person', 0.8),
    box(0, 0, 10, 10, 'person', 0.7),
    box(100, 100, 10, 10, 'truck'),
    box(50, 50, 10, 10, 'person', 0.3),
  ]
  const m = matchFrame(ref, pred)
  t.same([m.tp, m.fp, m.fn], [1, 2, 1])

  t.same(
    m.matches.map((x) => x.score),
    [0.9, 0.8, 0.7],
    'highest score matched first',
  )
  t.equal(m.matches[0].class, 'truck')
  t.equal(m.matches[1].hit, true, 'the 0.8 person takes the reference')
  t.equal(m.matches[2].hit, false, 'the 0.7 duplicate finds it taken')
  const shifted = matchFrame([box(0, 0, 10, 10)], [box(4, 0, 10, 10)]) // IoU 60/140 < 0.5
  t.same([shifted.tp, shifted.fp, shifted.fn], [0, 1, 1])
  t.same(matchFrame([box(0, 0, 10, 10)], [box(4, 0, 10, 10)], { iou: 0.4 }).tp, 1, 'threshold is an option')
  const self = matchFrame(ref, ref)
  t.same([self.tp, self.fp, self.fn], [2, 0, 0], 'the reference against itself: perfect, low scores left out')
})

t.test('countsByClass: a miss counts against its own class, a wrong label against the class it claimed', async (t) => {
  const ref = [box(0, 0, 10, 10), box(100, 100, 10, 10, 'car'), box(50, 50, 10, 10, 'person', 0.4)]
  const pred = [box(1, 0, 10, 10, 'person', 0.8), box(0, 0, 10, 10, 'person', 0.7), box(100, 100, 10, 10, 'truck')]
  const by = countsByClass(ref, matchFrame(ref, pred))
  t.same(Object.fromEntries(by), {
    person: { tp: 1, fp: 1, fn: 0 },
    car: { tp: 0, fp: 0, fn: 1 },
    truck: { tp: 0, fp: 1, fn: 0 },
  })
  t.same(sumCounts([...by.values()]), { tp: 1, fp: 2, fn: 1 }, "summed over classes: matchFrame's counts")
  const total = new Map(by)
  addClassCounts(total, countsByClass([box(0, 0, 10, 10, 'car')], matchFrame([box(0, 0, 10, 10, 'car')], [])))
  t.same(total.get('car'), { tp: 0, fp: 0, fn: 2 }, 'frames add up per class')
  t.same(by.get('car'), { tp: 0, fp: 0, fn: 1 }, 'adding does not change the frame it came from')
})

t.test('prf: pooled precision, recall, F1; empty agreement is perfect', async (t) => {
  t.same(prf({ tp: 8, fp: 2, fn: 4 }), { precision: 0.8, recall: 8 / 12, f1: 16 / 22 })
  t.same(prf({ tp: 0, fp: 0, fn: 0 }), { precision: 1, recall: 1, f1: 1 })
  t.same(prf({ tp: 0, fp: 3, fn: 0 }).f1, 0)
  t.same(
    sumCounts([
      { tp: 1, fp: 2, fn: 3 },
      { tp: 4, fp: 5, fn: 6 },
    ]),
    { tp: 5, fp: 7, fn: 9 },
  )
})

t.test('mulberry32 is seeded: same seed same stream, in [0, 1)', async (t) => {
  const a = mulberry32(7),
    b = mulberry32(7),
    c = mulberry32(8)
  const xs = Array.from({ length: 1000 }, a)
  t.same(Array.from({ length: 1000 }, b), xs)
  t.not(c(), xs[0])
  t.ok(xs.every((x) => x >= 0 && x < 1))
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length
  t.ok(Math.abs(mean - 0.5) < 0.05, `roughly uniform (mean ${mean.toFixed(3)})`)
})

t.test(
  'bootstrapF1: brackets the pooled F1, reproducible, narrows with more frames, degenerate when frames agree',
  async (t) => {
    const frames = Array.from({ length: 40 }, (_, i) => ({ tp: 5, fp: i % 4 === 0 ? 2 : 0, fn: i % 5 === 0 ? 1 : 0 }))
    const f1 = prf(sumCounts(frames)).f1
    const ci = bootstrapF1(frames, { seed: 3 })
    t.ok(ci.low < f1 && f1 < ci.high, `${ci.low.toFixed(4)} < ${f1.toFixed(4)} < ${ci.high.toFixed(4)}`)
    t.same(bootstrapF1(frames, { seed: 3 }), ci, 'same seed, same interval')
    const wide = bootstrapF1(frames.slice(0, 10), { seed: 3 })
    const many = bootstrapF1([...frames, ...frames, ...frames, ...frames], { seed: 3 })
    t.ok(
      many.high - many.low < ci.high - ci.low && ci.high - ci.low < wide.high - wide.low + 1e-12,
      'more frames, narrower interval',
    )
    t.same(
      bootstrapF1([
        { tp: 3, fp: 0, fn: 0 },
        { tp: 2, fp: 0, fn: 0 },
      ]),
      { low: 1, high: 1 },
    )
    t.throws(() => bootstrapF1([]), /at least one frame/)
  },
)

t.test('meanAveragePrecision: hand-computed ranking, per class, mean over reference classes', async (t) => {
  // person: 3 reference boxes over two frames; ranked predictions hit, miss, hit => P = 1, 1/2, 2/3 at R = 1/3, 1/3, 2/3
  // all-point AP = 1/3 * 1 + 1/3 * 2/3 = 5/9. car: one box found exactly => 1.
  const frames = [
    {
      reference: [box(0, 0, 10, 10), box(20, 0, 10, 10), box(0, 40, 10, 10, 'car')],
      predicted: [
        box(0, 0, 10, 10, 'person', 0.95),
        box(60, 60, 10, 10, 'person', 0.9),
        box(0, 40, 10, 10, 'car', 0.6),
      ],
    },
    { reference: [box(0, 0, 10, 10)], predicted: [box(0, 0, 10, 10, 'person', 0.85), box(80, 0, 5, 5, 'dog', 0.99)] },
  ]
  const r = meanAveragePrecision(frames)
  t.ok(Math.abs(r.perClass.person - 5 / 9) < 1e-12, `person AP ${r.perClass.person}`)
  t.equal(r.perClass.car, 1)
  t.notOk('dog' in r.perClass, 'a class absent from the reference is not averaged')
  t.ok(Math.abs(r.map - (5 / 9 + 1) / 2) < 1e-12)
  t.equal(
    meanAveragePrecision(frames.map((f) => ({ reference: f.reference, predicted: f.reference }))).map,
    1,
    'the reference against itself',
  )
  t.equal(meanAveragePrecision([{ reference: [], predicted: [] }]).map, 1)
  t.equal(meanAveragePrecision([{ reference: [], predicted: [box(0, 0, 1, 1)] }]).map, 0)
})
