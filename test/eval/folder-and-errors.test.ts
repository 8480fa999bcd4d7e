import t from 'tap'
import { existsSync, mkdirSync, writeFileSync, copyFileSync } from 'node:fs'
import { join } from 'node:path'
import { PNG } from 'pngjs'
import { main } from '../../scripts/eval/cli'
import { Classifier } from '../../scripts/eval/classifier'
import { image, loadFashionMnist, loadFolder, take } from '../../scripts/eval/dataset'
import { cleanAccuracy } from '../../scripts/eval/evaluate'

const root = join(__dirname, '../..')
const model = join(root, 'config/models/fmnist-cnn.onnx')
const hasData = existsSync('/usr/share/datasets/fashion-mnist')

t.test(
  'a <dir>/<label>/*.png folder gives the same accuracy as the IDX files it was written from',
  { skip: !hasData && 'dataset-fashion-mnist not installed' },
  async (t) => {
    const set = take(loadFashionMnist('test'), 60)
    const dir = t.testdir()
    // folders by sanitised class name, except class 9 by its index: both spellings must map to the same label
    const folderOf = (k: number) => (k === 9 ? '9' : set.classes[k].replace('/', '-'))
    set.classes.forEach((_c, k) => mkdirSync(join(dir, folderOf(k))))
    for (let i = 0; i < set.count; i++) {
      const png = new PNG({ width: 28, height: 28, colorType: 0 })
      const px = image(set, i)
      for (let k = 0; k < 784; k++) png.data.set([px[k], px[k], px[k], 255], 4 * k)
      writeFileSync(
        join(dir, folderOf(set.labels[i]), `${String(i).padStart(3, '0')}.png`),
        PNG.sync.write(png, { colorType: 0 }),
      )
    }
    const folder = loadFolder(dir, { width: 28, height: 28, channels: 1, classes: set.classes })
    t.equal(folder.count, 60)
    const c = await Classifier.load(model)
    t.teardown(() => c.release())
    t.equal(await cleanAccuracy(folder, c), await cleanAccuracy(set, c))
  },
)

t.test('bad input is refused with a reason', async (t) => {
  const dir = t.testdir()
  await t.rejects(main(['--model', join(dir, 'none.onnx')]), /^cannot read model .*none\.onnx: no such file$/)
  // not a model at all: said in those words, not as the sidecar's JSON parse error
  writeFileSync(join(dir, 'text.png'), 'hello\n')
  await t.rejects(main(['--model', join(dir, 'text.png')]), /^.*text\.png is not an ONNX model \(it is a text file\)$/)
  writeFileSync(join(dir, 'photo.onnx'), PNG.sync.write(new PNG({ width: 4, height: 4 })))
  await t.rejects(main(['--model', join(dir, 'photo.onnx')]), /photo\.onnx is not an ONNX model \(it is a PNG image\)$/)
  writeFileSync(join(dir, 'fake.onnx'), Buffer.concat([Buffer.from([0x08, 0x07]), Buffer.alloc(30, 0x61)]))
  writeFileSync(join(dir, 'fake.json'), '{"height":28,"width":28,"channels":1,"classes":["a"]}')
  await t.rejects(
    main(['--model', join(dir, 'fake.onnx')]),
    /fake\.onnx is not an ONNX model onnxruntime-web can load: it does not parse as an ONNX protobuf$/,
  )
  writeFileSync(join(dir, 'badside.json'), '{height')
  copyFileSync(join(dir, 'fake.onnx'), join(dir, 'badside.onnx'))
  await t.rejects(main(['--model', join(dir, 'badside.onnx')]), /model sidecar .*badside\.json is not valid JSON/)
  if (!hasData) return
  await t.rejects(main(['--encoder', 'gimp', '--limit', '10', '--model', model]), /--encoder must be ours or cjpeg/)
  await t.rejects(main(['--limit', 'abc', '--model', model]), /--limit must be a positive number/)
  await t.rejects(
    main(['--qualities', '50,x', '--limit', '10', '--model', model]),
    /--qualities must be a comma-separated list/,
  )
  await t.rejects(main(['plot', '--csv', 'x.csv']), /needs --csv FILE and --out DIR/)
  mkdirSync(join(dir, 'big', 'Trouser'), { recursive: true })
  const png = new PNG({ width: 32, height: 32 })
  writeFileSync(join(dir, 'big', 'Trouser', 'x.png'), PNG.sync.write(png))
  mkdirSync(join(dir, 'odd', 'Hats'), { recursive: true })
  writeFileSync(join(dir, 'odd', 'Hats', 'x.png'), PNG.sync.write(png))
  await t.rejects(
    main(['--data', join(dir, 'odd'), '--model', model]),
    /label folder 'Hats' is not one of the model's classes/,
  )
  await t.rejects(main(['--data', join(dir, 'big'), '--model', model]), /is 32x32; the model expects 28x28/)
  await t.rejects(main(['--data', join(dir, 'missing'), '--model', model]), /does not exist/)
  // a model whose sidecar lacks the input contract
  copyFileSync(model, join(dir, 'm.onnx'))
  writeFileSync(join(dir, 'm.json'), '{"height": 28}')
  await t.rejects(main(['--model', join(dir, 'm.onnx')]), /must have height, width, channels/)
})
