/**
 * `deepn eval`: rate–accuracy evaluation of quantization tables against standard JPEG.
 *   deepn eval [sweep] --tables T.json ...   sweep JPEG quality and DeepN scale; CSV + SVG + ratios
 *   deepn eval clean [--record]              the model's accuracy with no codec (full test split + quick subset)
 *   deepn eval plot --csv F --out DIR        redraw charts and ratios from a sweep's CSV
 *   deepn eval detect [--video F|--images D] a COCO detector on camera footage: F1 / mAP vs bytes (eval/detect.ts)
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  choiceOption,
  numberListOption,
  numberOption,
  parseOptions,
  subcommand,
  UsageError,
} from '../../agent/cli-args'
import { checkWritableDir, writeOutputFile } from '../../agent/output-file'
import { parseTableFile } from '../../shared/codec/tables'
import { Classifier } from './classifier'
import { cjpegEncoder } from './cjpeg-encoder'
import { loadLabelledSet, take, type LabelledSet } from './dataset'
import { cleanAccuracy, ourEncoder, type Encoder } from './evaluate'
import { svgPlot } from './plot'
import { progressEnabled } from './progress'
import { report, reportMarkdown } from './report'
import { FULL_PLAN, QUICK_PLAN, fromCsv, sweep, toCsv, type SweepPoint } from './sweep'
import { packagePath } from '../../agent/package-root'

/** The committed Fashion-MNIST model. */
export const DEFAULT_MODEL = packagePath('config', 'models', 'fmnist-cnn.onnx')
export const QUICK_SIZE = 1000

const HELP = `usage: deepn eval [sweep|clean|plot] [options]
       deepn eval detect [options]    (object detection on camera footage: deepn eval detect --help)

  --model FILE        ONNX classifier with a JSON sidecar (default config/models/fmnist-cnn.onnx)
  --data fmnist|DIR   Fashion-MNIST test split (default) or a folder <dir>/<label>/*.png|jpg, label =
                      a model class name ("/" written as "-") or class index
  --data-dir DIR      Fashion-MNIST IDX directory (default /usr/share/datasets/fashion-mnist)
  --quick             first ${QUICK_SIZE} test images and a coarse sweep (what CI runs)
  --limit N           first N images
  --tables FILE       DeepN table JSON to sweep over --scales (repeatable)
  --flat              also sweep a flat table (all steps 16·scale), the MSE-optimal uniform reference
  --qualities LIST    JPEG qualities (default ${FULL_PLAN.qualities.join(',')})
  --scales LIST       table scales (default ${FULL_PLAN.scales.join(',')})
  --encoder E         ours (default) or cjpeg (reference cross-check; slow)
  --out DIR           write <name>.csv, <name>.svg, <name>.md there
  --name NAME         output file stem (default rate-accuracy)
  --csv FILE          (plot) redraw charts and ratios from a sweep's CSV, no re-run
  --record            (clean) store the clean accuracy in the model sidecar
  --progress          progress bar on stderr even when not a TTY`

export async function main(argv: string[]): Promise<number> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  if (argv[0] === 'detect')
    return subcommand('eval detect', () => (require('./detect') as typeof import('./detect')).main(argv.slice(1)))
  const sub = argv[0] === 'clean' || argv[0] === 'sweep' || argv[0] === 'plot' ? argv[0] : 'sweep'
  const args = argv[0] === sub ? argv.slice(1) : argv
  const { values: o } = parseOptions({
    args,
    options: {
      model: { type: 'string' },
      data: { type: 'string' },
      'data-dir': { type: 'string' },
      quick: { type: 'boolean' },
      limit: { type: 'string' },
      tables: { type: 'string', multiple: true },
      qualities: { type: 'string' },
      scales: { type: 'string' },
      flat: { type: 'boolean' },
      encoder: { type: 'string' },
      out: { type: 'string' },
      name: { type: 'string' },
      record: { type: 'boolean' },
      progress: { type: 'boolean' },
      csv: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (o.help) {
    console.log(HELP)
    return 0
  }
  if (sub === 'plot') {
    if (!o.csv || !o.out) throw new UsageError('eval plot needs --csv FILE and --out DIR')
    checkWritableDir(o.out, '--out')
    const points = fromCsv(readFileSync(o.csv, 'utf8'))
    const rep = report(points)
    writePlots(o.out, o.name ?? 'rate-accuracy', points, rep.q100Accuracy, rep.band)
    process.stdout.write(reportMarkdown(rep, points))
    return 0
  }
  // the command line and outputs are checked before the model loads and the sweep (many minutes) runs
  const limit = numberOption('--limit', o.limit, { above: 0 }) ?? (o.quick ? QUICK_SIZE : Infinity)
  const qualities = numberListOption('--qualities', o.qualities)
  const scales = numberListOption('--scales', o.scales)
  const encoder = choiceOption('--encoder', o.encoder, ['ours', 'cjpeg'] as const) ?? 'ours'
  if (o.out) checkWritableDir(o.out, '--out')
  const modelPath = o.model ?? DEFAULT_MODEL
  const classifier = await Classifier.load(modelPath)
  try {
    const info = classifier.info
    let set: LabelledSet = loadLabelledSet(o.data, 'test', o['data-dir'], info)
    if (sub === 'clean') return await measureClean(set, classifier, modelPath, Boolean(o.record))
    set = take(set, limit)
    const base = o.quick ? QUICK_PLAN : FULL_PLAN
    const tables = (o.tables ?? []).map((f) => parseTableFile(readFileSync(f, 'utf8'), f))
    const plan = {
      qualities: qualities ?? base.qualities,
      scales: scales ?? base.scales,
      tables,
      flat: Boolean(o.flat),
    }
    if (!plan.qualities.includes(100)) plan.qualities.push(100) // the paper's reference point
    const encode: Encoder = encoder === 'cjpeg' ? cjpegEncoder() : ourEncoder()
    const t0 = Date.now()
    const points = await sweep(plan, set, { classifier, encode, progress: progressEnabled(Boolean(o.progress)) })
    const seconds = (Date.now() - t0) / 1000
    const rep = report(points, await cleanAccuracy(set, classifier))
    const md = `${reportMarkdown(rep, points)}\nSweep: ${points.length} settings x ${set.count} images (${set.name}) in ${seconds.toFixed(1)} s, encoder ${encoder}.\n`
    process.stdout.write(md)
    if (o.out) writeOutputs(o.out, o.name ?? 'rate-accuracy', points, rep.q100Accuracy, rep.band, md)
    return 0
  } finally {
    await classifier.release()
  }
}

async function measureClean(set: LabelledSet, c: Classifier, modelPath: string, record: boolean): Promise<number> {
  const test = await cleanAccuracy(set, c)
  const quick = await cleanAccuracy(take(set, QUICK_SIZE), c)
  console.log(
    `clean accuracy: ${set.name} ${(100 * test).toFixed(2)}% (${set.count} images); first ${QUICK_SIZE}: ${(100 * quick).toFixed(2)}%`,
  )
  if (record) {
    const side = modelPath.replace(/\.onnx$/, '.json')
    const info = JSON.parse(readFileSync(side, 'utf8')) as Record<string, unknown>
    info.cleanAccuracy = {
      test,
      quickSubset: quick,
      quickSubsetSize: QUICK_SIZE,
      measuredWith: 'deepn eval clean --record (onnxruntime-web, IDX pixels / 255)',
    }
    writeOutputFile(side, `${JSON.stringify(info, null, 2)}\n`)
    console.log(`recorded in ${side}`)
  }
  return 0
}

function writeOutputs(dir: string, name: string, points: SweepPoint[], target: number, band: number, md: string): void {
  writeOutputFile(join(dir, `${name}.csv`), toCsv(points))
  writePlots(dir, name, points, target, band)
  writeOutputFile(join(dir, `${name}.md`), md)
}

/** Accuracy-vs-bpp charts (whole file and scan only) with the q100 accuracy and its band drawn in. */
export function writePlots(dir: string, name: string, points: SweepPoint[], target: number, band: number): void {
  const curves = [...new Set(points.map((p) => p.curve))]
  const hLines = [
    { y: target, label: 'JPEG q100 accuracy' },
    { y: target - band, label: '− 95% band', dashed: true },
  ]
  for (const [key, label] of [
    ['bpp', 'whole file'],
    ['scanBpp', 'scan only'],
  ] as const) {
    const series = curves.map((c) => ({
      name: c === 'jpeg' ? 'JPEG Annex K (quality)' : c === 'flat' ? 'flat 16·scale' : c,
      points: points
        .filter((p) => p.curve === c)
        .map((p) => ({ x: p[key], y: p.accuracy, label: p.quality !== undefined ? `q${p.quality}` : `x${p.scale}` })),
    }))
    const svg = svgPlot(series, {
      title: `Top-1 accuracy vs bits per pixel (${label})`,
      xLabel: `bits per pixel (${label})`,
      yLabel: 'top-1 accuracy',
      hLines,
    })
    writeOutputFile(join(dir, `${name}${key === 'bpp' ? '' : '-scan'}.svg`), svg)
  }
}
