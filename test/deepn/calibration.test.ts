import t from 'tap'
import { Calibration } from '../../shared/deepn/calibration'
import type { RawImage } from '../../shared/codec/types'

// Independent reference: exact orthonormal float DCT of edge-replicated 8x8 blocks of a gray image.
function refDct(block: number[]): number[] {
  const out = new Array(64).fill(0)
  const c = (k: number) => (k === 0 ? Math.SQRT1_2 : 1)
  for (let u = 0; u < 8; u++)
    for (let v = 0; v < 8; v++) {
      let s = 0
      for (let y = 0; y < 8; y++)
        for (let x = 0; x < 8; x++)
          s +=
            block[y * 8 + x] * Math.cos(((2 * y + 1) * u * Math.PI) / 16) * Math.cos(((2 * x + 1) * v * Math.PI) / 16)
      out[u * 8 + v] = 0.25 * c(u) * c(v) * s
    }
  return out
}

function grayImage(w: number, h: number, seed: number): RawImage {
  let s = seed
  const data = new Uint8Array(w * h)
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      s = (s * 1103515245 + 12345) % 2147483648
      data[y * w + x] = Math.max(
        0,
        Math.min(255, Math.round(128 + 60 * Math.sin(x / 3 + seed) + 40 * Math.cos(y / 5) + ((s >> 16) % 40) - 20)),
      )
    }
  return { width: w, height: h, format: 'gray', data }
}

t.test('gray σ matches an exact float DCT of edge-padded blocks', async (t) => {
  const cal = new Calibration()
  const ref: number[][] = []
  for (let i = 0; i < 20; i++) {
    const img = grayImage(28, 28, i + 1)
    cal.addImage(img)
    for (let by = 0; by < 4; by++)
      for (let bx = 0; bx < 4; bx++) {
        const b: number[] = []
        for (let y = 0; y < 8; y++)
          for (let x = 0; x < 8; x++) {
            const yy = Math.min(27, by * 8 + y)
            const xx = Math.min(27, bx * 8 + x)
            b.push(img.data[yy * 28 + xx] - 128)
          }
        ref.push(refDct(b))
      }
  }
  const stats = cal.stats('synthetic')
  t.equal(stats.lumaBlocks, 20 * 16)
  t.equal(stats.chromaSigma, undefined, 'gray images have no chroma statistics')
  for (let k = 0; k < 64; k++) {
    const m = ref.reduce((a, b) => a + b[k], 0) / ref.length
    const sd = Math.sqrt(ref.reduce((a, b) => a + (b[k] - m) ** 2, 0) / ref.length)
    // islow is an integer approximation of the exact DCT: allow a small absolute error
    t.ok(Math.abs(stats.lumaSigma[k] - sd) < 0.5, `σ[${k}] ${stats.lumaSigma[k].toFixed(3)} vs exact ${sd.toFixed(3)}`)
  }
})

t.test('colour 4:2:0 counts luma and pooled Cb+Cr blocks', async (t) => {
  const w = 40
  const h = 24
  const data = new Uint8Array(w * h * 3)
  for (let i = 0; i < w * h; i++) {
    data[3 * i] = (i * 7) & 255
    data[3 * i + 1] = (i * 13) & 255
    data[3 * i + 2] = (i * 3) & 255
  }
  const cal = new Calibration('420')
  cal.addImage({ width: w, height: h, format: 'rgb', data })
  const s = cal.stats('rgb')
  t.equal(s.lumaBlocks, 5 * 3)
  t.equal(s.chromaBlocks, 2 * 3 * 2) // chroma planes 20x12 → 3x2 blocks each
  t.ok(s.chromaSigma?.some((v) => v > 0))
  const cal444 = new Calibration('444')
  cal444.addImage({ width: w, height: h, format: 'rgb', data })
  t.equal(cal444.stats('rgb').chromaBlocks, 2 * 15)
})

t.test('a million-block calibration runs in constant memory', async (t) => {
  const cal = new Calibration()
  const img = grayImage(1024, 1024, 5) // 16384 blocks
  const before = process.memoryUsage().heapUsed
  for (let i = 0; i < 62; i++) cal.addImage(img)
  const grown = process.memoryUsage().heapUsed - before
  t.equal(cal.luma.count, 62 * 16384)
  t.ok(cal.luma.count > 1_000_000)
  // per-block storage would need >= 1M x 64 x 8 bytes = 512 MB; allow GC slack of a few MB
  t.ok(grown < 32 * 1024 * 1024, `heap grew ${(grown / 1048576).toFixed(1)} MB`)
})

t.test('no blocks is an error', async (t) => {
  t.throws(() => new Calibration().stats('nothing'), /no image blocks/)
})
