/**
 * The tables issue 12's detection benchmark ships (config/tables/vtest-*.json): each records the command that made
 * it and the parameters it is computed from, and those parameters rebuild exactly the committed steps.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseTableFile } from '../../shared/codec/tables'
import { rescaleTableFile } from '../../shared/deepn/table-file'
import { tiltParamsOf, tiltTables } from '../../shared/deepn/tilt-table'

const load = (id: string) => {
  const file = join(__dirname, '../../config/tables', `${id}.json`)
  return parseTableFile(readFileSync(file, 'utf8'), file)
}

t.test('vtest-ssd: the detector-tuned table is its recorded tilt parameters', async (t) => {
  const f = load('vtest-ssd')
  const p = tiltParamsOf(f)
  t.ok(p, 'a tilt table')
  t.same({ luma: f.luma, chroma: f.chroma }, tiltTables(p!))
  t.match(f.source?.command, /^deepn eval detect /, 'the command that searched it')
  t.match(f.source?.calibratedOn, /^vtest\.avi frames 0\.\.395 every 5$/, 'calibration frames only (0..399)')
  t.ok(Array.isArray(f.source?.trials) && (f.source.trials as unknown[]).length > 10, 'its search trials')
})

t.test('vtest-joint: tuned on COCO-SSD and CenterNet together, one F1 column per detector', async (t) => {
  const f = load('vtest-joint')
  const p = tiltParamsOf(f)
  t.ok(p, 'a tilt table')
  t.same({ luma: f.luma, chroma: f.chroma }, tiltTables(p!))
  t.match(f.source?.command, /^deepn eval detect .*--tune-on coco-ssd,centernet/, 'the command that searched it')
  t.match(f.source?.calibratedOn, /^vtest\.avi frames 0\.\.395 every 5$/, 'calibration frames only (0..399)')
  t.same((f.source!.trialColumns as string[]).slice(4), ['f1 coco-ssd', 'f1 centernet'])
  const trials = f.source!.trials as number[][]
  const won = trials.filter((r) => r[0] === p!.tilt && r[1] === p!.chroma && r[2] === p!.scale)
  t.ok(
    won.length === 1 && won[0].slice(4).every((f1) => f1 >= (f.source?.targetF1 as number)),
    'its scale reached the target F1 on both detectors',
  )
})

t.test('vtest-joint-person-car: people and cars held to the target on each of the two detectors', async (t) => {
  const f = load('vtest-joint-person-car')
  const p = tiltParamsOf(f)
  t.ok(p, 'a tilt table')
  t.same({ luma: f.luma, chroma: f.chroma }, tiltTables(p!))
  t.match(f.source?.command, /^deepn eval detect .*--tune-on coco-ssd,centernet --tune-classes person,car/)
  t.match(f.source?.calibratedOn, /^vtest\.avi frames 0\.\.395 every 5$/, 'calibration frames only (0..399)')
  t.same(f.source?.classesHeldToTarget, ['person', 'car'])
  t.same((f.source!.trialColumns as string[]).slice(4), [
    'f1 coco-ssd/person',
    'f1 coco-ssd/car',
    'f1 centernet/person',
    'f1 centernet/car',
  ])
  const trials = f.source!.trials as number[][]
  const won = trials.filter((r) => r[0] === p!.tilt && r[1] === p!.chroma && r[2] === p!.scale)
  t.ok(
    won.length === 1 && won[0].slice(4).every((f1) => f1 >= (f.source?.targetF1 as number)),
    'its scale reached the target F1 for every judge',
  )
})

t.test('vtest-deepn: the clip-calibrated DeepN table is its recorded σ through the PLM', async (t) => {
  const f = load('vtest-deepn')
  const again = rescaleTableFile(f, f.source!.scale as number)
  t.same({ luma: again.luma, chroma: again.chroma }, { luma: f.luma, chroma: f.chroma })
  t.match(f.source?.command, /^deepn eval detect /)
  t.match(f.source?.calibratedOn, /^vtest\.avi frames 0\.\.399 every 1$/)
})
