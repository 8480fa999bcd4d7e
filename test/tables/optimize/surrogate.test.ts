/**
 * The optimiser's fast surrogate against the real encoder: scan bytes under Annex K's code lengths and under a
 * trained set's, accuracy, and incremental moves equal to a fresh computation.
 */
import t from 'tap'
import { encodeJpeg } from '../../../shared/codec/encoder'
import { qualityTables } from '../../../shared/codec/tables'
import type { EncodeOptions } from '../../../shared/codec/types'
import { scanBytes } from '../../../shared/deepn/scan-bytes'
import { Classifier } from '../../../scripts/eval/classifier'
import { image, loadFashionMnist, type LabelledSet } from '../../../scripts/eval/dataset'
import { evaluate, ourEncoder } from '../../../scripts/eval/evaluate'
import { trainHuffmanOn } from '../../../scripts/tables/optimize/huffman'
import { LogitsModel } from '../../../scripts/tables/optimize/logits'
import { subset } from '../../../scripts/tables/optimize/subset'
import { SurrogateEvaluator, codeLengthsOf } from '../../../scripts/tables/optimize/surrogate'

const MODEL = 'config/models/fmnist-cnn.onnx'

function realScan(set: LabelledSet, options: EncodeOptions): number {
  let sum = 0
  for (let i = 0; i < set.count; i++)
    sum += scanBytes(encodeJpeg({ width: set.width, height: set.height, format: 'gray', data: image(set, i) }, options))
  return sum / set.count
}

t.test('surrogate rate and accuracy track the real codec, with Annex K and with trained code lengths', async (t) => {
  const set = subset(loadFashionMnist('train'), 200, 11)
  const model = await LogitsModel.load(MODEL)
  const classifier = await Classifier.load(MODEL)
  t.teardown(async () => {
    await model.release()
    await classifier.release()
  })
  const luma = qualityTables(30).luma
  const tables = { luma, chroma: luma }
  const ev = await SurrogateEvaluator.create(set, model, luma)
  const annex = ev.current()
  const realAnnex = realScan(set, { tables })
  t.ok(
    Math.abs(annex.bytes - realAnnex) / realAnnex < 0.015,
    `Annex K lengths: surrogate ${annex.bytes} vs real ${realAnnex} scan B/image`,
  )
  const real = await evaluate({ tables }, set, { classifier, encode: ourEncoder() })
  t.ok(
    Math.abs(annex.correct - real.correct) <= 2,
    `accuracy: surrogate ${annex.correct} vs real ${real.correct} correct of ${set.count}`,
  )

  const huffman = trainHuffmanOn(set, { tables })
  ev.setCodeLengths(codeLengthsOf(huffman))
  await ev.reset(luma)
  const trained = ev.current()
  const realTrained = realScan(set, { tables, huffman })
  t.ok(realTrained < realAnnex, `the trained set is smaller for real: ${realTrained} < ${realAnnex}`)
  t.ok(
    Math.abs(trained.bytes - realTrained) / realTrained < 0.015,
    `trained lengths: surrogate ${trained.bytes} vs real ${realTrained} scan B/image`,
  )
  t.equal(trained.correct, annex.correct, 'code lengths do not change the pixels')

  // a move applied incrementally equals a fresh computation at the moved table
  await ev.apply(1, 90)
  const moved = ev.current()
  const fresh = await SurrogateEvaluator.create(set, model, Object.assign(luma.slice(), { 1: 90 }))
  fresh.setCodeLengths(codeLengthsOf(huffman))
  await fresh.reset(Object.assign(luma.slice(), { 1: 90 }))
  t.same(moved, fresh.current(), 'incremental state = fresh state under trained lengths')
})
