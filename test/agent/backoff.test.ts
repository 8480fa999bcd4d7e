import t from 'tap'
import { backoffDelay } from '../../agent/backoff'

t.test('backoff: retry n waits min·2ⁿ capped at max, jittered within [d/2, d]', async (t) => {
  t.equal(
    backoffDelay(0, 100, 1000, () => 0),
    50,
  )
  t.equal(
    backoffDelay(0, 100, 1000, () => 1),
    100,
    'the first retry waits at most min',
  )
  t.equal(
    backoffDelay(3, 100, 1000, () => 1),
    800,
  )
  t.equal(
    backoffDelay(10, 100, 1000, () => 1),
    1000,
  )
  t.equal(
    backoffDelay(10, 100, 1000, () => 0),
    500,
  )
  t.equal(
    backoffDelay(1000, 100, 1000, () => 0.5),
    750,
    'huge retry counts do not overflow',
  )
  const hi = (n: number): number => backoffDelay(n, 100, 1000, () => 1)
  const lo = (n: number): number => backoffDelay(n, 100, 1000, () => 0)
  t.same([0, 1, 2, 3, 4, 9, 99].map(hi), [100, 200, 400, 800, 1000, 1000, 1000])
  t.same([0, 1, 2, 3, 4].map(lo), [50, 100, 200, 400, 500])
})

t.test('backoff: random jitter stays in range and varies', async (t) => {
  const samples = Array.from({ length: 200 }, () => backoffDelay(2, 100, 1000))
  t.ok(
    samples.every((d) => d >= 200 && d <= 400),
    'random jitter stays in range',
  )
  t.ok(new Set(samples).size > 20, 'and actually varies')
})
