import t from 'tap'
import { ifastColumns, ifastColumnsQuantize, ifastRows } from '../../shared/codec/fdct-ifast'
import { islowColumns, islowColumnsQuantize, islowRows } from '../../shared/codec/fdct-islow'
import { makeQuantizer, quantizeBlock } from '../../shared/codec/quantize'
import { randomTables, rng } from './helpers'

function refDct(samples: Uint8Array): number[] {
  const out: number[] = []
  for (let v = 0; v < 8; v++) {
    for (let u = 0; u < 8; u++) {
      let s = 0
      for (let y = 0; y < 8; y++)
        for (let x = 0; x < 8; x++)
          s +=
            (samples[y * 8 + x] - 128) *
            Math.cos(((2 * x + 1) * u * Math.PI) / 16) *
            Math.cos(((2 * y + 1) * v * Math.PI) / 16)
      out.push((s * (u ? 1 : Math.SQRT1_2) * (v ? 1 : Math.SQRT1_2)) / 4)
    }
  }
  return out
}

const AAN = [1, 1.387039845, 1.306562965, 1.175875602, 1, 0.785694958, 0.5411961, 0.275899379]

t.test(
  'islow = 8 x orthonormal DCT (within rounding); ifast = AA&N-scaled DCT (within its 8-bit constants)',
  async (t) => {
    const r = rng(11)
    let worstSlow = 0,
      worstFast = 0
    for (let n = 0; n < 200; n++) {
      const samples = new Uint8Array(64).map(() => r())
      const ref = refDct(samples)
      const slow = new Int32Array(64)
      islowRows(samples, 0, 8, slow)
      islowColumns(slow)
      const fast = new Int32Array(64)
      ifastRows(samples, 0, 8, fast)
      ifastColumns(fast)
      for (let i = 0; i < 64; i++) {
        worstSlow = Math.max(worstSlow, Math.abs(slow[i] / 8 - ref[i]))
        worstFast = Math.max(worstFast, Math.abs(fast[i] / (8 * AAN[i >> 3] * AAN[i & 7]) - ref[i]))
      }
    }
    t.ok(worstSlow < 0.7, `islow worst ${worstSlow.toFixed(3)}`)
    t.ok(worstFast < 6, `ifast worst ${worstFast.toFixed(3)}`)
  },
)

t.test('rows read a block inside a wider strip; flat block gives DC only', async (t) => {
  const strip = new Uint8Array(24 * 8).fill(7)
  for (let y = 0; y < 8; y++) strip.fill(28, y * 24 + 8, y * 24 + 16)
  const d = new Int32Array(64)
  islowRows(strip, 8, 24, d)
  islowColumns(d)
  t.equal(d[0], (28 - 128) * 64)
  t.ok(d.slice(1).every((v) => v === 0))
})

t.test('fused column pass + quantization equals column pass then quantizeBlock', async (t) => {
  const r = rng(21)
  let mismatches = 0
  for (let n = 0; n < 300; n++) {
    const samples = new Uint8Array(64).map(() => (n % 3 ? r() : 100 + (r() & 15)))
    const q = makeQuantizer(randomTables(n).luma, n % 2 ? 'islow' : 'ifast')
    const a = new Int32Array(64),
      b = new Int32Array(64)
    const fused = new Int16Array(64),
      plain = new Int16Array(64)
    const rows = n % 2 ? islowRows : ifastRows
    rows(samples, 0, 8, a)
    rows(samples, 0, 8, b)
    ;(n % 2 ? islowColumnsQuantize : ifastColumnsQuantize)(a, q, fused, 0)
    ;(n % 2 ? islowColumns : ifastColumns)(b)
    quantizeBlock(b, q, plain, 0)
    for (let i = 0; i < 64; i++) if (fused[i] !== plain[i]) mismatches++
  }
  t.equal(mismatches, 0)
})
