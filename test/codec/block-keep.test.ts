/** Spatial coefficient selection (blockKeep): standard JPEG out, exact where kept, flat where DC only. */
import t from 'tap'
import { mcuKeepCounts } from '../../shared/codec/block-keep'
import { encodeJpeg } from '../../shared/codec/encoder'
import { frameLayout } from '../../shared/codec/layout'
import type { BlockKeepMap, RawImage } from '../../shared/codec/types'
import { setWasmKernelEnabled } from '../../shared/codec/wasm/kernels'
import { crop, djpeg, firstDiff, photos, toGray } from './helpers'

const photo = crop(photos()[0], 0, 0, 256, 160)

/** A cols x rows map keeping `inside` coefficients in the cells `pick` selects and `outside` elsewhere. */
function map(cols: number, rows: number, pick: (cx: number, cy: number) => boolean, inside = 64, outside = 1) {
  const keep = new Array<number>(cols * rows)
  for (let cy = 0; cy < rows; cy++)
    for (let cx = 0; cx < cols; cx++) keep[cy * cols + cx] = pick(cx, cy) ? inside : outside
  return { cols, rows, keep }
}

t.test('a map keeping everything changes no byte, on the kernel path and the TypeScript path', async (t) => {
  for (const img of [photo, toGray(photo)]) {
    for (const optimizeHuffman of [false, true]) {
      const plain = encodeJpeg(img, { quality: 80, optimizeHuffman })
      const all = encodeJpeg(img, { quality: 80, optimizeHuffman, blockKeep: map(4, 3, () => true) })
      t.equal(firstDiff(plain, all), -1, `${img.format}, optimizeHuffman ${optimizeHuffman}`)
    }
  }
})

t.test('DC-only cells decode flat, kept cells decode exactly as without a map (djpeg)', async (t) => {
  const gray = toGray(photo) // one component: 8x8 MCUs, and no chroma upsampling to blur the check
  const left = map(2, 1, (cx) => cx === 1) // left half DC only
  const jpeg = encodeJpeg(gray, { quality: 90, blockKeep: left })
  const plain = djpeg(encodeJpeg(gray, { quality: 90 }))
  const out = djpeg(jpeg)
  t.ok(jpeg.length < encodeJpeg(gray, { quality: 90 }).length * 0.8, 'fewer bytes')
  let flatBlocks = 0
  let exactRows = 0
  for (let by = 0; by < gray.height / 8; by++) {
    for (let bx = 0; bx < gray.width / 16; bx++) {
      const v = out.data[by * 8 * gray.width + bx * 8]
      let flat = true
      for (let y = 0; y < 8; y++)
        for (let x = 0; x < 8; x++) flat &&= out.data[(by * 8 + y) * gray.width + bx * 8 + x] === v
      if (flat) flatBlocks++
    }
  }
  t.equal(flatBlocks, (gray.height / 8) * (gray.width / 16), 'every left-half block is one value')
  for (let y = 0; y < gray.height; y++) {
    const a = out.data.subarray(y * gray.width + gray.width / 2, (y + 1) * gray.width)
    const b = plain.data.subarray(y * gray.width + gray.width / 2, (y + 1) * gray.width)
    if (firstDiff(a, b) === -1) exactRows++
  }
  t.equal(exactRows, gray.height, 'the right half is unchanged')
})

t.test('fewer coefficients kept, fewer bytes; the TypeScript path makes the same bytes', async (t) => {
  let prev = Infinity
  for (const keep of [64, 28, 10, 3, 1]) {
    const opts = { quality: 75, blockKeep: map(8, 5, (cx, cy) => (cx + cy) % 2 === 0, 64, keep) }
    const wasm = encodeJpeg(photo, opts)
    setWasmKernelEnabled(false)
    const ts = encodeJpeg(photo, opts)
    setWasmKernelEnabled(true)
    t.equal(firstDiff(wasm, ts), -1, `keep ${keep}: kernel and reference paths agree`)
    t.ok(wasm.length < prev || keep === 64, `keep ${keep}: ${wasm.length} bytes`)
    prev = wasm.length
    const back = djpeg(wasm)
    t.equal(back.width, photo.width, `keep ${keep}: djpeg decodes it`)
  }
})

t.test('a map is a fraction of the frame: the same map fits any resolution', async (t) => {
  const m: BlockKeepMap = { cols: 2, rows: 2, keep: [1, 2, 3, 4] }
  for (const [w, h] of [
    [64, 64],
    [1920, 1080],
    [40, 24],
  ]) {
    const layout = frameLayout(w, h, 'rgb', '420')
    const k = mcuKeepCounts(layout, m)
    t.equal(k[0], 1, `${w}x${h} top-left`)
    t.equal(k[k.length - 1], 4, `${w}x${h} bottom-right`)
  }
  const layout = frameLayout(64, 64, 'rgb', '420') // 4x4 MCUs: two per cell each way
  t.same(Array.from(mcuKeepCounts(layout, m)), [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
})

t.test('a bad map is refused, naming the field', async (t) => {
  const img: RawImage = photo
  const bad: [unknown, RegExp][] = [
    [null, /blockKeep: expected/],
    [{ cols: 0, rows: 1, keep: [] }, /blockKeep\.cols: expected an integer 1\.\.256/],
    [{ cols: 2, rows: 1, keep: [1] }, /blockKeep\.keep: 1 entries, but a 2x1 grid needs 2/],
    [{ cols: 1, rows: 1, keep: [0] }, /blockKeep\.keep\[0\]: expected an integer 1\.\.64/],
    [{ cols: 1, rows: 1, keep: [65] }, /blockKeep\.keep\[0\]/],
    [{ cols: 1, rows: 1, keep: 'x' }, /blockKeep\.keep: expected an array/],
  ]
  for (const [m, re] of bad) t.throws(() => encodeJpeg(img, { blockKeep: m as BlockKeepMap }), re, JSON.stringify(m))
})
