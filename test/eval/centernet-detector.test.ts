// The second detector, CenterNet, on the real pinned model: its cache, its class names, and its boxes on
// vtest.avi checked against COCO-SSD's, so a decoding slip (axes swapped, letterbox offset, class map shifted)
// fails here rather than as a quietly different benchmark.
import t from 'tap'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLASSES } from '@tensorflow-models/coco-ssd/dist/classes'
import { CenterNetDetector, COCO_CLASSES, nmsPerClass } from '../../scripts/eval/centernet-detector'
import { CENTERNET_MODEL, DEFAULT_CENTERNET_DIR, verifyCenterNetCache } from '../../scripts/eval/centernet-model'
import { matchFrame, sumCounts } from '../../scripts/eval/detection-metric'
import { CocoSsdDetector, type Detection, loadDetector } from '../../scripts/eval/detector'
import { cacheProblems, ensureModel } from '../../scripts/eval/pinned-model'
import { videoSource, VTEST_AVI } from '../../scripts/eval/video-frames'
import type { RawImage } from '../../shared/codec/types'

t.test('the CenterNet cache (fetched by .ci/run) matches its pins, with its MIT licence and provenance', async (t) => {
  t.equal(verifyCenterNetCache(), DEFAULT_CENTERNET_DIR)
  t.same(ensureModel(CENTERNET_MODEL).fetched, false, 'nothing fetched for a verified cache')
  t.match(readFileSync(join(DEFAULT_CENTERNET_DIR, 'LICENSE'), 'utf8'), /^MIT License/)
  const pkg = JSON.parse(readFileSync(join(DEFAULT_CENTERNET_DIR, 'package.json'), 'utf8'))
  t.equal(`${pkg.name}@${pkg.version}`, CENTERNET_MODEL.package, "the cached package.json is the pinned package's")
  t.equal(pkg.license, 'MIT')
})

t.test('a tampered CenterNet file is named, with the command that fixes it, and the detector refuses it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'deepn-centernet-cache-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  cpSync(DEFAULT_CENTERNET_DIR, dir, { recursive: true })
  t.same(cacheProblems(CENTERNET_MODEL, dir), [])
  const bin = join(dir, 'centernet.bin')
  const bytes = readFileSync(bin)
  bytes[123456] ^= 4
  writeFileSync(bin, bytes)
  t.same(cacheProblems(CENTERNET_MODEL, dir), ['centernet.bin does not match its pinned sha256'])
  await t.rejects(CenterNetDetector.load({ modelDir: dir }), {
    message: `CenterNet model cache ${dir}: centernet.bin does not match its pinned sha256; fetch it with: npm run fetch:models -- --model centernet --dir ${dir}`,
  })
  await t.rejects(loadDetector('centernet', { modelDir: dir }), /centernet\.bin does not match/)
})

t.test("class names are COCO-SSD's, in COCO's id order (the metric matches boxes by class name)", async (t) => {
  const coco = Object.values(CLASSES)
    .sort((a, b) => a.id - b.id)
    .map((c) => c.displayName)
  t.equal(COCO_CLASSES.length, 80)
  t.same(COCO_CLASSES, coco)
})

t.test('per-class NMS drops duplicates of one object, keeps overlapping objects of other classes', async (t) => {
  const box = (cls: string, score: number, x: number): Detection => ({ bbox: [x, 0, 10, 20], class: cls, score })
  const kept = nmsPerClass(
    [box('person', 0.6, 1), box('person', 0.9, 0), box('bicycle', 0.7, 0), box('person', 0.8, 30)],
    0.5,
  )
  t.same(
    kept.map((d) => [d.class, d.score]),
    [
      ['person', 0.9],
      ['person', 0.8],
      ['bicycle', 0.7],
    ],
    'the 0.6 person (IoU 0.82 with the 0.9 one) goes; the far person and the bicycle stay; highest score first',
  )
  t.equal(nmsPerClass([box('person', 0.9, 0), box('person', 0.8, 6)], 0.5).length, 2, 'IoU 0.25 < 0.5: both kept')
})

t.test('CenterNet finds the people in vtest.avi where COCO-SSD does, deterministically', async (t) => {
  const frames: RawImage[] = []
  for await (const f of videoSource(VTEST_AVI).frames([400, 500, 600, 700])) frames.push(f.image)
  const centernet = await CenterNetDetector.load()
  t.teardown(() => centernet.dispose())
  const coco = await CocoSsdDetector.load()
  t.teardown(() => coco.dispose())
  const person = (ds: Detection[]) => ds.filter((d) => d.class === 'person')
  const counts = []
  const ms = { centernet: 0, coco: 0 }
  let people = 0
  let tall = 0
  for (const [i, frame] of frames.entries()) {
    const first = await centernet.detect(frame) // the first call also warms the backend up
    let t0 = Date.now()
    const found = await centernet.detect(frame)
    ms.centernet += Date.now() - t0
    if (i === 0) t.same(found, first, 'same frame, same detections')
    t0 = Date.now()
    const ref = await coco.detect(frame)
    ms.coco += Date.now() - t0
    t.ok(
      found.every((d, k) => k === 0 || found[k - 1].score >= d.score),
      'highest score first',
    )
    for (const d of found) {
      const [x, y, w, h] = d.bbox
      t.ok(d.score >= 0.5 && d.score <= 1, `${d.class} score ${d.score.toFixed(3)} in [0.5, 1]`)
      t.ok(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= 768 && y + h <= 576, `${d.class} box inside the frame`)
    }
    people += person(found).length
    tall += person(found).filter((d) => d.bbox[3] > 1.2 * d.bbox[2]).length // pedestrians stand upright
    counts.push(matchFrame(person(ref), person(found)))
  }
  const c = sumCounts(counts)
  const per = (v: number) => (v / frames.length).toFixed(0)
  t.comment(
    `per 768x576 frame: CenterNet ${per(ms.centernet)} ms, COCO-SSD ${per(ms.coco)} ms; CenterNet persons ${people}, ` +
      `matched to COCO-SSD's at IoU >= 0.5: ${c.tp}, unmatched ${c.fp}, COCO-SSD persons missed ${c.fn}`,
  )
  t.ok(people >= 8, `at least 8 people found in 4 frames of a pedestrian clip (found ${people})`)
  t.ok(tall >= 0.8 * people, `most person boxes are taller than wide (${tall} of ${people})`)
  t.ok(c.tp >= 0.8 * (c.tp + c.fp), `CenterNet's people are COCO-SSD's people: ${c.tp} of ${c.tp + c.fp} match`)
  t.ok(c.tp >= 0.5 * (c.tp + c.fn), `and it finds most of COCO-SSD's: ${c.tp} of ${c.tp + c.fn}`)
  t.ok(ms.centernet / frames.length < 5000, 'well under 5 s a frame (about 0.2-0.3 s on an idle 2-core machine)')
  // vtest is 4:3, so its letterbox pads only top and bottom: a portrait crop (384x576) pads left and right
  // instead; its people, shifted back, must land where the full frame's are (scores near 0.5 may flip, not move)
  const x0 = 192
  const cw = 384
  const inside = (d: Detection) => d.bbox[0] >= x0 && d.bbox[0] + d.bbox[2] <= x0 + cw
  const cropCounts = []
  for (const frame of frames) {
    const crop = new Uint8Array(cw * frame.height * 3)
    for (let y = 0; y < frame.height; y++)
      crop.set(frame.data.subarray((y * frame.width + x0) * 3, (y * frame.width + x0 + cw) * 3), y * cw * 3)
    const inCrop = await centernet.detect({ width: cw, height: frame.height, format: 'rgb', data: crop })
    const shifted = inCrop.map((d): Detection => ({ ...d, bbox: [d.bbox[0] + x0, d.bbox[1], d.bbox[2], d.bbox[3]] }))
    cropCounts.push(matchFrame(person(await centernet.detect(frame)).filter(inside), person(shifted)))
  }
  const cc = sumCounts(cropCounts)
  t.ok(
    cc.tp + cc.fn >= 4 && cc.tp >= 0.6 * (cc.tp + cc.fn),
    `a left-right letterbox maps back too: ${cc.tp} of the ${cc.tp + cc.fn} full-frame people in the crop match`,
  )
  await t.rejects(
    centernet.detect({ width: 2, height: 2, format: 'gray', data: new Uint8Array(4) }),
    /frames must be rgb, got gray/,
  )
})
