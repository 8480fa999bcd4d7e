import t from 'tap'
import { fdctIfast } from '../../shared/codec/fdct-ifast'
import { fdctIslow } from '../../shared/codec/fdct-islow'
import { rng } from './helpers'

function refDct(block: Int32Array): number[] {
  const out: number[] = []
  for (let v = 0; v < 8; v++) {
    for (let u = 0; u < 8; u++) {
      let s = 0
      for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) s += block[y * 8 + x] * Math.cos(((2 * x + 1) * u * Math.PI) / 16) * Math.cos(((2 * y + 1) * v * Math.PI) / 16)
      out.push((s * (u ? 1 : Math.SQRT1_2) * (v ? 1 : Math.SQRT1_2)) / 4)
    }
  }
  return out
}

const AAN = [1, 1.387039845, 1.306562965, 1.175875602, 1, 0.785694958, 0.5411961, 0.275899379]

t.test('islow = 8 x orthonormal DCT (within rounding); ifast = AA&N-scaled DCT (within its 8-bit constants)', async (t) => {
  const r = rng(11)
  let worstSlow = 0, worstFast = 0
  for (let n = 0; n < 200; n++) {
    const block = new Int32Array(64).map(() => r() - 128)
    const ref = refDct(block)
    const slow = block.slice()
    fdctIslow(slow)
    const fast = block.slice()
    fdctIfast(fast)
    for (let i = 0; i < 64; i++) {
      worstSlow = Math.max(worstSlow, Math.abs(slow[i] / 8 - ref[i]))
      // ifast output = DCT * 8 * aan[row] * aan[col] (the quantizer divides that back out).
      worstFast = Math.max(worstFast, Math.abs(fast[i] / (8 * AAN[i >> 3] * AAN[i & 7]) - ref[i]))
    }
  }
  t.ok(worstSlow < 0.7, `islow worst ${worstSlow.toFixed(3)}`)
  t.ok(worstFast < 6, `ifast worst ${worstFast.toFixed(3)}`)
})

t.test('flat block: only DC', async (t) => {
  const d = new Int32Array(64).fill(-100)
  fdctIslow(d)
  t.equal(d[0], -100 * 64)
  t.ok(d.slice(1).every((v) => v === 0))
})
