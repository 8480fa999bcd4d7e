import t from 'tap'
import { SeqRanges } from '../../../scripts/backend/receive/seq-ranges'

t.test('in-order stream is one range; duplicates refused', async (t) => {
  const s = new SeqRanges()
  let added = 0
  for (let i = 1; i <= 1000; i++) if (s.add(i)) added++
  t.equal(added, 1000, 'every new seq is added')
  t.equal(s.add(500), false, 'duplicate')
  t.equal(s.size, 1000)
  t.equal(s.contiguousThrough, 1000)
  t.same(s.gaps(), [])
})

t.test('a gap that later fills is not a loss', async (t) => {
  const s = new SeqRanges()
  for (const i of [1, 2, 3, 7, 8, 5]) s.add(i)
  t.same(s.gaps(), [
    { from: 4, to: 4 },
    { from: 6, to: 6 },
  ])
  t.equal(s.missing(), 2)
  t.equal(s.contiguousThrough, 3, 'ack may not claim past the first hole')
  s.add(4)
  t.equal(s.contiguousThrough, 5)
  s.add(6)
  t.same(s.gaps(), [])
  t.equal(s.contiguousThrough, 8)
  t.equal(s.size, 8)
  t.equal(s.first, 1)
  t.equal(s.last, 8)
})

t.test('random order matches a Set', async (t) => {
  const s = new SeqRanges()
  const ref = new Set<number>()
  let x = 12345
  const wrong: number[] = []
  for (let k = 0; k < 5000; k++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff
    const seq = x % 700
    if (s.add(seq) === ref.has(seq)) wrong.push(seq)
    ref.add(seq)
  }
  t.same(wrong, [], 'add() reports new vs duplicate like a Set')
  t.equal(s.size, ref.size)
  for (let seq = 0; seq < 700; seq++) if (s.has(seq) !== ref.has(seq)) t.fail(`has(${seq})`)
  const missing = [...Array(s.last! - s.first! + 1).keys()].map((k) => k + s.first!).filter((k) => !ref.has(k)).length
  t.equal(s.missing(), missing)
})

t.test('bad seqs are refused with a reason', async (t) => {
  const s = new SeqRanges()
  t.throws(() => s.add(-1), /non-negative integer/)
  t.throws(() => s.add(1.5), /non-negative integer/)
})

t.test('addRange merges and counts only new seqs; absentIn lists the holes of a span', async (t) => {
  const s = new SeqRanges()
  for (const i of [1, 2, 3, 10, 20]) s.add(i)
  t.equal(s.addRange(5, 12), 7, '5..12 adds 7 (10 was there)')
  t.same(s.gaps(), [
    { from: 4, to: 4 },
    { from: 13, to: 19 },
  ])
  t.equal(s.addRange(4, 4), 1, 'joins the neighbours')
  t.equal(s.contiguousThrough, 12)
  t.equal(s.size, 13)
  t.same(s.absentIn(1, 25), [
    { from: 13, to: 19 },
    { from: 21, to: 25 },
  ])
  t.same(s.absentIn(2, 3), [])
  t.same(s.clone().gaps(), s.gaps())
  t.throws(() => s.addRange(5, 4), RangeError)
})
