/**
 * The detector-tuned table search and the model-aware settings. The search's detector here is a rule on the
 * decoded pixels (one box while the frame stays within an error bound), so the test knows which candidate must
 * win; the real COCO-SSD run is in detect-quick.test.ts.
 */
import t from 'tap'
import { encodeJpeg } from '../../shared/codec/encoder'
import type { RawImage } from '../../shared/codec/types'
import { rescaleTableFile } from '../../shared/deepn/table-file'
import { detectorTableFile, judgeEncoding, judgeNames, searchTiltTable } from '../../scripts/eval/detector-tables'
import { spatialSettings } from '../../scripts/eval/detect-spatial'
import type { Box } from '../../scripts/eval/detection-metric'
import { decodeTo } from '../../scripts/eval/evaluate'
import { crop, photos } from '../codec/helpers'

const box: Box = { bbox: [8, 8, 32, 32], class: 'person', score: 0.9 }
const frames = photos()
  .slice(0, 3)
  .map((p, index) => {
    const image = crop(p, 0, 0, 96, 64)
    const rgb: RawImage = { ...image, format: 'rgb', data: image.data }
    return { index, image: rgb, references: [[box]] }
  })

/** One box while the decoded frame stays within `mse` of the frame last encoded. */
const mseRule =
  (mse: number, original: () => RawImage) =>
  async (img: RawImage): Promise<Box[]> => {
    const o = original()
    let e = 0
    for (let i = 0; i < img.data.length; i++) e += (img.data[i] - o.data[i]) ** 2
    return e / img.data.length <= mse ? [box] : []
  }

t.test('the search sweeps tilt at chroma 1, then chroma at the best tilt, and keeps the cheapest', async (t) => {
  let current: RawImage = frames[0].image
  const encode = (img: RawImage, o: Parameters<typeof encodeJpeg>[1]) => {
    current = img
    return encodeJpeg(img, o)
  }
  const detect = mseRule(60, () => current)
  const decode = (jpg: Uint8Array): RawImage => ({
    width: current.width,
    height: current.height,
    format: 'rgb',
    data: decodeTo(jpg, 3, current.width, current.height),
  })
  const r = await searchTiltTable(
    frames,
    { detect: [detect], decode, encode },
    {
      tilts: [0, 1],
      chromas: [0.5, 1],
      scales: [0.3, 1, 3, 8],
      targetF1: 0.99,
    },
  )
  t.equal(r.trials.length, (2 + 2 - 1) * 4, 'tilts x scales, then the other chromas x scales')
  t.ok(r.trials.some((x) => x.f1 === 1) && r.trials.some((x) => x.f1 === 0), 'the rule both keeps and loses the box')
  t.ok(
    r.trials.every((x) => x.tilt === r.best.tilt || x.chroma === 1),
    'chroma only tried at the best tilt',
  )
  const won = r.trials.filter((x) => x.tilt === r.best.tilt && x.chroma === r.best.chroma && x.f1 >= 0.99)
  t.equal(r.best.scale, Math.max(...won.map((x) => x.scale)), 'the coarsest scale that reached the target')
  const file = detectorTableFile('cam-ssd', r, { detector: 'rule' })
  t.same(rescaleTableFile(file, r.best.scale).luma, file.luma, 'the file rebuilds itself from its source')
  t.equal((file.source!.trials as unknown[]).length, r.trials.length, 'every trial recorded')
  await t.rejects(
    searchTiltTable(
      frames,
      { detect: [async () => []], decode, encode },
      { tilts: [0], chromas: [1], scales: [1], targetF1: 0.5 },
    ),
    /no candidate reached F1 0\.5 on the calibration frames \(closest: tilt 0 chroma 1 scale 1, F1 0\.000\): lower/,
  )
})

t.test('with several detectors the table must reach the target on each: the dearest one decides', async (t) => {
  let current: RawImage = frames[0].image
  const encode = (img: RawImage, o: Parameters<typeof encodeJpeg>[1]) => {
    current = img
    return encodeJpeg(img, o)
  }
  const decode = (jpg: Uint8Array): RawImage => ({
    width: current.width,
    height: current.height,
    format: 'rgb',
    data: decodeTo(jpg, 3, current.width, current.height),
  })
  const lenient = mseRule(60, () => current)
  const strict = mseRule(15, () => current)
  const plan = { tilts: [0, 1], chromas: [0.5, 1], scales: [0.1, 0.3, 1, 3, 8], targetF1: 0.99 }
  const one = await searchTiltTable(frames, { detect: [lenient], decode, encode }, plan)
  const both = await searchTiltTable(
    frames.map((f) => ({ ...f, references: [[box], [box]] })),
    { detect: [lenient, strict], decode, encode },
    plan,
  )
  t.ok(
    both.trials.some((x) => x.f1s[0] === 1 && x.f1s[1] < 1),
    'some candidate satisfies the lenient detector but not the strict one',
  )
  t.ok(
    both.trials.every((x) => x.f1 === Math.min(...x.f1s)),
    "a trial's F1 is its weakest detector's",
  )
  t.ok(both.bytesAtTarget > one.bytesAtTarget, 'the strict detector costs bytes the lenient one alone would save')
  const chosen = both.trials.find(
    (x) => x.tilt === both.best.tilt && x.chroma === both.best.chroma && x.scale === both.best.scale,
  )
  t.ok(
    chosen?.f1s.every((f) => f >= 0.99),
    'the chosen scale reaches the target on both',
  )
  const file = detectorTableFile('cam-joint', both, {}, ['lenient', 'strict'])
  t.same((file.source!.trialColumns as string[]).slice(4), ['f1 lenient', 'f1 strict'], 'one F1 column per detector')
  await t.rejects(
    searchTiltTable(frames, { detect: [lenient, strict], decode, encode }, plan),
    /calibration frame 0: 1 reference lists for 2 detectors/,
  )
})

t.test(
  'spatialSettings: tuned table with its optimal-Huffman twin, map curves per frame, downscaled baseline',
  async (t) => {
    const tilt = detectorTableFile(
      'cam-ssd',
      { best: { tilt: 2, chroma: 0.5, scale: 1 }, bytesAtTarget: 1, trials: [] },
      {},
    )
    const map = { id: 'm', cols: 2, rows: 1, levels: '01', keep: [1, 6] }
    const motion = new Map([[7, Uint8Array.from([1, 0])]])
    const s = spatialSettings({
      tilt,
      tiltScales: [1, 2],
      map,
      motion,
      mapQualities: [30],
      small: { width: 40, height: 30, qualities: [50] },
    })
    t.same(
      s.map((x) => x.key),
      [
        'cam-ssd-x1',
        'cam-ssd-opt-x1',
        'cam-ssd-x2',
        'cam-ssd-opt-x2',
        'jpeg+map-q30',
        'jpeg+map-prog-q30',
        'cam-ssd+map-x1',
        'cam-ssd+map-prog-x1',
        'cam-ssd+map-x2',
        'cam-ssd+map-prog-x2',
        'jpeg-40x30-q50',
      ],
    )
    const prog = s[5]
    t.equal(prog.samePixelsAs, 'jpeg+map-q30', 'progressive twin: same coefficients, detections reused')
    t.same(Array.from(prog.encFor!(7).blockKeep!.keep), [64, 6], 'the twin follows the same motion')
    t.equal(prog.encFor!(7).progressive, true)
    t.equal(s[1].samePixelsAs, 'cam-ssd-x1')
    const m = s[4]
    t.same(Array.from(m.encFor!(7).blockKeep!.keep), [64, 6], 'frame 7 moves in cell 0')
    t.same(Array.from(m.encFor!(8).blockKeep!.keep), [1, 6], 'frame 8 has no motion')
    t.equal(
      m.encFor!(8).optimizeHuffman,
      true,
      'map curves use optimal Huffman codes (DC-only blocks cost an EOB each)',
    )
    t.same(s[10].resize, { width: 40, height: 30 })
  },
)

t.test('judges per class: each class is held to the target on its own, not through the pooled F1', async (t) => {
  const person: Box = { bbox: [8, 8, 32, 32], class: 'person', score: 0.9 }
  const cars: Box[] = [0, 1, 2].map((i) => ({ bbox: [40 + 16 * i, 8, 12, 12], class: 'car', score: 0.9 }))
  const frame = { index: 0, image: frames[0].image, references: [[person, ...cars]] }
  // the detector keeps every car and misses the person: pooled F1 6/7, the person's own F1 0
  const io = {
    detect: [async () => cars],
    decode: async (jpg: Uint8Array): Promise<RawImage> => ({ ...frame.image, data: decodeTo(jpg, 3, 96, 64) }),
    encode: (img: RawImage, o: Parameters<typeof encodeJpeg>[1]) => encodeJpeg(img, o),
  }
  const pooled = await judgeEncoding([frame], io, () => ({}))
  t.same(pooled.f1s, [6 / 7], 'one judge per detector: the F1 over all classes')
  const split = await judgeEncoding([frame], { ...io, classes: ['person', 'car'] }, () => ({}))
  t.same(split.f1s, [0, 1], 'one judge per class: the person fails where the pooled F1 passed')
  t.equal(pooled.meanBytes, split.meanBytes)
  t.same(judgeNames(['coco-ssd', 'centernet'], ['person', 'car']), [
    'coco-ssd/person',
    'coco-ssd/car',
    'centernet/person',
    'centernet/car',
  ])
  t.same(judgeNames(['coco-ssd']), ['coco-ssd'])
})
