import t from 'tap'
import { PAPER_PLM, plmJumps, plmParams, plmRaw, plmTable } from '../../shared/deepn/plm'

t.test('paper parameters: segment values at hand-computed points', async (t) => {
  const p = plmParams()
  t.equal(plmRaw(0, p), 255)
  t.equal(plmRaw(10, p), 255 - 97.5)
  t.equal(plmRaw(20, p), 60) // 255 - 9.75*20: segment 1 and 2 meet at T1
  t.equal(plmRaw(40, p), 40)
  t.equal(plmRaw(60, p), 20) // last point of segment 2
  t.equal(plmRaw(60.0001, p), 240 - 3 * 60.0001) // segment 3 starts near 60: a jump up of 40
  t.equal(plmRaw(100, p), -60)
})

t.test('jumps: continuous at T1, +40 at T2 with the paper parameters', async (t) => {
  t.same(plmJumps(plmParams()), { atT1: 0, atT2: 40 })
  t.same(plmJumps(plmParams({ c: 200 })), { atT1: 0, atT2: 0 })
})

t.test('table: rounding, clamping and the scale knob', async (t) => {
  const sig = Array.from({ length: 64 }, (_, k) => k * 2) // 0..126 spans all three segments
  const q = plmTable(sig)
  t.equal(q.length, 64)
  t.equal(q[0], 255) // σ 0
  t.equal(q[5], Math.round(255 - 9.75 * 10)) // 158
  t.equal(q[10], 60) // σ 20
  t.equal(q[30], 20) // σ 60
  t.equal(q[31], Math.round(240 - 3 * 62)) // 54: the jump
  t.equal(q[63], PAPER_PLM.qMin) // σ 126 → negative → clamped
  t.ok(q.every((v) => Number.isInteger(v) && v >= 1 && v <= 255))
  const q2 = plmTable(sig, {}, 2)
  t.equal(q2[10], 120)
  t.equal(q2[63], 10) // the floor scales too
  t.equal(q2[0], 255) // ceiling stays at the baseline limit
  const qh = plmTable(sig, {}, 0.1)
  t.equal(qh[63], 1) // floor never below 1
  t.equal(qh[10], 6)
})

t.test('bad input names what is wrong', async (t) => {
  t.throws(() => plmTable([1, 2]), /64 σ values, got 2/)
  t.throws(() => plmTable(new Array(64).fill(1), {}, 0), /scale must be a positive/)
  t.throws(() => plmTable(new Array(64).fill(-1)), /σ\[0\] must be a finite number >= 0/)
  t.throws(() => plmParams({ t1: 70 }), /t1 < t2/)
  t.throws(() => plmParams({ qMin: 0 }), /qMin/)
  t.throws(() => plmParams({ k1: Number.NaN }), /k1 must be a finite number/)
})
