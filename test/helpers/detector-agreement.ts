/**
 * The check the benchmark's second and third detectors share: on vtest frames 400, 500, 600 and 700 a detector
 * finds the people COCO-SSD finds, deterministically, with scores and boxes in range; and a portrait crop, which
 * its letterbox pads left and right instead of top and bottom, maps its people back to where the full frame's are.
 */
import type { Test } from 'tap'
import { matchFrame, sumCounts } from '../../scripts/eval/detection-metric'
import { CocoSsdDetector, type Detection, type Detector } from '../../scripts/eval/detector'
import { videoSource, VTEST_AVI } from '../../scripts/eval/video-frames'
import type { RawImage } from '../../shared/codec/types'

export interface Agreement {
  /** The detector's title in messages. */
  title: string
  /** Share of COCO-SSD's people it must find. */
  recall: number
  /** What its speed was measured at, for the speed assertion's message. */
  speedNote: string
}

export async function checkAgainstCocoSsd(t: Test, detector: Detector, o: Agreement): Promise<void> {
  const frames: RawImage[] = []
  for await (const f of videoSource(VTEST_AVI).frames([400, 500, 600, 700])) frames.push(f.image)
  const coco = await CocoSsdDetector.load()
  t.teardown(() => coco.dispose())
  const person = (ds: Detection[]) => ds.filter((d) => d.class === 'person')
  const counts = []
  const all = []
  const ms = { detector: 0, coco: 0 }
  let people = 0
  let tall = 0
  for (const [i, frame] of frames.entries()) {
    const first = await detector.detect(frame) // the first call also warms the backend up
    let t0 = Date.now()
    const found = await detector.detect(frame)
    ms.detector += Date.now() - t0
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
    all.push(matchFrame(ref, found))
  }
  const c = sumCounts(counts)
  const a = sumCounts(all)
  const per = (v: number) => (v / frames.length).toFixed(0)
  t.comment(
    `per 768x576 frame: ${o.title} ${per(ms.detector)} ms, COCO-SSD ${per(ms.coco)} ms; ${o.title} persons ${people}, ` +
      `matched to COCO-SSD's at IoU >= 0.5: ${c.tp}, unmatched ${c.fp}, COCO-SSD persons missed ${c.fn}; ` +
      `all classes: ${a.tp} matched, ${a.fp} unmatched, ${a.fn} missed`,
  )
  t.ok(people >= 8, `at least 8 people found in 4 frames of a pedestrian clip (found ${people})`)
  t.ok(tall >= 0.8 * people, `most person boxes are taller than wide (${tall} of ${people})`)
  t.ok(c.tp >= 0.8 * (c.tp + c.fp), `${o.title}'s people are COCO-SSD's people: ${c.tp} of ${c.tp + c.fp} match`)
  t.ok(c.tp >= o.recall * (c.tp + c.fn), `and it finds most of COCO-SSD's: ${c.tp} of ${c.tp + c.fn}`)
  t.ok(ms.detector / frames.length < 5000, `well under 5 s a frame (${o.speedNote})`)
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
    const inCrop = await detector.detect({ width: cw, height: frame.height, format: 'rgb', data: crop })
    const shifted = inCrop.map((d): Detection => ({ ...d, bbox: [d.bbox[0] + x0, d.bbox[1], d.bbox[2], d.bbox[3]] }))
    cropCounts.push(matchFrame(person(await detector.detect(frame)).filter(inside), person(shifted)))
  }
  const cc = sumCounts(cropCounts)
  t.ok(
    cc.tp + cc.fn >= 4 && cc.tp >= 0.6 * (cc.tp + cc.fn),
    `a left-right letterbox maps back too: ${cc.tp} of the ${cc.tp + cc.fn} full-frame people in the crop match`,
  )
  await t.rejects(
    detector.detect({ width: 2, height: 2, format: 'gray', data: new Uint8Array(4) }),
    /frames must be rgb, got gray/,
  )
}
