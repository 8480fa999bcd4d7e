import t from 'tap'
import { fetchModels, PINNED_MODELS } from '../../scripts/eval/fetch-models'

t.test('fetch:models checks every model cache; verified caches need no network', async (t) => {
  const log: string[] = []
  fetchModels([], (s) => log.push(s))
  t.same(
    PINNED_MODELS.map((m) => m.name),
    ['coco-ssd', 'centernet', 'nanodet'],
  )
  t.same(log.length, 2, 'NanoDet (51 MB, on demand) is not fetched or checked unless named')
  t.match(log[0], /^COCO-SSD model cache .*\.cache\/coco-ssd verified$/)
  t.match(log[1], /^CenterNet model cache .*\.cache\/centernet verified$/)
  const one: string[] = []
  fetchModels(['--model', 'centernet'], (s) => one.push(s))
  t.same(one, [log[1]], '--model picks one')
})

t.test('a bad flag is named', async (t) => {
  t.throws(
    () => fetchModels(['--model', 'yolo'], () => undefined),
    /--model must be coco-ssd, centernet or nanodet, got 'yolo'/,
  )
  t.throws(() => fetchModels(['--dir', '/tmp/x'], () => undefined), /--dir needs --model NAME/)
})
