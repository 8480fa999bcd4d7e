// `deepn eval detect --quick`, end to end as CI runs it: vtest.avi through ffmpeg, our encoder, libjpeg-turbo
// (sharp) and jpeg-js, COCO-SSD on TF.js wasm from the verified model cache.
import t from 'tap'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { main } from '../../scripts/eval/cli'
import { verifyCocoSsdCache } from '../../scripts/eval/coco-ssd-model'
import { parseDetectCsv } from '../../scripts/eval/detect-sweep'
import { untagCsv } from '../../scripts/eval/detector-csv'
import { ourEncoder } from '../../scripts/eval/evaluate'
import { videoSource, VTEST_AVI } from '../../scripts/eval/video-frames'

async function capture(argv: string[]): Promise<{ code: number; out: string }> {
  const chunks: string[] = []
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = ((s: string) => {
    chunks.push(String(s))
    return true
  }) as typeof process.stdout.write
  try {
    return { code: await main(argv), out: chunks.join('') }
  } finally {
    process.stdout.write = write
  }
}

t.test('quick detection sweep: q100 ~ reference, F1 falls with bytes, every output written', async (t) => {
  t.ok(verifyCocoSsdCache(), 'the model cache matches its pinned hashes')
  const dir = t.testdir()
  const frames = join(dir, 'frames')
  const t0 = Date.now()
  const res = await capture(['detect', '--quick', '--out', dir, '--name', 'q', '--save-frames', frames])
  t.comment(`quick mode took ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  t.equal(res.code, 0)
  const { detector, csv } = untagCsv(readFileSync(join(dir, 'q.csv'), 'utf8'))
  t.equal(detector, 'coco-ssd', 'the CSV says which detector scored it')
  const points = parseDetectCsv(csv)
  const curve = (c: string) => points.filter((p) => p.curve === c)
  const jpeg = curve('jpeg').sort((a, b) => a.quality! - b.quality!)
  t.same(
    jpeg.map((p) => p.quality),
    [5, 30, 100],
  )
  t.ok(
    jpeg.every((p) => p.frames === 4),
    'four test frames',
  )
  const q100 = jpeg[jpeg.length - 1]
  // q100 is not lossless: one borderline box in ~20 may flip, so "near 1", not exactly 1
  t.ok(q100.f1 >= 0.95, `q100 agrees with the uncompressed frames: F1 ${q100.f1}`)
  t.ok(q100.f1Low <= q100.f1 && q100.f1 <= q100.f1High, 'F1 inside its bootstrap interval')
  for (let i = 1; i < jpeg.length; i++)
    t.ok(jpeg[i].meanBytes > jpeg[i - 1].meanBytes, `bytes fall with quality: q${jpeg[i].quality}`)
  t.ok(jpeg[0].f1 < q100.f1, `F1 falls as bytes fall: q5 ${jpeg[0].f1} < q100 ${q100.f1}`)
  t.ok(jpeg[0].map <= q100.map, 'and so does mAP@0.5')
  for (const p of curve('jpeg-opt')) {
    const base = jpeg.find((j) => j.quality === p.quality)!
    t.ok(p.meanBytes < base.meanBytes, `optimal Huffman saves bytes at q${p.quality}`)
    t.equal(p.f1, base.f1, 'and changes no pixel, so no detection')
  }
  t.equal(curve('natural-deepn').length, 2, 'natural-deepn swept over the quick scales')
  t.equal(curve('vtest-deepn').length, 2, 'the clip-calibrated DeepN table swept')
  const table = JSON.parse(readFileSync(join(dir, 'vtest-deepn.json'), 'utf8'))
  t.equal(table.luma.length, 64)
  t.match(
    table.source.calibratedOn,
    /^vtest\.avi frames 0\.\.390 every 10$/,
    'calibrated on the calibration frames only',
  )
  // the model-aware curves: tuned on calibration frames only, each written next to the report
  const ssd = JSON.parse(readFileSync(join(dir, 'vtest-ssd.json'), 'utf8'))
  t.equal(ssd.source.method, 'annexk-tilt')
  t.match(
    ssd.source.calibratedOn,
    /^vtest\.avi frames 0\.\.360 every 40$/,
    'the table search saw calibration frames only',
  )
  t.ok(ssd.source.trials.length >= 6, 'every trial is recorded in the table')
  const map = JSON.parse(readFileSync(join(dir, 'vtest-ssd-map.json'), 'utf8'))
  t.equal(map.levels.length, map.cols * map.rows, 'one level per cell')
  t.equal(map.cols, 48, '16-pixel cells over 768 columns')
  t.equal(curve('vtest-ssd').length, 2)
  for (const p of curve('vtest-ssd-opt')) {
    const twin = curve('vtest-ssd').find((q) => q.scale === p.scale)!
    t.ok(p.meanBytes < twin.meanBytes && p.f1 === twin.f1, `optimal Huffman twin of the tuned table at x${p.scale}`)
  }
  for (const p of curve('jpeg+map')) {
    const full = curve('jpeg-opt').find((q) => q.quality === p.quality)!
    t.ok(
      p.meanBytes < full.meanBytes * 0.9,
      `the learned map saves bytes at q${p.quality}: ${p.meanBytes} < ${full.meanBytes}`,
    )
  }
  t.equal(curve('vtest-ssd+map').length, 2)
  for (const p of curve('vtest-ssd+map-prog')) {
    const twin = curve('vtest-ssd+map').find((q) => q.scale === p.scale)!
    t.ok(p.f1 === twin.f1, `progressive twin of the map curve at x${p.scale}: same F1`)
    t.ok(p.meanBytes < twin.meanBytes, `x${p.scale}: progressive ${p.meanBytes} < baseline ${twin.meanBytes} bytes`)
  }
  const small = curve('jpeg-400x300')
  t.equal(small.length, 1, 'the downscaled baseline')
  t.ok(small[0].meanBytes < curve('jpeg').find((q) => q.quality === 30)!.meanBytes / 2, 'a 400x300 frame is smaller')
  t.ok(small[0].f1 > 0.5, `boxes found at 400x300 are scaled back to the frame: F1 ${small[0].f1}`)
  const curves = new Set(points.map((p) => p.curve)).size
  const svg = readFileSync(join(dir, 'q.svg'), 'utf8')
  t.equal((svg.match(/<polyline /g) ?? []).length, curves, 'one line per curve')
  t.ok(existsSync(join(dir, 'q-map.svg')))
  t.match(readFileSync(join(dir, 'q.md'), 'utf8'), /\| natural-deepn \| 0\.95 \|/)
  t.match(res.out, /Reference boxes per class: person \d+/, "the report gives mAP's per-class supports")
  t.match(res.out, /\| F1 target \| curve \| setting \| KB\/frame \| person \(\d+\) \|/, 'and F1 per class')
  t.match(res.out, /\| 0\.95 \| jpeg \| q\d+ \| [\d.]+ \| [01]\.\d{3} \|/, "standard JPEG's row at 0.95")
  t.match(res.out, /Decoder cross-check: \d+ encodings .* F1 /)
  // --save-frames: every encoded test frame, whose sizes are the bytes the report counted
  const saved = readdirSync(frames)
  t.equal(saved.length, points.length, 'one folder per setting')
  for (const p of [q100, curve('natural-deepn')[0]]) {
    const key = p.quality !== undefined ? `${p.curve}-q${p.quality}` : `${p.curve}-x${p.scale}`
    const files = readdirSync(join(frames, key))
    t.same(files, ['00400.jpg', '00440.jpg', '00480.jpg', '00520.jpg'])
    const mean = files.reduce((s, f) => s + statSync(join(frames, key, f)).size, 0) / files.length
    t.ok(Math.abs(mean - p.meanBytes) < 0.1, `${key}: saved files average the reported ${p.meanBytes} bytes`)
  }
})

t.test(
  '--detector centernet: CenterNet makes the reference and scores every curve; CSV and report say so',
  async (t) => {
    const dir = t.testdir()
    const t0 = Date.now()
    // a small plan: 2 test frames, 4 encoded settings, nothing learned
    const plan = [
      '--quick',
      '--limit',
      '2',
      '--no-calibrate',
      '--qualities',
      '30',
      '--scales',
      '1',
      '--cross-check',
      '0',
      '--no-tune',
      '--no-map',
    ]
    const res = await capture(['detect', '--detector', 'centernet', ...plan, '--out', dir, '--name', 'c'])
    t.comment(`CenterNet quick run took ${((Date.now() - t0) / 1000).toFixed(1)} s`)
    t.equal(res.code, 0)
    t.match(
      res.out,
      /^Reference: CenterNet \(MobileNetV3, 512x512 letterboxed input, TF\.js wasm\) on the uncompressed/m,
    )
    const text = readFileSync(join(dir, 'c.csv'), 'utf8')
    t.match(text, /^detector,curve,quality,/)
    const { detector, csv } = untagCsv(text)
    t.equal(detector, 'centernet')
    const points = parseDetectCsv(csv)
    t.same(points.map((p) => `${p.curve} ${p.quality ?? p.scale}`).sort(), [
      'jpeg 100',
      'jpeg 30',
      'jpeg-400x300 30',
      'jpeg-opt 100',
      'jpeg-opt 30',
      'natural-deepn 1',
    ])
    const q100 = points.find((p) => p.curve === 'jpeg' && p.quality === 100)!
    t.equal(q100.frames, 2)
    t.ok(q100.tp + q100.fn >= 4, `CenterNet's reference holds boxes to score (${q100.tp + q100.fn})`)
    t.ok(q100.f1 >= 0.9, `q100 agrees with CenterNet on the uncompressed frames: F1 ${q100.f1}`)
    t.match(readFileSync(join(dir, 'c.svg'), 'utf8'), /CenterNet F1 vs uncompressed detections/)
    const redrawn = await capture(['detect', '--csv', join(dir, 'c.csv'), '--out', join(dir, 'redrawn')])
    t.match(redrawn.out, /^Reference: CenterNet /m, "a CSV read back keeps its detector's name")
    await t.rejects(
      capture(['detect', '--detector', 'yolo']),
      /--detector must be coco-ssd, centernet or nanodet, got 'yolo'/,
    )
  },
)

t.test('optimal Huffman is lossless: both encodings decode to the same pixels in libjpeg-turbo', async (t) => {
  const sharp = (await import('sharp')).default
  let frame
  for await (const f of videoSource(VTEST_AVI).frames([400])) frame = f.image
  if (!frame) throw new Error('no frame')
  const enc = ourEncoder()
  const a = await sharp(enc(frame, { quality: 30, subsampling: '420' }))
    .raw()
    .toBuffer()
  const b = await sharp(enc(frame, { quality: 30, subsampling: '420', optimizeHuffman: true }))
    .raw()
    .toBuffer()
  t.ok(a.equals(b), 'same pixels, so the sweep may reuse the detections')
})

t.test('a bad model cache or flag ends with one line naming it', async (t) => {
  const dir = t.testdir()
  await t.rejects(
    capture(['detect', '--quick', '--model-dir', dir]),
    /COCO-SSD model cache .*model\.json is missing.*npm run fetch:models -- --model coco-ssd --dir /,
  )
  await t.rejects(capture(['detect', '--every', '0']), /--every must be an integer >= 1, got '0'/)
  await t.rejects(
    capture(['detect', '--search-scales', '0.3,0']),
    /--search-scales must be a comma-separated list of positive numbers, got '0\.3,0'/,
  )
  await t.rejects(capture(['detect', '--video', VTEST_AVI, '--images', dir]), /--video FILE or --images DIR, not both/)
  await t.rejects(capture(['detect', '--classes', 'person,persn']), /--classes: 'persn' is not a COCO class name/)
  const natural = join(__dirname, '../../config/tables/natural-deepn.json')
  await t.rejects(
    capture(['detect', '--quick', '--tuned-table', natural]),
    /--tuned-table .*natural-deepn\.json: not a tuned \(annexk-tilt\) table/,
  )
  const badMap = join(dir, 'map.json')
  writeFileSync(badMap, JSON.stringify({ id: 'm', cols: 2, rows: 1, levels: '05', keep: [1, 6] }))
  await t.rejects(
    capture(['detect', '--quick', '--keep-map', badMap]),
    /--keep-map .*map\.json: 'keepMap\.levels' character 1 \(cell 1,0\) is '5'/,
  )
})

t.test('--classes: the reference and every curve see only those classes', async (t) => {
  const plan = [
    '--quick',
    '--limit',
    '1',
    '--no-calibrate',
    '--no-tune',
    '--no-map',
    '--qualities',
    '30',
    '--scales',
    '1',
  ]
  const res = await capture(['detect', ...plan, '--cross-check', '0', '--classes', 'car'])
  t.equal(res.code, 0)
  t.match(res.out, /^Reference boxes per class: car \d+\. /m, 'only cars in the reference')
  t.match(res.out, /classes car only/, 'the report says so')
})
