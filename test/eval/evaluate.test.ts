import t from 'tap'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { Classifier } from '../../scripts/eval/classifier'
import { loadFashionMnist, take } from '../../scripts/eval/dataset'
import { cjpegEncoder } from '../../scripts/eval/cjpeg-encoder'
import { cleanAccuracy, decodeTo, evaluate, ourEncoder } from '../../scripts/eval/evaluate'

const model = join(__dirname, '../../config/models/fmnist-cnn.onnx')

t.test(
  'evaluate: our encoder and cjpeg agree; rate and accuracy bookkeeping',
  { skip: !existsSync('/usr/share/datasets/fashion-mnist') && 'dataset-fashion-mnist not installed' },
  async (t) => {
    const c = await Classifier.load(model)
    t.teardown(() => c.release())
    const set = take(loadFashionMnist('test'), 40)
    let seen = 0
    const ours = await evaluate({ quality: 50 }, set, {
      classifier: c,
      encode: ourEncoder(),
      batch: 16,
      onImage: () => seen++,
    })
    const ref = await evaluate({ quality: 50 }, set, { classifier: c, encode: cjpegEncoder() })
    t.equal(seen, 40, 'every image encoded once')
    t.equal(ours.count, 40)
    t.equal(ours.meanBytes, ref.meanBytes, 'same bytes as libjpeg-turbo cjpeg')
    t.equal(ours.accuracy, ref.accuracy)
    t.ok(Math.abs(ours.bpp - (8 * ours.meanBytes) / (28 * 28)) < 1e-9, 'bpp = 8·bytes / pixels')
    t.ok(ours.meanScanBytes < ours.meanBytes)
    const tables = { luma: new Array(64).fill(1), chroma: new Array(64).fill(1) }
    const lossless = await evaluate({ tables }, set, { classifier: c, encode: ourEncoder() })
    const clean = await cleanAccuracy(set, c)
    t.ok(Math.abs(lossless.accuracy - clean) <= 1 / 40, 'all-ones tables keep the clean accuracy (within one image)')
    t.ok(lossless.meanBytes > ours.meanBytes)
  },
)

t.test('decodeTo refuses a size mismatch', async (t) => {
  const jpg = ourEncoder()({ width: 8, height: 8, format: 'gray', data: new Uint8Array(64).fill(100) }, { quality: 90 })
  t.equal(decodeTo(jpg, 1, 8, 8)[0], 100)
  t.throws(() => decodeTo(jpg, 1, 16, 8), /decoded 8x8, expected 16x8/)
})
