/**
 * The optimiser's other inputs: the --max-bytes objective (re-measured with the real codec it stays within the
 * budget) and a labelled image folder as calibration data instead of the IDX train split.
 */
import t from 'tap'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PNG } from 'pngjs'
import { parseTableFile } from '../../../shared/codec/tables'
import { formatTableJson } from '../../../shared/codec/table-format'
import { Classifier } from '../../../scripts/eval/classifier'
import { FMNIST_CLASSES, image, loadFashionMnist, loadFolder } from '../../../scripts/eval/dataset'
import { evaluate, ourEncoder } from '../../../scripts/eval/evaluate'
import { main as optimize, subset } from '../../../scripts/tables/optimize'
import { SurrogateEvaluator } from '../../../scripts/tables/optimize/surrogate'
import { LogitsModel } from '../../../scripts/tables/optimize/logits'

const MODEL = 'config/models/fmnist-cnn.onnx'

t.test('--max-bytes: the most accurate table within the byte budget, on the real codec', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'deepn-opt-bytes-'))
  const out = join(dir, 'b.json')
  t.equal(
    await optimize([
      '--calib-size',
      '80',
      '--seed',
      '5',
      '--max-evals',
      '12',
      '--start',
      'annexk',
      '--max-bytes',
      '420',
      '--out',
      out,
    ]),
    0,
  )
  const text = readFileSync(out, 'utf8')
  t.equal(text, formatTableJson(JSON.parse(text)), 'the layout tables build and calibrate write (8 rows of 8)')
  const table = parseTableFile(text, out)
  t.same((table.source as { objective: unknown }).objective, { kind: 'max-accuracy', maxMeanBytes: 420 })
  const classifier = await Classifier.load(MODEL)
  t.teardown(() => classifier.release())
  const real = await evaluate({ tables: table }, subset(loadFashionMnist('train'), 80, 5), {
    classifier,
    encode: ourEncoder(),
  })
  t.ok(real.meanBytes <= 420, `mean ${real.meanBytes} B within the 420 B budget`)
})

t.test('a labelled folder works as calibration data; colour data is refused by name', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'deepn-opt-folder-'))
  const train = loadFashionMnist('train')
  const per = new Map<number, number>()
  for (let i = 0; i < 60; i++) {
    const cls = FMNIST_CLASSES[train.labels[i]].replace(/\//g, '-')
    mkdirSync(join(dir, cls), { recursive: true })
    const png = new PNG({ width: 28, height: 28 })
    image(train, i).forEach((v, p) => {
      png.data[4 * p] = png.data[4 * p + 1] = png.data[4 * p + 2] = v
      png.data[4 * p + 3] = 255
    })
    writeFileSync(join(dir, cls, `${i}.png`), PNG.sync.write(png))
    per.set(train.labels[i], (per.get(train.labels[i]) ?? 0) + 1)
  }
  // the model's class names contain '/', which cannot be a folder name: give the folder loader our own names
  const sidecarDir = mkdtempSync(join(tmpdir(), 'deepn-opt-model-'))
  const model = join(sidecarDir, 'm.onnx')
  writeFileSync(model, readFileSync(MODEL))
  const info = JSON.parse(readFileSync(MODEL.replace(/\.onnx$/, '.json'), 'utf8')) as { classes: string[] }
  info.classes = FMNIST_CLASSES.map((c) => c.replace(/\//g, '-'))
  writeFileSync(model.replace(/\.onnx$/, '.json'), JSON.stringify(info))
  const out = join(dir, 'f.json')
  t.equal(
    await optimize([
      '--model',
      model,
      '--data',
      dir,
      '--calib-size',
      '60',
      '--max-evals',
      '6',
      '--start',
      'annexk',
      '--target-drop',
      '0.05',
      '--out',
      out,
    ]),
    0,
  )
  const table = parseTableFile(readFileSync(out, 'utf8'), out)
  t.match(
    (table.source as { data: string }).data,
    new RegExp(`sample\\(60, seed 1\\).* from ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(60\\)`),
  )
  const folder = loadFolder(dir, { width: 28, height: 28, channels: 1, classes: info.classes })
  t.equal(folder.count, 60)

  const lm = await LogitsModel.load(MODEL)
  t.teardown(() => lm.release())
  const rgb = { ...folder, channels: 3 as const, pixels: new Uint8Array(folder.count * 28 * 28 * 3) }
  await t.rejects(SurrogateEvaluator.create(rgb, lm, new Array(64).fill(8)), /single-component \(gray\) images only/)
})
