import t from 'tap'
import { makeQuantizer, quantizeBlock, rawDivisor, reciprocal } from '../../shared/codec/quantize'
import { ZIGZAG } from '../../shared/codec/tables'

t.test(
  'compute_reciprocal arithmetic equals rounding division (half away from zero) for every islow divisor',
  async (t) => {
    let bad = 0
    for (let q = 1; q <= 255; q++) {
      const d = q * 8
      const [fq, c, r] = reciprocal(d)
      for (let x = -8192; x <= 8192; x++) {
        const want = Math.sign(x) * Math.floor((Math.abs(x) + (d >> 1)) / d)
        const got = Math.sign(x) * Math.floor(((Math.abs(x) + c) * fq) / 2 ** r)
        if (got !== want) bad++
      }
    }
    t.equal(bad, 0)
  },
)

t.test('the one-multiply quantizer equals the integer reciprocal/shift form for every divisor 1..2047', async (t) => {
  let bad = 0
  const ws = new Int32Array(64)
  const out = new Int16Array(64)
  for (let d = 1; d < 2048; d++) {
    const [fq, c, r] = reciprocal(d)
    // A quantizer whose every entry has divisor d: build it through the public path with a fake table.
    const q = makeQuantizer(new Array(64).fill(1), 'islow')
    q.corr.fill(c)
    q.scale.fill(fq / 2 ** r)
    for (let x0 = -16384; x0 < 16384; x0 += 64) {
      for (let i = 0; i < 64; i++) ws[i] = x0 + i
      quantizeBlock(ws, q, out, 0)
      for (let k = 0; k < 64; k++) {
        const x = ws[ZIGZAG[k]]
        const want = Math.sign(x) * Math.floor(((Math.abs(x) + c) * fq) / 2 ** r)
        if (out[k] !== want) bad++
      }
    }
  }
  t.equal(bad, 0)
})

t.test('quantizeBlock writes zigzag order; ifast folds the AA&N scales into divisors', async (t) => {
  const ws = new Int32Array(64).map((_, i) => i * 80)
  const div = makeQuantizer(new Array(64).fill(10), 'islow')
  const out = new Int16Array(64)
  quantizeBlock(ws, div, out, 0)
  for (let k = 0; k < 64; k++) t.equal(out[k], Math.floor((ZIGZAG[k] * 80 + 40) / 80))
  t.equal(rawDivisor(16, 0, 'ifast'), 128, 'DC: 16 * 8')
  t.equal(rawDivisor(16, 63, 'ifast'), (16 * 1247 + 1024) >> 11)
  t.equal(rawDivisor(1, 63, 'ifast'), 1, 'divisor 1 is the identity path')
  const id = makeQuantizer(new Array(64).fill(1), 'ifast')
  const ws2 = new Int32Array(64).fill(-37)
  quantizeBlock(ws2, id, out, 0)
  t.equal(out[63], -37, 'identity for divisor 1')
})
