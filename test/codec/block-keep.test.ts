/** Spatial coefficient selection (blockKeep): standard JPEG out, exact where kept, flat where DC only. */
import t from 'tap'
import { mcuKeepCounts } from '../../shared/codec/block-keep'
import { encodeJpeg } from '../../shared/codec/encoder'
import { frameLayout } from '../../shared/codec/layout'
import type { BlockKeepMap, RawImage } from '../../shared/codec/types'
import { codecKernels, setWasmKernelEnabled } from '../../shared/codec/wasm/kernels'
import { crop, djpeg, firstDiff, photos, rng, toGray } from './helpers'

const photo = crop(photos()[0], 0, 0, 256, 160)
const kernel = codecKernels()

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

/** `image` with the pixels of the MCUs (mw x mh) whose cell `blank` picks set to mid-grey, 128 in every channel. */
function greyOut(image: RawImage, mw: number, mh: number, blank: (mx: number, my: number) => boolean): RawImage {
  const ch = image.format === 'gray' ? 1 : 3
  const data = image.data.slice()
  for (let y = 0; y < image.height; y++)
    for (let x = 0; x < image.width; x++)
      if (blank(Math.floor(x / mw), Math.floor(y / mh)))
        data.fill(128, (y * image.width + x) * ch, (y * image.width + x + 1) * ch)
  return { ...image, data }
}

t.test(
  'keep 0 blanks a cell: the same bytes as its pixels set to mid-grey, on both paths; djpeg reads 128',
  async (t) => {
    // 256x160 at 4:2:0 is 16x10 MCUs; a 16x10 map gives each MCU its own cell.
    const pick = (cx: number, cy: number) => (cx * 7 + cy * 3) % 5 < 2
    for (const [img, subsampling, mw, mh] of [
      [photo, '420', 16, 16],
      [photo, '444', 8, 8],
      [toGray(photo), '420', 8, 8],
    ] as const) {
      const cols = img.width / mw,
        rows = img.height / mh
      const blanked = map(cols, rows, pick, 0, 64)
      const grey = greyOut(img, mw, mh, pick)
      for (const optimizeHuffman of [false, true]) {
        const what = `${img.format} ${subsampling}, optimizeHuffman ${optimizeHuffman}`
        const opts = { quality: 75, subsampling, optimizeHuffman } as const
        const want = encodeJpeg(grey, opts)
        const wasm = encodeJpeg(img, { ...opts, blockKeep: blanked })
        setWasmKernelEnabled(false)
        const ts = encodeJpeg(img, { ...opts, blockKeep: blanked })
        setWasmKernelEnabled(true)
        t.equal(firstDiff(wasm, want), -1, `${what}: kernel path`)
        t.equal(firstDiff(ts, want), -1, `${what}: TypeScript path`)
      }
      // djpeg's fancy upsampling blends 4:2:0 chroma across MCU edges, so only unsubsampled frames decode to 128
      // up to the cell's edge; the bytes above already show the colour 4:2:0 cells' coefficients are all zero.
      if (img.format !== 'gray' && subsampling === '420') continue
      const out = djpeg(encodeJpeg(img, { quality: 75, subsampling, blockKeep: blanked }))
      const ch = img.format === 'gray' ? 1 : 3
      let off = 0
      for (let y = 0; y < img.height; y++)
        for (let x = 0; x < img.width; x++)
          if (pick(Math.floor(x / mw), Math.floor(y / mh)))
            for (let c = 0; c < ch; c++) if (out.data[(y * img.width + x) * ch + c] !== 128) off++
      t.equal(off, 0, `${img.format} ${subsampling}: every blanked sample decodes to 128`)
    }
  },
)

/** `image` with its pixels as RGBA (alpha varying: the encoder ignores it). */
function toRgba(image: RawImage): RawImage {
  const data = new Uint8Array(image.width * image.height * 4)
  for (let i = 0, j = 0; j < data.length; i += 3, j += 4) data.set([...image.data.subarray(i, i + 3), i & 255], j)
  return { ...image, format: 'rgba', data }
}

/** Planar I420 from an RGB image: luma per pixel, chroma from the top-left pixel of each 2x2 (odd sizes round up). */
function toI420(image: RawImage): RawImage {
  const { width: w, height: h } = image
  const cw = (w + 1) >> 1,
    ch = (h + 1) >> 1
  const data = new Uint8Array(w * h + 2 * cw * ch)
  data.set(toGray(image).data)
  for (let y = 0; y < ch; y++)
    for (let x = 0; x < cw; x++) {
      const p = (2 * y * w + 2 * x) * 3
      data[w * h + y * cw + x] = 128 + ((image.data[p + 2] - image.data[p + 1]) >> 1)
      data[w * h + cw * ch + y * cw + x] = 128 + ((image.data[p] - image.data[p + 1]) >> 1)
    }
  return { width: w, height: h, format: 'yuv420p', data }
}

/** A seeded random map: 1..12 cells each way, counts drawn from 1, 64 and anything between. */
function randomMap(r: () => number): BlockKeepMap {
  const cols = 1 + (r() % 12),
    rows = 1 + (r() % 12)
  const keep = Array.from({ length: cols * rows }, () => {
    const x = r()
    return x < 64 ? 1 : x < 128 ? 64 : 1 + (r() % 64)
  })
  return { cols, rows, keep }
}

/** Counts the fused scan kernel's calls while `run` runs (its entry points wrapped, then restored). */
function kernelCalls(run: () => void): number {
  const k = kernel!
  const { encodeBlocks, encodeBlocksFast } = k
  let calls = 0
  k.encodeBlocks = (...a) => {
    calls++
    return encodeBlocks(...a)
  }
  k.encodeBlocksFast = (...a) => {
    calls++
    return encodeBlocksFast(...a)
  }
  try {
    run()
  } finally {
    k.encodeBlocks = encodeBlocks
    k.encodeBlocksFast = encodeBlocksFast
  }
  return calls
}

t.test(
  'the fused scan kernel applies random maps byte for byte like CoefficientMaker + applyBlockKeep + HuffmanEncoder',
  { skip: kernel ? false : 'no WebAssembly SIMD in this runtime' },
  async (t) => {
    t.teardown(() => setWasmKernelEnabled(true))
    const odd = crop(photos()[1], 3, 5, 101, 67) // partial MCUs: dummy blocks in 4:2:0, edge padding
    const images = [odd, toGray(odd), toRgba(odd), toI420(odd), crop(photos()[2], 0, 0, 128, 64), toI420(photo)]
    const r = rng(2024)
    let cases = 0,
      changed = 0
    for (const image of images) {
      for (const dct of ['islow', 'ifast'] as const) {
        for (const subsampling of ['420', '444'] as const) {
          if (image.format === 'yuv420p' && subsampling === '444') continue
          for (const restartInterval of [0, 1 + (r() % 5)]) {
            const blockKeep = randomMap(r)
            const o = { quality: 60 + (r() % 40), dct, subsampling, restartInterval, blockKeep }
            const what = `${image.width}x${image.height} ${image.format} ${JSON.stringify(o).slice(0, 90)}`
            setWasmKernelEnabled(true)
            let fused: Uint8Array = new Uint8Array(0)
            t.ok(kernelCalls(() => (fused = encodeJpeg(image, o))) > 0, `${what}: the fused kernel coded it`)
            const plain = encodeJpeg(image, { ...o, blockKeep: undefined })
            setWasmKernelEnabled(false)
            t.equal(firstDiff(fused, encodeJpeg(image, o)), -1, `${what}: same bytes as the reference path`)
            cases++
            if (firstDiff(fused, plain) !== -1) changed++
          }
        }
      }
    }
    t.equal(cases, 40)
    t.ok(changed >= cases - 2, `the map changed the bytes in ${changed} of ${cases} cases`)
  },
)

t.test(
  'on the kernel path a DC-only map codes DC only: far fewer bytes, flat decoded blocks, equal to the reference',
  { skip: kernel ? false : 'no WebAssembly SIMD in this runtime' },
  async (t) => {
    t.teardown(() => setWasmKernelEnabled(true))
    const gray = toGray(photo)
    const dcOnly = { cols: 1, rows: 1, keep: [1] }
    for (const dct of ['islow', 'ifast'] as const) {
      let jpeg: Uint8Array = new Uint8Array(0)
      t.ok(kernelCalls(() => (jpeg = encodeJpeg(gray, { quality: 90, dct, blockKeep: dcOnly }))) > 0, 'kernel path')
      t.ok(jpeg.length < encodeJpeg(gray, { quality: 90, dct }).length / 3, `${dct}: ${jpeg.length} bytes`)
      const out = djpeg(jpeg).data
      let notFlat = 0
      for (let y = 0; y < gray.height; y++)
        for (let x = 0; x < gray.width; x++)
          if (out[y * gray.width + x] !== out[(y & ~7) * gray.width + (x & ~7)]) notFlat++
      t.equal(notFlat, 0, `${dct}: every decoded 8x8 block is one value`)
      setWasmKernelEnabled(false)
      t.equal(firstDiff(jpeg, encodeJpeg(gray, { quality: 90, dct, blockKeep: dcOnly })), -1, `${dct}: = reference`)
      setWasmKernelEnabled(true)
    }
  },
)

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
    [{ cols: 1, rows: 1, keep: [-1] }, /blockKeep\.keep\[0\]: expected an integer 0\.\.64/],
    [{ cols: 1, rows: 1, keep: [65] }, /blockKeep\.keep\[0\]/],
    [{ cols: 1, rows: 1, keep: 'x' }, /blockKeep\.keep: expected an array/],
  ]
  for (const [m, re] of bad) t.throws(() => encodeJpeg(img, { blockKeep: m as BlockKeepMap }), re, JSON.stringify(m))
})
