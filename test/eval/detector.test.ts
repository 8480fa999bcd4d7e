import t from 'tap'
import { cpSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { COCO_SSD_MODEL, DEFAULT_COCO_SSD_DIR, verifyCocoSsdCache } from '../../scripts/eval/coco-ssd-model'
import { cacheProblems, ensureModel } from '../../scripts/eval/pinned-model'
import { CocoSsdDetector } from '../../scripts/eval/detector'
import { videoSource, VTEST_AVI } from '../../scripts/eval/video-frames'

t.test('the model cache (fetched by .ci/run) matches every pinned hash; a second fetch is a no-op', async (t) => {
  t.equal(verifyCocoSsdCache(), DEFAULT_COCO_SSD_DIR)
  t.same(ensureModel(COCO_SSD_MODEL, DEFAULT_COCO_SSD_DIR).fetched, false, 'nothing fetched for a verified cache')
  t.ok(Object.keys(COCO_SSD_MODEL.files).includes('LICENSE'), 'the licence is part of the cache')
})

t.test('an altered or missing cached file is named, with the command that fixes it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'deepn-coco-cache-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  cpSync(DEFAULT_COCO_SSD_DIR, dir, { recursive: true })
  t.same(cacheProblems(COCO_SSD_MODEL, dir), [])
  const shard = join(dir, 'group1-shard3of5')
  const bytes = readFileSync(shard)
  bytes[1000] ^= 1
  writeFileSync(shard, bytes)
  rmSync(join(dir, 'LICENSE'))
  t.same(cacheProblems(COCO_SSD_MODEL, dir), [
    'group1-shard3of5 does not match its pinned sha256',
    'LICENSE is missing',
  ])
  t.throws(
    () => verifyCocoSsdCache(dir),
    /group1-shard3of5 does not match.*LICENSE is missing; fetch it with: npm run fetch:models -- --model coco-ssd --dir /,
  )
  await t.rejects(
    CocoSsdDetector.load({ modelDir: dir }),
    /COCO-SSD model cache/,
    'the detector refuses an altered model',
  )
})

t.test('COCO-SSD on wasm finds the people in a vtest.avi frame, deterministically, at camera speed', async (t) => {
  const det = await CocoSsdDetector.load()
  t.teardown(() => det.dispose())
  let frame
  for await (const f of videoSource(VTEST_AVI).frames([400])) frame = f.image
  if (!frame) throw new Error('no frame')
  const first = await det.detect(frame)
  const t0 = Date.now()
  const again = await det.detect(frame)
  const ms = Date.now() - t0
  t.comment(`one 768x576 frame: ${ms} ms, ${first.length} detections`)
  t.same(again, first, 'same frame, same detections')
  const people = first.filter((d) => d.class === 'person')
  t.ok(people.length >= 3, `a pedestrian clip: at least 3 people found (found ${people.length})`)
  for (const d of first) {
    t.ok(d.score >= 0.5 && d.score <= 1, `${d.class} score ${d.score.toFixed(3)} in [0.5, 1]`)
    const [x, y, w, h] = d.bbox
    t.ok(x >= -1 && y >= -1 && w > 0 && h > 0 && x + w <= 769 && y + h <= 577, `${d.class} box inside the frame`)
  }
  t.ok(
    first.every((d, i) => i === 0 || first[i - 1].score >= d.score),
    'highest score first',
  )
  t.ok(ms < 5000, 'well under 5 s a frame (about 0.1-0.3 s on an idle 2-core machine)')
  await t.rejects(
    det.detect({ width: 2, height: 2, format: 'gray', data: new Uint8Array(4) }),
    /frames must be rgb, got gray/,
  )
})
