/**
 * Byte-exactness against the real libjpeg-turbo cjpeg: generated images of many sizes and patterns, random
 * valid tables, both DCTs, 4:4:4 / 4:2:0 / grayscale, -optimize and both restart forms, and real photos; every
 * case on both encoder paths (WebAssembly SIMD kernels and the TypeScript reference).
 */
import t from 'tap'
import { encodeJpeg } from '../../shared/codec/encoder'
import { encoderKernel, setWasmKernelEnabled } from '../../shared/codec/wasm/kernels'
import { qualityTables } from '../../shared/codec/tables'
import type { RawImage } from '../../shared/codec/types'
import { Cjpeg, crop, firstDiff, makeImage, photos, randomTables, toGray, type Pattern } from './helpers'

const cj = new Cjpeg()
t.teardown(() => cj.cleanup())

const SIZES: [number, number][] = [
  [1, 1],
  [2, 3],
  [7, 7],
  [8, 8],
  [9, 17],
  [15, 16],
  [16, 16],
  [17, 9],
  [23, 5],
  [31, 33],
  [40, 24],
  [64, 64],
  [97, 61],
]

function check(t: tap.Test, image: RawImage, o: Parameters<Cjpeg['encode']>[1], label: string): void {
  const ref = cj.encode(image, o)
  const restartInterval =
    typeof o.restart === 'number'
      ? o.restart
      : o.restart
        ? o.restart.rows * Math.ceil(image.width / (o.subsampling === '420' && image.format !== 'gray' ? 16 : 8))
        : 0
  const options = {
    tables: { luma: o.luma, chroma: o.chroma },
    subsampling: o.subsampling,
    dct: o.dct,
    optimizeHuffman: o.optimize,
    restartInterval,
  }
  // Both paths against cjpeg: the WebAssembly SIMD kernels (where the runtime has them) and the TypeScript reference.
  for (const kernel of [true, false]) {
    setWasmKernelEnabled(kernel)
    try {
      const ours = encodeJpeg(image, options)
      const at = firstDiff(ref, ours)
      const path = kernel ? encoderKernel() : 'typescript'
      t.equal(
        at,
        -1,
        `${label} [${path}]: identical (cjpeg ${ref.length} B, ours ${ours.length} B${at >= 0 ? `, first difference at byte ${at}` : ''})`,
      )
    } finally {
      setWasmKernelEnabled(true)
    }
  }
}

t.test('generated images, every size, standard Huffman tables', async (t) => {
  let seed = 1
  for (const [w, h] of SIZES) {
    for (const format of ['rgb', 'gray'] as const) {
      for (const pattern of ['random', 'gradient', 'blocks'] as Pattern[]) {
        const image = makeImage(w, h, format, pattern, seed++)
        const tables = seed % 3 === 0 ? qualityTables(1 + ((seed * 37) % 100)) : randomTables(seed)
        const subs = format === 'gray' ? ['444' as const] : ['444' as const, '420' as const]
        for (const subsampling of subs) {
          for (const dct of ['islow', 'ifast'] as const)
            check(t, image, { ...tables, subsampling, dct }, `${w}x${h} ${format} ${pattern} ${subsampling} ${dct}`)
        }
      }
    }
  }
})

t.test('extreme tables: all 1 (unquantized) and all 255', async (t) => {
  const image = makeImage(37, 29, 'rgb', 'random', 99)
  for (const v of [1, 255]) {
    const table = new Array(64).fill(v)
    for (const subsampling of ['444', '420'] as const) {
      for (const dct of ['islow', 'ifast'] as const)
        check(t, image, { luma: table, chroma: table, subsampling, dct }, `all-${v} ${subsampling} ${dct}`)
    }
  }
})

t.test('-optimize matches our two-pass optimal Huffman tables', async (t) => {
  let seed = 500
  for (const [w, h] of [
    [1, 1],
    [17, 9],
    [64, 64],
    [97, 61],
  ] as [number, number][]) {
    for (const format of ['rgb', 'gray'] as const) {
      const image = makeImage(w, h, format, seed % 2 ? 'random' : 'gradient', seed++)
      for (const subsampling of format === 'gray' ? ['444' as const] : ['444' as const, '420' as const]) {
        check(
          t,
          image,
          { ...qualityTables(80), subsampling, optimize: true },
          `${w}x${h} ${format} ${subsampling} optimize`,
        )
      }
    }
  }
})

t.test('restart intervals: -restart NB (MCUs) and -restart N (MCU rows)', async (t) => {
  const image = makeImage(53, 41, 'rgb', 'random', 77)
  for (const restart of [1, 2, 5, 7, 100, { rows: 1 }, { rows: 2 }]) {
    for (const subsampling of ['444', '420'] as const) {
      check(
        t,
        image,
        { ...qualityTables(60), subsampling, restart },
        `restart ${JSON.stringify(restart)} ${subsampling}`,
      )
      check(
        t,
        image,
        { ...qualityTables(60), subsampling, restart, optimize: true },
        `restart ${JSON.stringify(restart)} ${subsampling} optimize`,
      )
    }
  }
  check(t, toGray(image), { ...qualityTables(60), restart: 3 }, 'restart 3 gray')
})

t.test('real photos (mate nature backgrounds, 1/8 scale, cropped)', async (t) => {
  const all = photos()
  t.ok(all.length >= 3, `found ${all.length} photos`)
  all.forEach((photo, i) => {
    const w = Math.min(photo.width, 61 + ((i * 13) % 40))
    const h = Math.min(photo.height, 45 + ((i * 7) % 30))
    const image = crop(photo, (i * 11) % (photo.width - w + 1), (i * 5) % (photo.height - h + 1), w, h)
    const tables = i % 2 ? qualityTables(50 + i * 4) : randomTables(900 + i)
    check(t, image, { ...tables, subsampling: '420' }, `photo ${i} ${w}x${h} 420`)
    check(t, image, { ...tables, subsampling: '444', dct: 'ifast' }, `photo ${i} ${w}x${h} 444 ifast`)
    check(t, toGray(image), { ...tables }, `photo ${i} ${w}x${h} gray`)
    if (i < 3) check(t, image, { ...tables, subsampling: '420', optimize: true }, `photo ${i} 420 optimize`)
  })
})

t.test('output larger than the initial buffer estimate (noise at quality 100) grows correctly', async (t) => {
  const image = makeImage(256, 192, 'rgb', 'random', 4242)
  check(t, image, { ...qualityTables(100), subsampling: '444' }, 'noise q100 444')
  check(
    t,
    image,
    { ...qualityTables(100), subsampling: '444', optimize: true, restart: 3 },
    'noise q100 444 optimize restart',
  )
})

t.test('a full-HD frame from a photo', async (t) => {
  const big = photos().find((p) => p.width >= 320)!
  // Tile the 1/8-scale photo to 1920x1080 so the frame has natural content at the benchmark size.
  const data = new Uint8Array(1920 * 1080 * 3)
  for (let y = 0; y < 1080; y++) {
    for (let x = 0; x < 1920; x++) {
      const s = ((y % big.height) * big.width + (x % big.width)) * 3
      data.set(big.data.subarray(s, s + 3), (y * 1920 + x) * 3)
    }
  }
  check(
    t,
    { width: 1920, height: 1080, format: 'rgb', data },
    { ...qualityTables(75), subsampling: '420' },
    '1920x1080 420',
  )
})
