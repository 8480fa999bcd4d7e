import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import t from 'tap'
import { loadClassifier } from '../../../scripts/backend/receive/classifier'
import { resizeArea } from '../../../scripts/backend/receive/image-input'
import { makeFrame } from './helpers/frames'

// brightness.onnx (made by fixtures/make-brightness-model.py): class 0 = bright, class 1 = dark.
const MODEL = path.join(__dirname, 'fixtures', 'brightness.onnx')

t.test('classifies through the model with its own input shape', async (t) => {
  const c = await loadClassifier(MODEL)
  t.teardown(() => c.close())
  t.same(c.input, { channels: 1, height: 28, width: 28 })
  const bright = await c.classify(makeFrame({ deviceId: 'a', seq: 1, level: 230, width: 64, height: 48 }))
  const dark = await c.classify(makeFrame({ deviceId: 'a', seq: 2, level: 20, width: 64, height: 48 }))
  t.equal(bright.index, 0)
  t.equal(bright.label, '0')
  t.equal(dark.index, 1)
  // logits 10*m and 10*(1-m): softmax probability of the winner is 1/(1+e^(-10|2m-1|))
  const m = 230 / 255
  t.ok(Math.abs(bright.score - 1 / (1 + Math.exp(-10 * (2 * m - 1)))) < 0.02, `score ${bright.score}`)
})

t.test('labels file names the classes', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'deepn-labels-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const labels = path.join(dir, 'l.txt')
  writeFileSync(labels, 'bright\ndark\n')
  const c = await loadClassifier(MODEL, labels)
  t.teardown(() => c.close())
  t.equal((await c.classify(makeFrame({ deviceId: 'a', seq: 1, level: 10 }))).label, 'dark')
})

t.test('a file that is not a model is refused with a reason', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'deepn-model-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const bad = path.join(dir, 'bad.onnx')
  writeFileSync(bad, 'not a model')
  await t.rejects(loadClassifier(bad), /bad\.onnx is not an ONNX model \(it is a text file\)$/)
  await t.rejects(loadClassifier(path.join(dir, 'missing.onnx')), /cannot read model/)
})

t.test('area resize averages', async (t) => {
  const src = Float32Array.from([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150])
  t.same(Array.from(resizeArea(src, 4, 4, 2, 2)), [25, 45, 105, 125])
  t.same(Array.from(resizeArea(Float32Array.from([0, 30, 60]), 3, 1, 2, 1)), [10, 50])
})
