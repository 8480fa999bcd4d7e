import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { decodeImageFile, detectImageFormat, ImageDecodeError } from '../../agent/image-files/decode'

// References are real tools: djpeg writes PPM/PGM/BMP, cjpeg writes JPEG, sharp (libvips/libspng) writes PNG.
const dir = mkdtempSync(join(tmpdir(), 'deepn-decode-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

const W = 37 // odd width: 24-bit BMP rows need padding (37*3 = 111 → 112)
const H = 21

/** A deterministic colourful test image as binary PPM. */
function patternPpm(): Buffer {
  const px = Buffer.alloc(W * H * 3)
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = (y * W + x) * 3
      px[i] = (x * 7) & 255
      px[i + 1] = (y * 11 + x) & 255
      px[i + 2] = (x * y * 3) & 255
    }
  }
  return Buffer.concat([Buffer.from(`P6\n# made by the test\n${W} ${H}\n255\n`), px])
}
const ppmPath = join(dir, 'in.ppm')
writeFileSync(ppmPath, patternPpm())
const jpgPath = join(dir, 'in.jpg')
execFileSync('cjpeg', ['-quality', '95', '-sample', '1x1', '-outfile', jpgPath, ppmPath])
const djpeg = (...args: string[]): Buffer => execFileSync('djpeg', [...args, jpgPath])

/** Pixels of a PNM written by djpeg, parsed with the minimum of logic (single-space header as djpeg writes it). */
function pnmPixels(buf: Buffer): { width: number; height: number; channels: number; data: Buffer } {
  const m = /^P([56])\n(\d+) (\d+)\n255\n/.exec(buf.subarray(0, 40).toString('latin1'))
  if (!m) throw new Error('unexpected djpeg header')
  return { width: +m[2], height: +m[3], channels: m[1] === '6' ? 3 : 1, data: buf.subarray(m[0].length) }
}
const refRgb = pnmPixels(djpeg('-pnm'))
const refGray = pnmPixels(djpeg('-pnm', '-grayscale'))

t.test('magic bytes decide the format, not the name', async (t) => {
  const bytes = readFileSync(jpgPath)
  t.equal(detectImageFormat(bytes), 'jpeg')
  const img = decodeImageFile(bytes, 'looks-like.png')
  t.equal(img.format, 'rgb')
  t.equal(img.width, W)
  t.equal(detectImageFormat(new Uint8Array([1, 2, 3])), null)
})

t.test('PPM and PGM decode to the exact samples', async (t) => {
  const rgb = decodeImageFile(djpeg('-pnm'))
  t.same({ w: rgb.width, h: rgb.height, f: rgb.format }, { w: W, h: H, f: 'rgb' })
  t.ok(Buffer.from(rgb.data).equals(refRgb.data), 'P6 samples')
  const gray = decodeImageFile(djpeg('-pnm', '-grayscale'))
  t.same({ w: gray.width, h: gray.height, f: gray.format }, { w: W, h: H, f: 'gray' })
  t.ok(Buffer.from(gray.data).equals(refGray.data), 'P5 samples')
  // Comments between header fields are legal.
  const commented = decodeImageFile(readFileSync(ppmPath))
  t.equal(commented.data[3 * 5], (5 * 7) & 255)
})

t.test('PNM errors name the problem', async (t) => {
  t.throws(() => decodeImageFile(Buffer.from(`P6\n4 4\n65535\n${'x'.repeat(96)}`)), /PPM.*maxval 65535 not supported/)
  t.throws(() => decodeImageFile(Buffer.from('P5\n4 4\n255\nabc')), /PGM.*truncated raster: 3 of 16 bytes/)
  t.throws(() => decodeImageFile(Buffer.from('P6\n4')), /PPM.*truncated header/)
  t.throws(() => decodeImageFile(Buffer.from('P6\nfour 4 255\n')), /PPM.*width is not a number/)
})

/** Per-sample max abs difference. */
function maxDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Infinity
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
  return m
}

t.test('JPEG decodes close to djpeg (colour and grey)', async (t) => {
  const img = decodeImageFile(readFileSync(jpgPath), 'in.jpg')
  t.equal(img.format, 'rgb')
  // jpeg-js and libjpeg-turbo use different IDCTs; rounding may differ by a few levels, never more.
  t.ok(maxDiff(img.data, refRgb.data) <= 4, `max diff ${maxDiff(img.data, refRgb.data)} vs djpeg`)
  const grayJpg = join(dir, 'gray.jpg')
  execFileSync('cjpeg', ['-grayscale', '-quality', '95', '-outfile', grayJpg, ppmPath])
  const g = decodeImageFile(readFileSync(grayJpg))
  t.equal(g.format, 'gray', 'a 1-component JPEG stays grey')
  t.equal(g.data.length, W * H)
  const gRef = pnmPixels(execFileSync('djpeg', ['-pnm', grayJpg]))
  t.ok(maxDiff(g.data, gRef.data) <= 4, `grey max diff ${maxDiff(g.data, gRef.data)}`)
})

t.test('truncated or corrupt JPEG is an error, never a partial image', async (t) => {
  const bytes = readFileSync(jpgPath)
  t.throws(() => decodeImageFile(bytes.subarray(0, Math.floor(bytes.length * 0.6)), 'cut.jpg'), /^JPEG \(cut\.jpg\): /)
  const bad = Buffer.from(bytes)
  bad.fill(0x00, 4, 200) // keep SOI, destroy the headers
  t.throws(() => decodeImageFile(bad), /^JPEG: /)
})

t.test('resolution limit, checked before pixel memory is allocated', async (t) => {
  const big = await sharp({ create: { width: 3000, height: 2000, channels: 3, background: '#808080' } })
    .jpeg()
    .toBuffer()
  t.throws(
    () => decodeImageFile(big, 'big.jpg', { maxResolutionInMP: 5 }),
    /^JPEG \(big\.jpg\): 3000x2000 is 6 megapixels, above the 5 megapixel limit for input images$/,
  )
  t.equal(decodeImageFile(big, 'big.jpg', { maxResolutionInMP: 7 }).width, 3000)
  // Headers claiming huge sizes (tiny files): refused by the default 64 MP limit with the size named.
  const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#808080' } })
    .png()
    .toBuffer()
  png.writeUInt32BE(100000, 16)
  png.writeUInt32BE(100000, 20)
  t.throws(() => decodeImageFile(png), /^PNG: 100000x100000 is \d+ megapixels, above the 64 megapixel limit/)
  const bmp = djpeg('-bmp')
  bmp.writeInt32LE(50000, 18)
  bmp.writeInt32LE(-50000, 22)
  t.throws(() => decodeImageFile(bmp), /^BMP: 50000x50000 is \d+ megapixels, above the 64 megapixel limit/)
  t.throws(
    () => decodeImageFile(Buffer.from('P5 9000 9000 255\n')),
    /^PGM: 9000x9000 is \d+ megapixels, above the 64 megapixel limit/,
  )
})

t.test('PNG: rgb, rgba, grey, palette and 16-bit', async (t) => {
  const raw = { raw: { width: W, height: H, channels: 3 as const } }
  const rgbPng = await sharp(refRgb.data, raw).png().toBuffer()
  const rgb = decodeImageFile(rgbPng)
  t.equal(rgb.format, 'rgb')
  t.ok(Buffer.from(rgb.data).equals(refRgb.data), 'rgb PNG is lossless')

  const rgba = Buffer.alloc(W * H * 4)
  for (let i = 0; i < W * H; i++) {
    refRgb.data.copy(rgba, i * 4, i * 3, i * 3 + 3)
    rgba[i * 4 + 3] = i & 255
  }
  const rgbaImg = decodeImageFile(
    await sharp(rgba, { raw: { width: W, height: H, channels: 4 } })
      .png()
      .toBuffer(),
  )
  t.equal(rgbaImg.format, 'rgb', 'alpha dropped')
  t.ok(Buffer.from(rgbaImg.data).equals(refRgb.data), 'colour kept under alpha')

  const grayPng = await sharp(refGray.data, { raw: { width: W, height: H, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer()
  t.equal(grayPng[25], 0, 'sharp wrote colour type 0 (grey)')
  const gray = decodeImageFile(grayPng)
  t.equal(gray.format, 'gray')
  t.ok(Buffer.from(gray.data).equals(refGray.data), 'grey PNG is lossless')

  const palPng = await sharp(refRgb.data, raw).png({ palette: true, colours: 16, dither: 0 }).toBuffer()
  t.equal(palPng[25], 3, 'sharp wrote colour type 3 (palette)')
  const pal = decodeImageFile(palPng)
  t.equal(pal.format, 'rgb')
  t.equal(pal.data.length, W * H * 3)
  const colours = new Set<number>()
  for (let i = 0; i < W * H; i++)
    colours.add((pal.data[i * 3] << 16) | (pal.data[i * 3 + 1] << 8) | pal.data[i * 3 + 2])
  t.ok(colours.size > 1 && colours.size <= 16, `${colours.size} palette colours`)

  const png16 = await sharp(refRgb.data, raw).toColourspace('rgb16').png().toBuffer()
  t.equal(png16[24], 16, 'sharp wrote a 16-bit PNG')
  const img16 = decodeImageFile(png16)
  t.equal(img16.format, 'rgb')
  t.ok(maxDiff(img16.data, refRgb.data) <= 1, '16 → 8 bit keeps the values')
})

t.test('PNG corrupt / truncated', async (t) => {
  const png = await sharp(refRgb.data, { raw: { width: W, height: H, channels: 3 } })
    .png()
    .toBuffer()
  t.throws(
    () => decodeImageFile(png.subarray(0, png.length - 30), 'cut.png'),
    /^PNG \(cut\.png\): truncated: the file \(\d+ bytes\) ends before its IEND chunk$/,
  )
  const bad = Buffer.from(png)
  bad[png.indexOf('IDAT') + 10] ^= 0xff // inside the compressed data: CRC mismatch
  t.throws(() => decodeImageFile(bad), /^PNG: /)
})

t.test('BMP 24-bit bottom-up with row padding, as djpeg writes it', async (t) => {
  const bmp = djpeg('-bmp')
  t.equal(bmp.readInt32LE(22) > 0, true, 'djpeg wrote bottom-up')
  t.equal(bmp.readUInt16LE(28), 24)
  const img = decodeImageFile(bmp)
  t.same({ w: img.width, h: img.height, f: img.format }, { w: W, h: H, f: 'rgb' })
  t.ok(Buffer.from(img.data).equals(refRgb.data), 'pixels equal djpeg -pnm')
})

/** Re-encode djpeg's 24-bit BMP as top-down and/or 32-bit, keeping the pixels (header fields rewritten). */
function variantBmp(opts: { topDown: boolean; bpp: 24 | 32; bitfields?: boolean }): Buffer {
  const src = djpeg('-bmp')
  const off = src.readUInt32LE(10)
  const srcRow = Math.ceil((W * 3) / 4) * 4
  const row = Math.ceil((W * opts.bpp) / 32) * 4
  const masks = opts.bitfields ? 12 : 0
  const hdr = Buffer.alloc(54 + masks)
  hdr.write('BM', 0, 'latin1')
  hdr.writeUInt32LE(54 + masks + row * H, 2)
  hdr.writeUInt32LE(54 + masks, 10)
  hdr.writeUInt32LE(40, 14)
  hdr.writeInt32LE(W, 18)
  hdr.writeInt32LE(opts.topDown ? -H : H, 22)
  hdr.writeUInt16LE(1, 26)
  hdr.writeUInt16LE(opts.bpp, 28)
  hdr.writeUInt32LE(opts.bitfields ? 3 : 0, 30)
  if (opts.bitfields) {
    hdr.writeUInt32LE(0x00ff0000, 54)
    hdr.writeUInt32LE(0x0000ff00, 58)
    hdr.writeUInt32LE(0x000000ff, 62)
  }
  const px = Buffer.alloc(row * H, 0xab) // padding bytes are junk on purpose
  for (let y = 0; y < H; y++) {
    // y = top-to-bottom image row
    const s = off + (H - 1 - y) * srcRow
    const d = (opts.topDown ? y : H - 1 - y) * row
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < 3; c++) px[d + x * (opts.bpp / 8) + c] = src[s + x * 3 + c]
      if (opts.bpp === 32) px[d + x * 4 + 3] = 0x5a
    }
  }
  return Buffer.concat([hdr, px])
}

t.test('BMP top-down, 32-bit BGRX and 32-bit bit-fields', async (t) => {
  for (const v of [
    { topDown: true, bpp: 24 as const },
    { topDown: false, bpp: 32 as const },
    { topDown: true, bpp: 32 as const },
    { topDown: false, bpp: 32 as const, bitfields: true },
  ]) {
    const img = decodeImageFile(variantBmp(v))
    t.ok(Buffer.from(img.data).equals(refRgb.data), `pixels for ${JSON.stringify(v)}`)
  }
})

t.test('BMP 8-bit palettes (grey and colour) from djpeg', async (t) => {
  const g = decodeImageFile(djpeg('-bmp', '-grayscale'))
  t.equal(g.format, 'gray')
  t.ok(Buffer.from(g.data).equals(refGray.data), 'grey palette BMP equals djpeg -grayscale -pnm')
  const c = decodeImageFile(djpeg('-bmp', '-colors', '64', '-dither', 'none'))
  const cRef = pnmPixels(djpeg('-pnm', '-colors', '64', '-dither', 'none'))
  t.equal(c.format, 'rgb')
  t.ok(Buffer.from(c.data).equals(cRef.data), 'colour palette BMP equals djpeg -colors -pnm')
})

t.test('BMP errors', async (t) => {
  const bmp = djpeg('-bmp')
  t.throws(
    () => decodeImageFile(bmp.subarray(0, bmp.length - 10), 'cut.bmp'),
    /^BMP \(cut\.bmp\): truncated pixel data/,
  )
  t.throws(() => decodeImageFile(bmp.subarray(0, 20)), /^BMP: truncated header/)
  const rle = Buffer.from(bmp)
  rle.writeUInt32LE(1, 30)
  t.throws(() => decodeImageFile(rle), /BMP: compression 1 not supported/)
  const b16 = Buffer.from(bmp)
  b16.writeUInt16LE(16, 28)
  t.throws(() => decodeImageFile(b16), /BMP: 16-bit pixels not supported/)
})

t.test('unknown and empty input', async (t) => {
  const err = t.throws(
    () => decodeImageFile(Buffer.from('hello world'), 'notes.txt'),
    /^image \(notes\.txt\): unknown format \(first bytes 68 65 6c/,
  )
  t.ok(err instanceof ImageDecodeError, 'a typed error')
  t.throws(() => decodeImageFile(new Uint8Array(0)), /image: empty file/)
})
