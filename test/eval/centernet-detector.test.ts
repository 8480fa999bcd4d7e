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
import { type Detection, loadDetector } from '../../scripts/eval/detector'
import { checkAgainstCocoSsd } from '../helpers/detector-agreement'
import { cacheProblems, ensureModel } from '../../scripts/eval/pinned-model'

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
  const centernet = await CenterNetDetector.load()
  t.teardown(() => centernet.dispose())
  await checkAgainstCocoSsd(t, centernet, {
    title: 'CenterNet',
    recall: 0.5,
    speedNote: 'about 0.2-0.3 s on an idle 2-core machine',
  })
})
