import t from 'tap'
import { SigmaAccumulator } from '../../shared/deepn/sigma'

// deterministic pseudo-random blocks (LCG) so failures reproduce
function blocks(n: number, seed: number, offset: number): number[][] {
  let s = seed
  const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648
  return Array.from({ length: n }, () => Array.from({ length: 64 }, (_, k) => offset + (rnd() - 0.5) * (k + 1) * 10))
}

function twoPass(bs: number[][]): number[] {
  return Array.from({ length: 64 }, (_, k) => {
    const m = bs.reduce((a, b) => a + b[k], 0) / bs.length
    return Math.sqrt(bs.reduce((a, b) => a + (b[k] - m) ** 2, 0) / bs.length)
  })
}

t.test('matches a two-pass population σ', async (t) => {
  const bs = blocks(500, 7, 0)
  const acc = new SigmaAccumulator()
  for (const b of bs) acc.add(b)
  t.equal(acc.count, 500)
  const want = twoPass(bs)
  acc.sigma().forEach((s, k) => t.ok(Math.abs(s - want[k]) < 1e-9 * (1 + want[k]), `σ[${k}] ${s} vs ${want[k]}`))
})

t.test('stays accurate with a large mean (DC-like) where sum-of-squares cancels', async (t) => {
  const bs = blocks(2000, 3, 1e6)
  const acc = new SigmaAccumulator()
  for (const b of bs) acc.add(b)
  const want = twoPass(bs)
  t.ok(Math.abs(acc.sigma()[0] - want[0]) < 1e-6, `σ[0] ${acc.sigma()[0]} vs ${want[0]}`)
})

t.test('merge equals one pass over the concatenation', async (t) => {
  const a = blocks(300, 11, 5)
  const b = blocks(700, 13, -3)
  const one = new SigmaAccumulator()
  for (const x of [...a, ...b]) one.add(x)
  const pa = new SigmaAccumulator()
  const pb = new SigmaAccumulator()
  a.forEach((x) => pa.add(x))
  b.forEach((x) => pb.add(x))
  pa.merge(pb)
  pa.merge(new SigmaAccumulator()) // merging an empty partial is a no-op
  t.equal(pa.count, 1000)
  const s1 = one.sigma()
  pa.sigma().forEach((s, k) => t.ok(Math.abs(s - s1[k]) < 1e-9 * (1 + s1[k])))
  pa.mean().forEach((m, k) => t.ok(Math.abs(m - one.mean()[k]) < 1e-9))
})

t.test('constant blocks give σ 0; bad input is refused', async (t) => {
  const acc = new SigmaAccumulator()
  t.throws(() => acc.sigma(), /no blocks/)
  for (let i = 0; i < 10; i++) acc.add(new Array(64).fill(42))
  t.same(acc.sigma(), new Array(64).fill(0))
  t.throws(() => acc.add([1, 2, 3]), /64 coefficients, got 3/)
})
