/**
 * The keep-level search: maps learn on the first half of the calibration frames and are judged on the second.
 * The detector here is a rule on the decoded pixels inside its box, so the test knows which candidate must win.
 */
import t from 'tap'
import { encodeJpeg } from '../../shared/codec/encoder'
import type { RawImage } from '../../shared/codec/types'
import type { CalibrationFrame } from '../../scripts/eval/detector-tables'
import { keepSearchNote, searchKeepLevels } from '../../scripts/eval/map-levels'
import type { Box } from '../../scripts/eval/detection-metric'
import { decodeTo } from '../../scripts/eval/evaluate'
import { crop, photos } from '../codec/helpers'

const W = 96
const H = 64
const seenBox: Box = { bbox: [8, 8, 24, 24], class: 'person', score: 0.9 }
const newBox: Box = { bbox: [56, 24, 24, 24], class: 'person', score: 0.9 }
// four frames: the first two (learning half) show an object top left, the last two one where none was before
const frames: CalibrationFrame[] = photos()
  .slice(0, 4)
  .map((p, index) => {
    const image = crop(p, 0, 0, W, H)
    return { index, image: { ...image, format: 'rgb' }, references: [[index < 2 ? seenBox : newBox]] }
  })

let current: RawImage = frames[0].image
let currentBox: Box = seenBox
const io = {
  encode: (img: RawImage, o: Parameters<typeof encodeJpeg>[1]) => {
    current = img
    currentBox = frames.find((f) => f.image === img)!.references[0][0]
    return encodeJpeg(img, o)
  },
  decode: (jpg: Uint8Array): RawImage => ({ width: W, height: H, format: 'rgb', data: decodeTo(jpg, 3, W, H) }),
}

/** The frame's box is found while the pixels inside it stay within `mse` of the original. */
const boxRule =
  (mse: number) =>
  async (img: RawImage): Promise<Box[]> => {
    const [x0, y0, w, h] = currentBox.bbox
    let e = 0
    for (let y = y0; y < y0 + h; y++)
      for (let x = x0; x < x0 + w; x++)
        for (let c = 0; c < 3; c++) e += (img.data[(y * W + x) * 3 + c] - current.data[(y * W + x) * 3 + c]) ** 2
    return e / (w * h * 3) <= mse ? [currentBox] : []
  }

const grid = { width: W, height: H, cols: 6, rows: 4, motion: new Map<number, Uint8Array>() }

t.test('an object where the learning half saw none rules out a map that leaves those cells at DC', async (t) => {
  const r = await searchKeepLevels(
    frames,
    { ...io, detect: [boxRule(40)] },
    {
      ...grid,
      targetF1: 0.99,
      candidates: [
        [1, 1, 6],
        [64, 64, 64],
      ],
      qualities: [50, 95],
    },
  )
  t.same(r.learnedOn, [0, 1], 'maps learn on the first half')
  t.same(r.judgedOn, [2, 3], 'and are judged on the second')
  t.ok(
    r.trials.filter((x) => x.keep[0] === 1).every((x) => x.f1s[0] < 0.99),
    'DC-only cells lose the new object at every quality',
  )
  t.same(r.keep, [64, 64, 64], 'the candidate that keeps the new object wins')
  t.ok(Number.isFinite(r.bytesAtTarget))
  t.match(keepSearchNote(r, 0.99), /64\/64\/64, chosen for F1 0\.99 on calibration frames 2\.\.3 .*1\/1\/6: never/)
})

t.test('when every candidate reaches the target the cheapest wins', async (t) => {
  const r = await searchKeepLevels(
    frames,
    { ...io, detect: [async () => [newBox]] },
    {
      ...grid,
      targetF1: 0.99,
      candidates: [
        [64, 64, 64],
        [1, 1, 6],
      ],
      qualities: [50],
    },
  )
  const bytes = (k: number) => r.trials.find((x) => x.keep[0] === k)!.meanBytes
  t.ok(bytes(1) < bytes(64), 'DC-only cells cost fewer bytes')
  t.same(r.keep, [1, 1, 6])
})

t.test('motion raises cells: with the new object moving, the DC-only map keeps it', async (t) => {
  const motion = new Map<number, Uint8Array>()
  const moving = new Uint8Array(24)
  for (const c of [9, 10, 11, 15, 16, 17, 21, 22, 23]) moving[c] = 1 // cells under newBox (16-pixel cells)
  motion.set(2, moving)
  motion.set(3, moving)
  const r = await searchKeepLevels(
    frames,
    { ...io, detect: [boxRule(40)] },
    { ...grid, motion, targetF1: 0.99, candidates: [[1, 1, 6]], qualities: [95] },
  )
  t.equal(r.trials[0].f1s[0], 1, 'both judging frames keep their object')
})

t.test('bad input is refused with a reason', async (t) => {
  await t.rejects(
    searchKeepLevels(frames.slice(0, 1), { ...io, detect: [boxRule(40)] }, { ...grid, targetF1: 0.9 }),
    /at least 2 calibration frames/,
  )
  await t.rejects(
    searchKeepLevels(frames, { ...io, detect: [] }, { ...grid, targetF1: 0.9 }),
    /the keep-level search needs a detector/,
  )
})
