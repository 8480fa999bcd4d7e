import t from 'tap'
import { rgbToYccRow } from '../../shared/codec/color'

function convert(r: number, g: number, b: number): [number, number, number] {
  const y = new Uint8Array(1),
    cb = new Uint8Array(1),
    cr = new Uint8Array(1)
  rgbToYccRow(Uint8Array.of(r, g, b), 0, 3, 1, y, 0, cb, cr, 0)
  return [y[0], cb[0], cr[0]]
}

t.test('fixed-point RGB→YCbCr stays within 1 of the JFIF formula and hits the extremes exactly', async (t) => {
  t.same(convert(0, 0, 0), [0, 128, 128])
  t.same(convert(255, 255, 255), [255, 128, 128])
  t.same(convert(255, 0, 0), [76, 85, 255], 'pure red: Cr reaches 255 without clamping (ONE_HALF - 1 fudge)')
  t.same(convert(0, 0, 255), [29, 255, 107])
  let worst = 0
  for (let i = 0; i < 20000; i++) {
    const r = (i * 37) & 255,
      g = (i * 101) & 255,
      b = (i * 7 + (i >> 8)) & 255
    const [y, cb, cr] = convert(r, g, b)
    const fy = 0.299 * r + 0.587 * g + 0.114 * b
    const fcb = -0.16874 * r - 0.33126 * g + 0.5 * b + 128
    const fcr = 0.5 * r - 0.41869 * g - 0.08131 * b + 128
    worst = Math.max(worst, Math.abs(y - fy), Math.abs(cb - fcb), Math.abs(cr - fcr))
  }
  t.ok(worst <= 0.5 + 1e-3, `rounded to nearest (worst error ${worst.toFixed(4)})`)
})

t.test('gray conversion and rgba stride', async (t) => {
  const y = new Uint8Array(2)
  rgbToYccRow(Uint8Array.of(255, 0, 0, 9, 0, 0, 255, 9), 0, 4, 2, y, 0, null, null, 0)
  t.same([...y], [76, 29])
})

t.test('fused 4:2:0 pair conversion equals convert → expand right → h2v2 downsample', async (t) => {
  const { rgbToYcc420Pair } = await import('../../shared/codec/color')
  const { expandRight, h2v2Row } = await import('../../shared/codec/sample')
  let seed = 9
  const next = (): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0
    return seed >>> 24
  }
  for (const w of [1, 2, 3, 15, 16, 17, 33]) {
    const cw = Math.ceil(w / 16) * 8,
      yw = Math.ceil(w / 8) * 8
    const data = new Uint8Array(w * 2 * 3).map(next)
    const ys = new Uint8Array(yw * 2),
      cb = new Uint8Array(cw),
      cr = new Uint8Array(cw)
    rgbToYcc420Pair(data, 3, w, 0, w * 3, ys, 0, yw, yw, cb, cr, 0, cw)
    const wide = cw * 2
    const y2 = new Uint8Array(wide * 2),
      cb2 = new Uint8Array(wide * 2),
      cr2 = new Uint8Array(wide * 2)
    for (let r = 0; r < 2; r++) {
      rgbToYccRow(data, r * w * 3, 3, w, y2, r * wide, cb2, cr2, r * wide)
      for (const p of [y2, cb2, cr2]) expandRight(p, r * wide, w, wide)
    }
    const cbRef = new Uint8Array(cw),
      crRef = new Uint8Array(cw)
    h2v2Row(cb2, 0, cb2, wide, cbRef, 0, cw)
    h2v2Row(cr2, 0, cr2, wide, crRef, 0, cw)
    t.same([...cb], [...cbRef], `Cb w=${w}`)
    t.same([...cr], [...crRef], `Cr w=${w}`)
    t.same([...ys.subarray(0, yw)], [...y2.subarray(0, yw)], `Y row 0 w=${w}`)
    t.same([...ys.subarray(yw)], [...y2.subarray(wide, wide + yw)], `Y row 1 w=${w}`)
  }
})
