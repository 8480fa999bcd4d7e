import t from 'tap'
import { accuracyBand, equalAccuracyRatio, maxAccuracy, rateAtAccuracy } from '../../shared/deepn/curve'

const jpeg = [
  { rate: 100, accuracy: 0.7 },
  { rate: 200, accuracy: 0.85 },
  { rate: 400, accuracy: 0.9 },
  { rate: 800, accuracy: 0.91 },
]

t.test('rateAtAccuracy interpolates on the first crossing', async (t) => {
  const r80 = rateAtAccuracy(jpeg, 0.8)
  t.equal(r80?.how, 'interpolated')
  t.ok(Math.abs((r80?.rate ?? 0) - (100 + (0.1 / 0.15) * 100)) < 1e-9)
  t.same(rateAtAccuracy(jpeg, 0.9), { rate: 400, how: 'exact' })
  t.same(rateAtAccuracy(jpeg, 0.5), { rate: 100, how: 'lowest' })
  t.equal(rateAtAccuracy(jpeg, 0.95), undefined)
  // order of points does not matter; a noisy dip after the first crossing does not move it
  const noisy = [
    { rate: 300, accuracy: 0.88 },
    { rate: 100, accuracy: 0.8 },
    { rate: 200, accuracy: 0.9 },
  ]
  const rn = rateAtAccuracy(noisy, 0.85)
  t.ok(rn && rn.how === 'interpolated' && Math.abs(rn.rate - 150) < 1e-9, 'crossing between 100 and 200')
  t.equal(maxAccuracy(noisy), 0.9)
})

t.test('equal-accuracy ratio against a curve and against a fixed rate', async (t) => {
  const deepn = [
    { rate: 50, accuracy: 0.8 },
    { rate: 100, accuracy: 0.9 },
    { rate: 150, accuracy: 0.91 },
  ]
  const r = equalAccuracyRatio(deepn, jpeg, 0.9)
  t.equal(r?.ratio, 4)
  t.equal(r?.baselineRate, 400)
  t.equal(equalAccuracyRatio(deepn, 800, 0.91)?.ratio, 800 / 150)
  t.equal(equalAccuracyRatio(deepn, jpeg, 0.95), undefined)
})

t.test('band and validation', async (t) => {
  t.ok(Math.abs(accuracyBand(0.9, 10000) - 1.96 * 0.003) < 1e-12)
  t.throws(() => accuracyBand(0.9, 0), /n must be > 0/)
  t.throws(() => rateAtAccuracy([{ rate: -1, accuracy: 0.5 }], 0.5), /rate must be/)
  t.throws(() => rateAtAccuracy([{ rate: 1, accuracy: 50 }], 0.5), /accuracy must be in 0..1/)
})
