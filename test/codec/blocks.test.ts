import t from 'tap'
import { forEachDctBlock, forEachDctBlockFloat } from '../../shared/codec/blocks'
import type { RawImage } from '../../shared/codec/types'

function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s >>> 24
  }
}

function randomImage(width: number, height: number, format: 'gray' | 'rgb', seed = 1): RawImage {
  const r = rng(seed)
  const data = new Uint8Array(width * height * (format === 'gray' ? 1 : 3))
  for (let i = 0; i < data.length; i++) data[i] = r()
  return { width, height, data, format }
}

/** Orthonormal 2-D DCT-II in float, the reference the islow output approximates. */
function refDct(block: number[]): number[] {
  const out: number[] = []
  for (let v = 0; v < 8; v++) {
    for (let u = 0; u < 8; u++) {
      let s = 0
      for (let y = 0; y < 8; y++)
        for (let x = 0; x < 8; x++)
          s +=
            block[y * 8 + x] * Math.cos(((2 * x + 1) * u * Math.PI) / 16) * Math.cos(((2 * y + 1) * v * Math.PI) / 16)
      const cu = u === 0 ? Math.SQRT1_2 : 1
      const cv = v === 0 ? Math.SQRT1_2 : 1
      out.push((s * cu * cv) / 4)
    }
  }
  return out
}

t.test('constant gray image: DC only, orthonormal units', async (t) => {
  const img: RawImage = { width: 8, height: 8, data: new Uint8Array(64).fill(200), format: 'gray' }
  const seen: number[][] = []
  forEachDctBlock(img, '444', (c, coef) => seen.push([c, ...coef]))
  t.equal(seen.length, 1)
  t.equal(seen[0][0], 0)
  t.equal(seen[0][1], 8 * (200 - 128), 'DC = 8 * (mean - 128)')
  t.same(seen[0].slice(2), new Array(63).fill(0))
})

t.test('gray blocks track the float DCT and the float variant is the exact islow/8', async (t) => {
  const img = randomImage(16, 8, 'gray', 7)
  const ints: number[][] = []
  const floats: number[][] = []
  forEachDctBlock(img, '444', (_c, coef) => ints.push(Array.from(coef)))
  forEachDctBlockFloat(img, '444', (_c, coef) => floats.push(Array.from(coef)))
  t.equal(ints.length, 2)
  for (let b = 0; b < 2; b++) {
    const block: number[] = []
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) block.push(img.data[y * 16 + b * 8 + x] - 128)
    const ref = refDct(block)
    let worst = 0
    for (let i = 0; i < 64; i++) {
      worst = Math.max(worst, Math.abs(floats[b][i] - ref[i]))
      t.equal(ints[b][i], Math.sign(floats[b][i]) * Math.round(Math.abs(floats[b][i])), `int = rounded float at ${i}`)
      t.equal(floats[b][i] * 8, Math.round(floats[b][i] * 8), 'float is a multiple of 1/8')
    }
    t.ok(worst < 1, `islow within 1 of the float DCT (worst ${worst.toFixed(3)})`)
  }
})

t.test('block counts per component follow libjpeg geometry for odd sizes', async (t) => {
  const count = (img: RawImage, s: '444' | '420'): number[] => {
    const n = [0, 0, 0]
    forEachDctBlock(img, s, (c) => n[c]++)
    return n
  }
  t.same(count(randomImage(17, 9, 'rgb'), '444'), [6, 6, 6])
  t.same(count(randomImage(17, 9, 'rgb'), '420'), [6, 2, 2], 'Y 3x2 real blocks, chroma ceil(17/16) x ceil(9/16)')
  t.same(count(randomImage(1, 1, 'rgb'), '420'), [1, 1, 1])
  t.same(count(randomImage(33, 31, 'gray'), '420'), [20, 0, 0], 'gray ignores subsampling')
})

t.test('bad input is refused with a message naming the problem', async (t) => {
  const img = randomImage(4, 4, 'rgb')
  t.throws(
    () => forEachDctBlock({ ...img, data: img.data.subarray(1) }, '444', () => {}),
    /image\.data: 47 bytes.*needs exactly 48/,
  )
  t.throws(() => forEachDctBlock({ ...img, width: 0 }, '444', () => {}), /image\.width/)
  t.throws(() => forEachDctBlock(img, '422' as never, () => {}), /subsampling/)
  t.throws(() => forEachDctBlock({ ...img, format: 'bgr' as never }, '444', () => {}), /unknown pixel format "bgr"/)
})

t.test(
  "forEachDctBlock sees exactly the encoder's blocks: equal to its quantized output with all-1 tables",
  async (t) => {
    const { CoefficientMaker, resolveOptions } = await import('../../shared/codec/encoder')
    const { frameLayout } = await import('../../shared/codec/layout')
    const { ZIGZAG } = await import('../../shared/codec/tables')
    for (const [w, h, sub] of [
      [37, 21, '420'],
      [37, 21, '444'],
      [16, 16, '420'],
    ] as const) {
      const image = randomImage(w, h, 'rgb', w + h)
      const ones = new Array(64).fill(1)
      const r = resolveOptions(image, { tables: { luma: ones, chroma: ones }, subsampling: sub })
      const layout = frameLayout(w, h, 'rgb', sub)
      const maker = new CoefficientMaker(image, layout, r)
      const perRow = layout.mcusPerRow * layout.blocksInMcu
      const coef = new Int16Array(perRow * layout.mcuRows * 64)
      for (let row = 0; row < layout.mcuRows; row++) coef.set(maker.row(row), row * perRow * 64)
      // Re-index the encoder's MCU-ordered real blocks by component, block row, block column.
      const enc = new Map<string, number[]>()
      let b = 0
      for (let my = 0; my < layout.mcuRows; my++) {
        for (let mx = 0; mx < layout.mcusPerRow; mx++) {
          layout.components.forEach((c, ci) => {
            for (let yi = 0; yi < c.v; yi++) {
              for (let xi = 0; xi < c.h; xi++, b++) {
                const by = my * c.v + yi,
                  bx = mx * c.h + xi
                if (by >= c.heightInBlocks || bx >= c.widthInBlocks) continue
                const natural = new Array<number>(64)
                for (let k = 0; k < 64; k++) natural[ZIGZAG[k]] = coef[b * 64 + k]
                enc.set(`${ci}:${by}:${bx}`, natural)
              }
            }
          })
        }
      }
      const seen: string[] = []
      const pos = [0, 0, 0]
      let mismatches = 0
      forEachDctBlock(image, sub, (ci, c) => {
        const comp = layout.components[ci]
        // Visit order: per iMCU row, component-wise row-major over that strip's real blocks.
        const idx = pos[ci]++
        const stripBlocks = comp.widthInBlocks * comp.v
        const row = Math.floor(idx / stripBlocks),
          inStrip = idx % stripBlocks
        const key = `${ci}:${row * comp.v + Math.floor(inStrip / comp.widthInBlocks)}:${inStrip % comp.widthInBlocks}`
        seen.push(key)
        const e = enc.get(key)
        if (!e || e.some((v, i) => v !== c[i])) mismatches++
      })
      t.equal(mismatches, 0, `${w}x${h} ${sub}: every block equal`)
      t.equal(new Set(seen).size, enc.size, `${w}x${h} ${sub}: same block set (${enc.size})`)
    }
  },
)
