import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { createSource, SourceExhaustedError, syntheticFrame } from '../../agent/capture'
import { syntheticFrameI420 } from '../../agent/capture/synthetic'
import { encodeJpeg } from '../../shared/codec'
import { validateSection } from '../../shared/config'
import { memoryLog } from './helpers'

const dir = mkdtempSync(join(tmpdir(), 'deepn-files-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

t.test('synthetic: deterministic per frame number, moving, realistic JPEG size', async (t) => {
  const a = syntheticFrame(320, 240, 7)
  t.same([a.width, a.height, a.format, a.data.length], [320, 240, 'rgb', 320 * 240 * 3])
  t.ok(Buffer.from(a.data).equals(Buffer.from(syntheticFrame(320, 240, 7).data)), 'same n → same pixels')
  const b = syntheticFrame(320, 240, 8)
  let changed = 0
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) changed++
  t.ok(changed > a.data.length / 4, `consecutive frames differ (${changed} samples)`)

  // Size with a real encoder (cjpeg, q75): a flat card would be a few KB; a camera frame at 320x240 is 10+ KB.
  const ppm = Buffer.concat([Buffer.from('P6\n320 240\n255\n'), Buffer.from(a.data)])
  const jpg = execFileSync('cjpeg', ['-quality', '75'], { input: ppm })
  t.ok(jpg.length > 8000 && jpg.length < 60000, `q75 JPEG of a synthetic frame: ${jpg.length} bytes`)

  const src = createSource({ source: 'synthetic', width: 64, height: 48 })
  const f0 = await src.capture()
  const f1 = await src.capture()
  t.ok(Buffer.from(f0.data).equals(Buffer.from(syntheticFrame(64, 48, 0).data)), 'source starts at frame 0')
  t.ok(Buffer.from(f1.data).equals(Buffer.from(syntheticFrame(64, 48, 1).data)), 'then frame 1')
  await src.close()
})

t.test('synthetic I420: the same picture, half the memory, the same JPEG at 4:2:0', async (t) => {
  const f = syntheticFrameI420(64, 48, 3)
  t.same([f.format, f.data.length], ['yuv420p', 64 * 48 * 1.5])
  // Converted and downsampled as the encoder's RGB path does it, so the JPEG is byte-identical wherever MCU
  // padding does not come into it (width a multiple of 16, even height) ...
  for (const [w, h] of [
    [64, 48],
    [1920, 1080],
    [16, 2],
  ]) {
    const rgb = encodeJpeg(syntheticFrame(w, h, 5), { quality: 75 })
    const yuv = encodeJpeg(syntheticFrameI420(w, h, 5), { quality: 75 })
    t.ok(Buffer.from(rgb).equals(Buffer.from(yuv)), `${w}x${h}: identical JPEG from RGB and from I420`)
  }
  // ... and elsewhere only the padding's chroma differs (I420 has no pixels past the edge to average), so the
  // decoded pictures differ only within 16 px (one MCU) of the right and bottom edges, nowhere else.
  for (const [w, h] of [
    [50, 30],
    [321, 241],
    [3, 3],
  ]) {
    const decode = (jpg: Uint8Array) => execFileSync('djpeg', ['-pnm'], { input: jpg }).subarray(-w * h * 3)
    const a = decode(encodeJpeg(syntheticFrame(w, h, 5), { quality: 90 }))
    const b = decode(encodeJpeg(syntheticFrameI420(w, h, 5), { quality: 90 }))
    let inside = 0
    const edgeX = w - 16,
      edgeY = h - 16
    for (let i = 0; i < a.length; i++) {
      const p = (i / 3) | 0
      if (a[i] !== b[i] && p % w < edgeX && ((p / w) | 0) < edgeY) inside++
    }
    t.equal(inside, 0, `${w}x${h}: decoded pictures differ only near the right and bottom edges`)
  }
  const src = createSource({ source: 'synthetic', width: 32, height: 16, pixelFormat: 'yuv420p' })
  const first = await src.capture()
  t.ok(
    Buffer.from(first.data).equals(Buffer.from(syntheticFrameI420(32, 16, 0).data)),
    'createSource honours pixelFormat',
  )
  await src.close()
  t.throws(
    () => syntheticFrameI420(64, 48, 0, new Uint8Array(10)),
    /'into' holds 10 bytes, a 64x48 I420 frame needs 4608/,
  )
})

t.test('files: natural name order, formats by content, loop', async (t) => {
  const d = join(dir, 'loop')
  mkdirSync(d)
  const grey = await sharp({ create: { width: 10, height: 6, channels: 3, background: '#404040' } })
    .toColourspace('b-w')
    .png()
    .toBuffer()
  writeFileSync(
    join(d, 'frame10.png'),
    await sharp({ create: { width: 10, height: 10, channels: 3, background: '#ff0000' } })
      .png()
      .toBuffer(),
  )
  writeFileSync(
    join(d, 'frame2.jpg'),
    await sharp({ create: { width: 20, height: 10, channels: 3, background: '#00ff00' } })
      .jpeg()
      .toBuffer(),
  )
  writeFileSync(join(d, 'frame1.ppm'), Buffer.concat([Buffer.from('P6\n3 2\n255\n'), Buffer.alloc(18, 9)]))
  writeFileSync(join(d, 'frame3.png'), grey)
  writeFileSync(join(d, 'README.txt'), 'not an image')
  writeFileSync(join(d, '.hidden.png'), grey)
  const src = createSource({ source: 'files', files: { dir: d, loop: true }, width: 1, height: 1 })
  const sizes: string[] = []
  for (let i = 0; i < 6; i++) {
    const img = await src.capture()
    sizes.push(`${img.width}x${img.height}/${img.format}`)
  }
  t.same(
    sizes,
    ['3x2/rgb', '20x10/rgb', '10x6/gray', '10x10/rgb', '3x2/rgb', '20x10/rgb'],
    'frame1, frame2, frame3, frame10, then again; images as they are',
  )
})

t.test('files once: SourceExhaustedError after the last image; pattern filter', async (t) => {
  const d = join(dir, 'once')
  mkdirSync(d)
  for (const name of ['a.pgm', 'b.pgm', 'c.dat'])
    writeFileSync(join(d, name), Buffer.concat([Buffer.from('P5\n2 2\n255\n'), Buffer.from([1, 2, 3, 4])]))
  const src = createSource({ source: 'files', files: { dir: d, loop: false, pattern: '*.PGM' }, width: 1, height: 1 })
  t.equal((await src.capture()).format, 'gray')
  t.equal((await src.capture()).format, 'gray')
  const err = await src.capture().catch((e: unknown) => e)
  t.ok(err instanceof SourceExhaustedError, 'distinct error type')
  t.match((err as Error).message, /files: all 2 images in .* replayed \(loop off\)/)
  const dat = createSource({ source: 'files', files: { dir: d, loop: false, pattern: 'c.*' }, width: 1, height: 1 })
  t.equal((await dat.capture()).width, 2, 'a .dat file with PGM content decodes (content decides)')
})

t.test('files: a corrupt file is reported by name and skipped; empty/missing folders', async (t) => {
  const d = join(dir, 'bad')
  mkdirSync(d)
  writeFileSync(join(d, '1.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 1, 2]))
  writeFileSync(join(d, '2.ppm'), Buffer.concat([Buffer.from('P6\n1 1\n255\n'), Buffer.from([1, 2, 3])]))
  const { lines, log } = memoryLog()
  const src = createSource({
    source: 'files',
    files: { dir: d, loop: false },
    width: 1,
    height: 1,
    log,
    retry: { minMs: 10, maxMs: 20 },
  })
  const img = await src.capture()
  t.same([img.width, img.format], [1, 'rgb'], 'the retry moved on to the next file')
  t.match(
    lines.join('\n'),
    /files: capture failed \(1 in a row\), retrying in \d+ ms: JPEG \(1\.jpg\): corrupt header: segment 0xFFE0 at byte 2 overruns the file/,
  )
  await t.rejects(src.capture(), SourceExhaustedError, 'exhaustion is not retried')

  const raw = createSource({
    source: 'files',
    files: { dir: join(dir, 'nope'), loop: true },
    width: 1,
    height: 1,
    retry: false,
  })
  await t.rejects(raw.capture(), /files: cannot read folder .*nope: ENOENT/)
  mkdirSync(join(dir, 'empty'))
  const empty = createSource({
    source: 'files',
    files: { dir: join(dir, 'empty'), loop: true },
    width: 1,
    height: 1,
    retry: false,
  })
  await t.rejects(empty.capture(), /files: no images \(\.ppm \.pgm \.png \.jpg \.jpeg \.bmp\) in/)
  t.throws(
    () => validateSection('capture', { source: 'files' }),
    /'capture\.filesDir' is required when 'capture\.source' is 'files'/,
  )
})
