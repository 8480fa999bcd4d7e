/** encodeJpeg behaviour beyond byte-exactness: decodability, metadata, input formats, option errors. */
import t from 'tap'
import jpegJs from 'jpeg-js'
import { encodeJpeg } from '../../shared/codec/encoder'
import { readJpegMetadata } from '../../shared/codec/metadata'
import { rgbToYccRow } from '../../shared/codec/color'
import { h2v2Row } from '../../shared/codec/sample'
import { qualityTables } from '../../shared/codec/tables'
import type { EncodeOptions, RawImage } from '../../shared/codec/types'
import { djpeg, firstDiff, makeImage, photos, crop, psnr } from './helpers'

/** Marker codes of the segments before SOS, in order. */
function markers(jpeg: Uint8Array): number[] {
  const out: number[] = []
  let i = 2
  while (i < jpeg.length) {
    const m = jpeg[i + 1]
    out.push(m)
    if (m === 0xda) break
    i += 2 + ((jpeg[i + 2] << 8) | jpeg[i + 3])
  }
  return out
}

function rgbOf(image: RawImage): Uint8Array {
  if (image.format === 'rgb') return image.data
  const out = new Uint8Array(image.width * image.height * 3)
  for (let i = 0; i < image.width * image.height; i++) out.set(image.data.subarray(i * 4, i * 4 + 3), i * 3)
  return out
}

t.test('every variant decodes with jpeg-js and djpeg, close to the source', async (t) => {
  const photo = crop(photos()[0], 10, 10, 75, 53)
  const variants: EncodeOptions[] = [
    { quality: 90 },
    { quality: 90, subsampling: '444' },
    { quality: 90, dct: 'ifast' },
    { quality: 90, optimizeHuffman: true },
    { quality: 90, restartInterval: 3 },
    { quality: 90, restartInterval: 1, optimizeHuffman: true, subsampling: '444' },
    { quality: 90, metadata: { frame: 1, camera: 'pi-3' } },
  ]
  for (const o of variants) {
    const jpeg = encodeJpeg(photo, o)
    const viaDjpeg = djpeg(jpeg)
    t.equal(viaDjpeg.width, 75)
    t.equal(viaDjpeg.height, 53)
    const viaJs = jpegJs.decode(jpeg, { useTArray: true, formatAsRGBA: false })
    t.equal(viaJs.width, 75)
    const p1 = psnr(photo.data, viaDjpeg.data)
    const p2 = psnr(photo.data, viaJs.data)
    t.ok(p1 > 28, `${JSON.stringify(o)}: djpeg PSNR ${p1.toFixed(1)} dB`)
    t.ok(p2 > 28, `${JSON.stringify(o)}: jpeg-js PSNR ${p2.toFixed(1)} dB`)
  }
})

t.test('restart markers appear every N MCUs, numbered RST0..7 cyclically', async (t) => {
  const image = makeImage(160, 16, 'rgb', 'random', 3) // 10 MCUs at 4:2:0
  const jpeg = encodeJpeg(image, { quality: 50, restartInterval: 1 })
  const rst: number[] = []
  for (let i = jpeg.indexOf(0xda); i < jpeg.length - 1; i++)
    if (jpeg[i] === 0xff && jpeg[i + 1] >= 0xd0 && jpeg[i + 1] <= 0xd7) rst.push(jpeg[i + 1] - 0xd0)
  t.same(rst, [0, 1, 2, 3, 4, 5, 6, 7, 0], '9 markers between 10 MCUs')
  t.ok(markers(jpeg).includes(0xdd), 'DRI present')
  t.notOk(markers(encodeJpeg(image, { quality: 50 })).includes(0xdd), 'no DRI without an interval')
})

t.test('metadata: one APP9 right after APP0, round-trips, absent when not given', async (t) => {
  const image = makeImage(20, 10, 'rgb', 'gradient')
  const meta = { seq: 42, ts: '2026-01-01T00:00:00Z', tables: 'deepn-v1', nested: { ok: true }, text: 'äö€' }
  const jpeg = encodeJpeg(image, { quality: 75, metadata: meta })
  t.same(markers(jpeg).slice(0, 3), [0xe0, 0xe9, 0xdb])
  t.same(readJpegMetadata(jpeg), meta)
  const plain = encodeJpeg(image, { quality: 75 })
  t.equal(readJpegMetadata(plain), undefined)
  t.equal(jpeg.length - plain.length, 4 + 6 + Buffer.byteLength(JSON.stringify(meta)), 'only the segment was added')
  t.throws(() => encodeJpeg(image, { metadata: { big: 'x'.repeat(70000) } }), /APP9 segment holds at most/)
})

t.test('rgba ignores alpha; gray is one component', async (t) => {
  const rgba = makeImage(19, 13, 'rgba', 'random', 5)
  const rgb: RawImage = { width: 19, height: 13, format: 'rgb', data: rgbOf(rgba) }
  t.equal(firstDiff(encodeJpeg(rgba, { quality: 70 }), encodeJpeg(rgb, { quality: 70 })), -1)
  const gray = encodeJpeg(makeImage(19, 13, 'gray', 'random'), { quality: 70, subsampling: '420' })
  const sof = gray.indexOf(0xc0, 2)
  t.equal(gray[sof + 8], 1, 'SOF0 declares one component')
  t.equal(djpeg(gray).format, 'gray')
})

t.test('yuv420p planes encode exactly like the same samples reached from RGB', async (t) => {
  // 64x40: whole-strip plane copies with a partial last MCU row (bottom edge replicated).
  for (const [w, h] of [
    [32, 16],
    [48, 32],
    [64, 40],
  ]) {
    const image = makeImage(w, h, 'rgb', 'random', w)
    // Build I420 planes with the encoder's own converter and downsampler (no right-edge padding at these sizes).
    const y = new Uint8Array(w * h),
      cb = new Uint8Array(w * h),
      cr = new Uint8Array(w * h)
    for (let r = 0; r < h; r++) rgbToYccRow(image.data, r * w * 3, 3, w, y, r * w, cb, cr, r * w)
    const cw = w / 2,
      ch = h / 2
    const u = new Uint8Array(cw * ch),
      v = new Uint8Array(cw * ch)
    for (let r = 0; r < ch; r++) {
      h2v2Row(cb, 2 * r * w, cb, (2 * r + 1) * w, u, r * cw, cw)
      h2v2Row(cr, 2 * r * w, cr, (2 * r + 1) * w, v, r * cw, cw)
    }
    const yuv: RawImage = { width: w, height: h, format: 'yuv420p', data: Uint8Array.from([...y, ...u, ...v]) }
    t.equal(
      firstDiff(encodeJpeg(yuv, { quality: 80 }), encodeJpeg(image, { quality: 80, subsampling: '420' })),
      -1,
      `${w}x${h}`,
    )
  }
  const odd: RawImage = { width: 7, height: 5, format: 'yuv420p', data: new Uint8Array(7 * 5 + 2 * 4 * 3).fill(90) }
  const dec = djpeg(encodeJpeg(odd, { quality: 90 }))
  t.equal(dec.width, 7)
  t.throws(() => encodeJpeg(odd, { subsampling: '444' }), /yuv420p input is already 4:2:0/)
})

t.test('bad input and options are refused with the problem named', async (t) => {
  const image = makeImage(8, 8, 'rgb', 'random')
  const cases: [RawImage, EncodeOptions, RegExp][] = [
    [{ ...image, data: image.data.subarray(3) }, {}, /image\.data: 189 bytes, but a 8x8 rgb frame needs exactly 192/],
    [{ ...image, width: 0 }, {}, /image\.width: must be an integer 1\.\.65535/],
    [{ ...image, height: 70000 }, {}, /image\.height/],
    [{ ...image, width: 2.5 }, {}, /image\.width/],
    [{ ...image, format: 'cmyk' as never }, {}, /unknown pixel format "cmyk"/],
    [{ ...image, data: [1, 2] as never }, {}, /image\.data: expected a Uint8Array/],
    [image, { quality: 0 }, /quality must be an integer 1\.\.100, got 0/],
    [image, { quality: 101 }, /quality/],
    [
      image,
      { tables: { luma: new Array(64).fill(1), chroma: new Array(63).fill(1) } },
      /options\.tables chroma: expected 64 values, got 63/,
    ],
    [
      image,
      { tables: { luma: new Array(64).fill(300), chroma: new Array(64).fill(1) } },
      /options\.tables luma\[0\]: 300 is outside 1\.\.255/,
    ],
    [image, { subsampling: '422' as never }, /subsampling: expected '444' or '420', got "422"/],
    [image, { dct: 'float' as never }, /dct: expected 'islow' or 'ifast'/],
    [image, { restartInterval: -1 }, /restartInterval/],
    [image, { restartInterval: 70000 }, /restartInterval/],
    [image, { optimizeHuffman: 'yes' as never }, /optimizeHuffman/],
    [image, { metadata: [1] as never }, /metadata: expected a JSON object/],
    [image, { qualty: 5 } as never, /options\.qualty: unknown option/],
  ]
  for (const [img, o, re] of cases) t.throws(() => encodeJpeg(img, o), re, re.source)
})

t.test('tables win over quality, the default is quality 75 at 4:2:0', async (t) => {
  const image = makeImage(24, 24, 'rgb', 'random', 8)
  const q40 = qualityTables(40)
  t.equal(firstDiff(encodeJpeg(image, { tables: q40, quality: 90 }), encodeJpeg(image, { quality: 40 })), -1)
  t.equal(firstDiff(encodeJpeg(image), encodeJpeg(image, { quality: 75, subsampling: '420', dct: 'islow' })), -1)
})

t.test('two-pass encodes reuse one frame buffer: a smaller frame between two large ones changes no byte', async (t) => {
  const [a, b] = photos()
  const big = crop(a, 0, 0, 200, 120)
  const small = crop(b, 0, 0, 40, 24)
  for (const o of [{ optimizeHuffman: true }, { progressive: true }] as const) {
    const first = encodeJpeg(big, { quality: 80, ...o })
    const smallAlone = encodeJpeg(small, { quality: 80, ...o })
    t.same(encodeJpeg(big, { quality: 80, ...o }), first, `${Object.keys(o)[0]}: the large frame again`)
    const smallAfter = encodeJpeg(small, { quality: 80, ...o })
    t.same(smallAfter, smallAlone, `${Object.keys(o)[0]}: the small frame after the large one (a prefix of the buffer)`)
    t.same(encodeJpeg(big, { quality: 80, ...o }), first, `${Object.keys(o)[0]}: and the large one after it`)
  }
})
