import t from 'tap'
import { expandBottom, expandRight, h2v2Row } from '../../shared/codec/sample'

t.test('h2v2 averages 2x2 with alternating 1,2 bias', async (t) => {
  // Each 2x2 sums to 6 (exact average 1.5): bias 1 rounds down (7>>2 = 1), bias 2 rounds up (8>>2 = 2).
  const a = Uint8Array.of(1, 2, 1, 2, 1, 2, 1, 2)
  const b = Uint8Array.of(1, 2, 1, 2, 1, 2, 1, 2)
  const out = new Uint8Array(4)
  h2v2Row(a, 0, b, 0, out, 0, 4)
  t.same([...out], [1, 2, 1, 2])
  const c = Uint8Array.of(10, 20, 30, 40)
  const d = Uint8Array.of(50, 60, 70, 80)
  const o2 = new Uint8Array(2)
  h2v2Row(c, 0, d, 0, o2, 0, 2)
  t.same([...o2], [(10 + 20 + 50 + 60 + 1) >> 2, (30 + 40 + 70 + 80 + 2) >> 2])
})

t.test('edge expansion replicates the last column and row', async (t) => {
  const p = Uint8Array.of(1, 2, 0, 0, 3, 4, 0, 0, 9, 9, 9, 9)
  expandRight(p, 0, 2, 4)
  expandRight(p, 4, 2, 4)
  t.same([...p.subarray(0, 8)], [1, 2, 2, 2, 3, 4, 4, 4])
  expandBottom(p, 4, 4, 1, 3)
  t.same([...p.subarray(8)], [3, 4, 4, 4])
})
