/**
 * `deepn eval detect`: bytes against detection quality on camera footage. One detector's (COCO-SSD, or
 * CenterNet with --detector centernet) detections on the uncompressed test frames are the reference; each curve (standard JPEG, the same with optimal Huffman,
 * natural-deepn, a DeepN table calibrated on the clip's own first frames, any --tables) is scored by F1 and
 * mAP@0.5 against it; CSV, SVG and a markdown report with the paper's and the honest ratio.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CalibrationCollector } from '../../agent/calibration/collector'
import { choiceOption, numberListOption, numberOption, parseOptions, UsageError } from '../../agent/cli-args'
import { parseTableFile } from '../../shared/codec/tables'
import type { RawImage, TableFile } from '../../shared/codec/types'
import { loadBackendPackage } from '../common/backend-package'
import { bootstrapRatios, detectMarkdown, majorClasses, writeDetectPlots } from './detect-report'
import {
  detectSettings,
  detectSweep,
  detectClassCsv,
  detectCsv,
  type DetectSetting,
  FULL_DETECT_PLAN,
  parseDetectCsv,
  QUICK_DETECT_PLAN,
  selectCurves,
  withClassCsv,
} from './detect-sweep'
import { DETECTOR_INFO, DETECTORS, type Detector, type DetectorName, loadDetector } from './detector'
import { COCO_CLASSES } from './centernet-detector'
import { tagCsv, untagCsv } from './detector-csv'
import {
  type CalibrationFrame,
  DEFAULT_TILT_SEARCH,
  detectorTableFile,
  judgeNames,
  searchTiltTable,
  type TiltSearchOptions,
} from './detector-tables'
import { KEEP_CANDIDATES, keepSearchNote, searchKeepLevels } from './map-levels'
import {
  learnMap,
  MAP_QUALITIES,
  mapGrid,
  motionGrids,
  SMALL_HEIGHT,
  spatialSettings,
  TILT_SCALES,
} from './detect-spatial'
import { tiltParamsOf } from '../../shared/deepn/tilt-table'
import type { KeepMap } from '../../shared/spatial/keep-map'
import { decodeTo, ourEncoder } from './evaluate'
import { Progress, progressEnabled } from './progress'
import { imageFolderSource, splitFrames, videoSource, VTEST_AVI, type FrameSource } from './video-frames'
import { readKeepMapFile } from '../../agent/keep-map-file'
import { packagePath } from '../../agent/package-root'

/** The shipped natural-image DeepN table. */
export const NATURAL_DEEPN = packagePath('config', 'tables', 'natural-deepn.json')

/** Quick mode (CI): a few test frames spread over the test half, calibration on every 10th calibration frame. */
export const QUICK = { frames: 4, every: 40, calibEvery: 10, searchEvery: 40 }

/** Quick mode's keep-level search: two candidates at one quality. */
const QUICK_KEEP_SEARCH = { candidates: [KEEP_CANDIDATES[0], KEEP_CANDIDATES[1]], qualities: [30] }

/** Quick mode's table search: enough to run every stage, not to find a good table. */
const QUICK_TILT_SEARCH: TiltSearchOptions = {
  ...DEFAULT_TILT_SEARCH,
  tilts: [0, 2],
  chromas: [0.5, 1],
  scales: [1, 2.5],
}

const HELP = `usage: deepn eval detect [options]

  --video FILE        video to decode with ffmpeg (default ${VTEST_AVI})
  --images DIR        or a folder of frames (png, jpeg, ppm/pgm, bmp) in name order
  --split N           first test frame: earlier frames calibrate (default 400, or half a short source)
  --every N           score every Nth test frame (default 1)
  --limit N           at most N test frames
  --quick             ${QUICK.frames} test frames every ${QUICK.every}, a coarse plan (what CI runs)
  --qualities LIST    standard JPEG qualities (default ${FULL_DETECT_PLAN.qualities.join(',')})
  --scales LIST       DeepN table scales (default ${FULL_DETECT_PLAN.scales.join(',')})
  --tilt-scales LIST  scales the detector-tuned table is swept over, relative to its own (default ${TILT_SCALES.join(',')})
  --tables FILE       more DeepN tables to sweep over --scales (repeatable; natural-deepn is always swept)
  --no-calibrate      skip the DeepN table calibrated on the calibration frames
  --calib-every N     calibrate on every Nth calibration frame (default 1; quick ${QUICK.calibEvery})
  --no-tune           skip the table tuned for the detector (tilt search on calibration frames)
  --no-map            skip the learned importance map curves (map + motion)
  --curves LIST       score only these curves (e.g. vtest-ssd+map), plus jpeg and jpeg-opt, the anchors of
                      every ratio: re-scores one curve on more frames in a fraction of the time
  --tuned-table FILE  use this detector-tuned table (a run's <clip>-ssd.json) instead of searching one
  --keep-map FILE     use this importance map (a run's <clip>-ssd-map.json) instead of learning one
                      (both: score tables and maps tuned for one detector with another, --detector)
  --search-every N    detector-tuned curves learn from every Nth calibration frame (default 5; quick ${QUICK.searchEvery})
  --target-f1 F       the F1 the table search buys as cheaply as it can (default ${DEFAULT_TILT_SEARCH.targetF1})
  --search-scales LIST  scales (x Annex K) each table candidate is tried at (default ${DEFAULT_TILT_SEARCH.scales.join(',')});
                      a higher --target-f1 may need finer ones, e.g. 0.3,0.45,0.6,1,1.6
  --tune-on LIST      detectors the table search and the map learn from (default: --detector); with several
                      (e.g. coco-ssd,centernet) the table must reach the target on each and the map keeps
                      every detector's boxes: files <clip>-joint(.json, -map.json)
  --tune-classes LIST the table and keep-level searches hold each of these classes (e.g. person,car) to the
                      target on its own, per tuning detector, not the F1 over all classes: files
                      <clip>-<detectors>-<classes>(.json, -map.json)
  --cross-check N     decode the first N test frames' encodings with jpeg-js too and compare (default 1)
  --detector NAME     ${DETECTORS.slice(0, -1).join(', ')} or ${DETECTORS.at(-1)}: makes the reference and scores every curve (default coco-ssd)
  --classes LIST      score only these COCO classes, e.g. person,car (reference and every curve)
  --model-dir DIR     that detector's model cache (default .cache/NAME; npm run fetch:models fills it,
                      nanodet's only when named: npm run fetch:models -- --model nanodet)
  --out DIR           write <name>.csv, <name>-classes.csv (counts per class), <name>.svg, <name>-map.svg,
                      <name>.md and the calibrated table there
  --name NAME         output file stem (default detect)
  --save-frames DIR   keep every encoded test frame as DIR/<setting>/<frame>.jpg
  --csv FILE          redraw the charts and the report from a CSV of an earlier run (with --out), no re-run;
                      its per-class counts are read from <name>-classes.csv beside it when present
  --progress          progress bar with ETA on stderr even when not a TTY`

/** An integer >= 1, or undefined when the option was not given. */
const positiveInt = (name: string, v: string | undefined): number | undefined =>
  numberOption(name, v, { integer: true, min: 1 })

/** libjpeg-turbo, as backends decode: sharp's libvips (its bundled libjpeg is mozjpeg, i.e. libjpeg-turbo's decoder). */
export function sharpDecoder(): (jpg: Uint8Array) => Promise<RawImage> {
  const sharp = loadBackendPackage<typeof import('sharp').default>(
    'sharp',
    'the detection benchmark (deepn eval detect)',
  )
  return async (jpg) => {
    const { data, info } = await sharp(jpg).removeAlpha().raw().toBuffer({ resolveWithObject: true })
    if (info.channels !== 3) throw new Error(`sharp decoded ${info.channels} channels, expected 3`)
    const { width, height } = info
    return { width, height, format: 'rgb', data: new Uint8Array(data.buffer, data.byteOffset, data.length) }
  }
}

/** Downscaling as a camera's ISP would before encoding (sharp's default Lanczos filter, exact size). */
function sharpResizer(): (img: RawImage, width: number, height: number) => Promise<RawImage> {
  const sharp = loadBackendPackage<typeof import('sharp').default>(
    'sharp',
    'the detection benchmark (deepn eval detect)',
  )
  return async (img, width, height) => {
    const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
      .resize(width, height, { fit: 'fill' })
      .raw()
      .toBuffer()
    return { width, height, format: 'rgb', data: new Uint8Array(data.buffer, data.byteOffset, data.length) }
  }
}

/** A DeepN table from the calibration frames, by the agent's own on-device calibration code. */
async function calibrate(source: FrameSource, frames: number[], id: string, progress: boolean): Promise<TableFile> {
  const collector = new CalibrationCollector({ frames: frames.length, subsampling: '420', id, deviceId: id })
  const bar = new Progress(frames.length, progress, 'calibrating')
  for await (const f of source.frames(frames)) {
    collector.add(f.image)
    bar.tick()
  }
  bar.end()
  const { table } = collector.result()
  return table
}

interface ModelAwareOptions {
  clip: string
  /** Detectors whose detections on the calibration frames tune the table and the map. */
  tuneOn: Detector[]
  quick: boolean
  tune: boolean
  map: boolean
  /** A tuned table / map from an earlier run (e.g. for another detector): used as is, nothing learned. */
  tiltTable?: TableFile
  keepMap?: KeepMap
  /** Calibration frames used: every Nth (the table search uses every other one of those). */
  every: number
  /** Scales the tuned table is swept over, relative to its own. */
  tiltScales: number[]
  targetF1: number
  /** Classes held to the target each on its own by the table and keep-level searches (JudgeIo.classes). */
  tuneClasses?: string[]
  /** Scales the table search tries each candidate at (undefined: the search's default). */
  searchScales?: number[]
  progress: boolean
  command: string
}

/**
 * The model-aware curves: detections on the calibration frames feed the table search and the learned map;
 * motion is replayed over the test half. Only calibration frames tune anything.
 */
async function modelAware(
  source: FrameSource,
  split: { calibration: number[]; test: number[] },
  o: ModelAwareOptions,
): Promise<{ settings: DetectSetting[]; tilt?: TableFile; map?: KeepMap; notes: string[] }> {
  const small = {
    width: Math.max(8, Math.round((source.width * SMALL_HEIGHT) / source.height)),
    height: SMALL_HEIGHT,
    qualities: o.quick ? [30] : MAP_QUALITIES,
  }
  // what the tuned files are called: <clip>-ssd(.json, -map.json) for COCO-SSD, <clip>-<detector> for another,
  // <clip>-joint when several detectors tuned them
  const judges = o.tuneOn
  const tag =
    (judges.length > 1 ? 'joint' : judges[0].name === 'coco-ssd' ? 'ssd' : judges[0].name) +
    (o.tuneClasses ? `-${o.tuneClasses.map((c) => c.replace(/[^a-z0-9]/g, '')).join('-')}` : '')
  const learnTable = o.tune && !o.tiltTable
  const learnMapToo = o.map && !o.keepMap
  const frames = learnTable || learnMapToo ? split.calibration.filter((i) => i % o.every === 0) : []
  const seen: CalibrationFrame[] = []
  const bar = new Progress(frames.length, o.progress, 'calibration detections')
  for await (const { index, image } of source.frames(frames)) {
    const references = []
    for (const j of judges) references.push(await j.detect(image))
    seen.push({ index, image, references })
    bar.tick()
  }
  bar.end()
  const provenance = {
    detector: judges.map((j) => DETECTOR_INFO[j.name].description).join(' + '),
    calibratedOn: `${source.name} frames ${frames[0]}..${frames.at(-1)} every ${o.every}`,
    command: o.command,
    ...(o.tuneClasses ? { classesHeldToTarget: o.tuneClasses } : {}),
  }
  const judgeIo = {
    detect: judges.map((j) => (img: RawImage) => j.detect(img)),
    decode: sharpDecoder(),
    encode: ourEncoder(),
    classes: o.tuneClasses,
  }
  let tilt: TableFile | undefined = o.tune ? o.tiltTable : undefined
  if (learnTable) {
    const search = o.quick ? QUICK_TILT_SEARCH : DEFAULT_TILT_SEARCH
    const r = await searchTiltTable(
      seen.filter((_, i) => i % 2 === 0),
      judgeIo,
      { ...search, targetF1: o.targetF1, ...(o.searchScales ? { scales: o.searchScales } : {}) },
      o.progress,
    )
    tilt = detectorTableFile(
      `${o.clip}-${tag}`,
      r,
      { ...provenance, targetF1: o.targetF1 },
      judgeNames(
        judges.map((j) => j.name),
        o.tuneClasses,
      ),
    )
  }
  let map: KeepMap | undefined = o.map ? o.keepMap : undefined
  let motion: Map<number, Uint8Array> | undefined
  const notes: string[] = []
  if (learnMapToo) {
    const { width, height } = source
    const grid = mapGrid(width, height)
    const levels = await searchKeepLevels(seen, judgeIo, {
      width,
      height,
      ...grid,
      motion: await motionGrids(source, frames, grid.cols, grid.rows, { progress: o.progress }),
      targetF1: o.targetF1,
      ...(o.quick ? QUICK_KEEP_SEARCH : {}),
      progress: o.progress,
    })
    notes.push(keepSearchNote(levels, o.targetF1))
    map = learnMap(
      `${o.clip}-${tag}-map`,
      seen.map((f) => ({ width, height, detections: f.references.flat() })),
      width,
      height,
      levels.keep,
    )
  }
  if (map) motion = await motionGrids(source, split.test, map.cols, map.rows, { progress: o.progress })
  seen.length = 0 // the frames are no longer needed
  const settings = spatialSettings({
    tilt,
    tiltScales: o.tiltScales,
    map,
    motion,
    mapQualities: o.quick ? [5, 30] : MAP_QUALITIES,
    small,
  })
  return { settings, tilt, map, notes }
}

function classList(v: string, option = '--classes'): Set<string> {
  const names = v.split(',').map((c) => c.trim())
  const unknown = names.filter((c) => !COCO_CLASSES.includes(c))
  if (names.length === 0 || unknown.length > 0)
    throw new UsageError(
      `${option}: ${unknown.map((c) => `'${c}'`).join(', ') || 'empty'} is not a COCO class name (e.g. person, car, bicycle)`,
    )
  return new Set(names)
}

function detectorList(v: string): DetectorName[] {
  const names = [...new Set(v.split(',').map((d) => d.trim()))]
  const unknown = names.filter((d) => !(DETECTORS as readonly string[]).includes(d))
  if (names.length === 0 || unknown.length > 0)
    throw new UsageError(
      `--tune-on: ${unknown.map((d) => `'${d}'`).join(', ') || 'empty'} is not a detector (${DETECTORS.join(', ')})`,
    )
  return names as DetectorName[]
}

function readTiltTable(file: string): TableFile {
  const t = parseTableFile(readFileSync(file, 'utf8'), file)
  if (!tiltParamsOf(t))
    throw new UsageError(`--tuned-table ${file}: not a tuned (annexk-tilt) table: its source has no tilt`)
  return t
}

export async function main(argv: string[]): Promise<number> {
  const { values: o } = parseOptions({
    args: argv,
    options: {
      video: { type: 'string' },
      images: { type: 'string' },
      split: { type: 'string' },
      every: { type: 'string' },
      limit: { type: 'string' },
      quick: { type: 'boolean' },
      qualities: { type: 'string' },
      scales: { type: 'string' },
      'tilt-scales': { type: 'string' },
      'search-scales': { type: 'string' },
      tables: { type: 'string', multiple: true },
      'no-calibrate': { type: 'boolean' },
      'no-tune': { type: 'boolean' },
      'no-map': { type: 'boolean' },
      curves: { type: 'string' },
      'tuned-table': { type: 'string' },
      'keep-map': { type: 'string' },
      'search-every': { type: 'string' },
      'target-f1': { type: 'string' },
      'tune-on': { type: 'string' },
      'tune-classes': { type: 'string' },
      'calib-every': { type: 'string' },
      'cross-check': { type: 'string' },
      detector: { type: 'string' },
      'model-dir': { type: 'string' },
      classes: { type: 'string' },
      out: { type: 'string' },
      name: { type: 'string' },
      'save-frames': { type: 'string' },
      csv: { type: 'string' },
      progress: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (o.help) {
    console.log(HELP)
    return 0
  }
  const name = o.name ?? 'detect'
  if (o.csv) {
    if (!o.out) throw new UsageError('--csv needs --out DIR for the redrawn charts')
    const { detector, csv } = untagCsv(readFileSync(o.csv, 'utf8'))
    // the per-class counts sit beside it (`<name>-classes.csv`); runs older than that file redraw without them
    const classFile = o.csv.replace(/\.csv$/, '-classes.csv')
    const points = existsSync(classFile)
      ? withClassCsv(parseDetectCsv(csv), readFileSync(classFile, 'utf8'))
      : parseDetectCsv(csv)
    mkdirSync(o.out, { recursive: true })
    const info = DETECTOR_INFO[detector]
    writeDetectPlots(o.out, name, points, info.title)
    process.stdout.write(
      detectMarkdown(points, { source: o.csv, testFrames: 'as in the CSV', detector: info.description }),
    )
    return 0
  }
  if (o.video && o.images) throw new UsageError('give --video FILE or --images DIR, not both')
  const source = o.images ? imageFolderSource(o.images) : videoSource(o.video ?? VTEST_AVI)
  const every = positiveInt('--every', o.every) ?? (o.quick ? QUICK.every : 1)
  const limit = positiveInt('--limit', o.limit) ?? (o.quick ? QUICK.frames : undefined)
  const split = splitFrames(source.count, { split: positiveInt('--split', o.split), every, limit })
  const calibEvery = positiveInt('--calib-every', o['calib-every']) ?? (o.quick ? QUICK.calibEvery : 1)
  const crossFrames = o['cross-check'] === '0' ? 0 : (positiveInt('--cross-check', o['cross-check']) ?? 1)
  const base = o.quick ? QUICK_DETECT_PLAN : FULL_DETECT_PLAN
  const qualities = numberListOption('--qualities', o.qualities) ?? base.qualities
  const searchScales = numberListOption('--search-scales', o['search-scales'])
  if (!qualities.includes(100)) qualities.push(100) // the paper metric's reference point
  const tables = [NATURAL_DEEPN, ...(o.tables ?? [])].map((f) => parseTableFile(readFileSync(f, 'utf8'), f))
  const tuned = o['tuned-table'] ? readTiltTable(o['tuned-table']) : undefined
  const keepMap = o['keep-map'] ? readKeepMapFile(o['keep-map']) : undefined
  const progress = progressEnabled(Boolean(o.progress))
  const t0 = Date.now()
  // load the detector first: a missing package or model cache fails before minutes of calibration
  const classes = o.classes ? classList(o.classes) : undefined
  const scoring = choiceOption('--detector', o.detector, DETECTORS) ?? 'coco-ssd'
  const tuneNames = o['tune-on'] ? detectorList(o['tune-on']) : [scoring]
  // --classes: the reference, every curve and the tuning see only those classes (what a person-counting backend scores)
  const load = async (name: DetectorName): Promise<Detector> => {
    const loaded = await loadDetector(name, { modelDir: name === scoring ? o['model-dir'] : undefined })
    return classes
      ? {
          name: loaded.name,
          detect: async (img) => (await loaded.detect(img)).filter((d) => classes.has(d.class)),
          dispose: () => loaded.dispose(),
        }
      : loaded
  }
  const detector = await load(scoring)
  const others: Detector[] = []
  try {
    for (const n of tuneNames) if (n !== scoring) others.push(await load(n))
    const tuneOn = tuneNames.map((n) => (n === scoring ? detector : (others.find((d) => d.name === n) as Detector)))
    const clip =
      source.name
        .replace(/\.[^.]*$/, '')
        .replace(/[^A-Za-z0-9._-]/g, '-')
        .slice(0, 50) || 'clip'
    let calibrated: TableFile | undefined
    if (!o['no-calibrate']) {
      const id = `${clip}-deepn`
      const frames = split.calibration.filter((i) => i % calibEvery === 0)
      calibrated = await calibrate(source, frames, id, progress)
      calibrated.source = {
        ...calibrated.source,
        calibratedOn: `${source.name} frames ${frames[0]}..${frames.at(-1)} every ${calibEvery}`,
        frames: frames.length,
        command: `deepn eval detect ${argv.join(' ')}`.trim(),
      }
      tables.push(calibrated)
    }
    const settings = detectSettings({
      qualities,
      optimizeHuffman: true,
      tables,
      scales: numberListOption('--scales', o.scales) ?? base.scales,
    })
    const model = await modelAware(source, split, {
      clip,
      tuneOn,
      quick: Boolean(o.quick),
      tune: !o['no-tune'],
      map: !o['no-map'],
      tiltTable: tuned,
      keepMap,
      tiltScales: numberListOption('--tilt-scales', o['tilt-scales']) ?? (o.quick ? [1, 3] : TILT_SCALES),
      every: positiveInt('--search-every', o['search-every']) ?? (o.quick ? QUICK.searchEvery : 5),
      targetF1: numberOption('--target-f1', o['target-f1'], { min: 0.01, max: 0.999 }) ?? DEFAULT_TILT_SEARCH.targetF1,
      tuneClasses: o['tune-classes'] ? [...classList(o['tune-classes'], '--tune-classes')] : undefined,
      searchScales,
      progress,
      command: `deepn eval detect ${argv.join(' ')}`.trim(),
    })
    settings.push(...model.settings)
    if (o.curves !== undefined) {
      const picked = o.curves.split(',').map((c) => c.trim())
      try {
        settings.splice(0, settings.length, ...selectCurves(settings, picked))
      } catch (e) {
        throw new UsageError((e as Error).message)
      }
    }
    // what calibration made is written before the sweep: a scorer with another detector can start on it now,
    // and an interrupted sweep does not lose minutes of search
    const saveJson = (id: string, v: unknown) => {
      if (!o.out) return
      mkdirSync(o.out, { recursive: true })
      writeFileSync(join(o.out, `${id}.json`), `${JSON.stringify(v, null, 2)}\n`)
    }
    for (const t of [calibrated, model.tilt]) if (t) saveJson(t.id, t)
    if (model.map) saveJson(model.map.id, model.map)
    const result = await detectSweep(source, split.test, settings, {
      detect: (img) => detector.detect(img),
      encode: ourEncoder(),
      decode: sharpDecoder(),
      resize: sharpResizer(),
      crossDecode:
        crossFrames > 0
          ? (jpg) => ({
              width: source.width,
              height: source.height,
              format: 'rgb',
              data: decodeTo(jpg, 3, source.width, source.height),
            })
          : undefined,
      crossCheckFrames: crossFrames,
      progress,
      saveFrames: o['save-frames'],
    })
    const seconds = (Date.now() - t0) / 1000
    const md = detectMarkdown(result.points, {
      source: source.name,
      testFrames: `${split.test[0]}..${split.test.at(-1)} every ${every}`,
      referenceDetections: result.referenceDetections,
      referenceClasses: result.referenceClasses,
      seconds,
      detector: `${DETECTOR_INFO[detector.name].description}${classes ? `, classes ${[...classes].join(', ')} only` : ''}`,
      command: `deepn eval detect ${argv.join(' ')}`.trim(),
      crossCheck: result.crossCheck,
      bands: bootstrapRatios(result.points, result.perFrame),
      classBands: Object.fromEntries(
        majorClasses(result.points).map((cls) => [cls, bootstrapRatios(result.points, result.perFrame, { cls })]),
      ),
      notes: model.notes,
    })
    process.stdout.write(md)
    if (o.out) {
      mkdirSync(o.out, { recursive: true })
      writeFileSync(join(o.out, `${name}.csv`), tagCsv(detectCsv(result.points), detector.name))
      writeFileSync(join(o.out, `${name}-classes.csv`), detectClassCsv(result.points))
      writeDetectPlots(o.out, name, result.points, DETECTOR_INFO[detector.name].title)
      writeFileSync(join(o.out, `${name}.md`), md)
    }
    return 0
  } finally {
    for (const d of [detector, ...others]) d.dispose()
  }
}
