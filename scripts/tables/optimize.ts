/**
 * `deepn tables optimize`: model-aware quantization tables.
 *   deepn tables optimize [search] --target-accuracy A | --target-drop D | --max-bytes B ...   search, emit a table JSON
 *   deepn tables optimize report --tables OPT.json [--deepn T.json] ...                       test-split comparison
 * The search runs on a calibration slice of the TRAIN split (or a labelled folder); the report on the test split.
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { numberOption, parseOptions, UsageError } from '../../agent/cli-args'
import { checkOutputFile, checkWritableDir, writeOutputFile } from '../../agent/output-file'
import { formatTableJson } from '../../shared/codec/table-format'
import { parseTableFile } from '../../shared/codec/tables'
import type { TableFile } from '../../shared/codec/types'
import { scaleSteps } from '../../shared/deepn/optimize'
import { rescaleTableFile } from '../../shared/deepn/table-file'
import { tableIdProblem } from '../../shared/contract/ids'
import { Classifier } from '../eval/classifier'
import { loadLabelledSet, type LabelledSet } from '../eval/dataset'
import { evaluate, ourEncoder } from '../eval/evaluate'
import { progressEnabled } from '../eval/progress'
import { trainHuffmanOn } from './optimize/huffman'
import { subset } from './optimize/subset'

export { subset }
import { LogitsModel } from './optimize/logits'
import { runReport } from './optimize/report'
import { ANNEX_LADDER, DEEPN_LADDER, annexStart, search, type StartFamily } from './optimize/search'

export const DEFAULT_MODEL = 'config/models/fmnist-cnn.onnx'
export const DEFAULT_DEEPN = 'config/tables/fmnist-deepn.json'

const HELP = `usage: deepn tables optimize [search] [options]
       deepn tables optimize report --tables OPT.json [options]

search (on a calibration slice of the TRAIN split, never the test split):
  --model FILE             ONNX classifier with JSON sidecar (default ${DEFAULT_MODEL})
  --data fmnist|DIR        Fashion-MNIST train split (default) or a labelled folder <dir>/<label>/*.png|jpg
  --data-dir DIR           Fashion-MNIST IDX directory
  --calib-size N           calibration images sampled with the seed (default 1000)
  --seed N                 PRNG seed: calibration sample and tie-breaking (default 1)
  --target-accuracy A      emit the smallest table with calibration accuracy >= A (0..1)
  --target-drop D          ... >= (JPEG quality 100 accuracy on the calibration slice) - D (default 0.01)
  --max-bytes B            instead: stop at mean whole-file bytes <= B
  --start LIST             start tables: annexk, deepn (default annexk,deepn)
  --deepn-table FILE       DeepN start table (default ${DEFAULT_DEEPN})
  --start-margin D         start at the coarsest quality / scale with calibration accuracy >= target + D (default 0)
  --lambda L               bytes per unit loss in J = bytes + L*loss (default: the start family's own slope)
  --loss kl|nll            move-ranking loss: KL from the model's output on the original (default) or true-label NLL
  --search descent|random  Lagrangian coordinate descent (default) or bounded random search, same budget
  --factor F               multiplicative notch per move (default 1.3)
  --max-evals N            candidate evaluations per start (default 600)
  --polish F               after convergence, descend again with a finer notch F (e.g. 1.1), up to max-evals/2 more
  --joint-huffman N        then N rounds: fit a Huffman set at the current table, descend again counting its code
                           lengths (up to max-evals/2 each); the emitted set is always refitted at the final table
  --id ID                  table id (default fmnist-optimized)
  --out FILE               write the table JSON (default: stdout)
  --force                  replace an existing --out file
  --progress               progress bar on stderr even when not a TTY

report (on the TEST split): --tables OPT.json (repeatable) [--deepn T.json] [--limit N (default 3000)] [--out DIR]
  [--name STEM (default optimized-rate-accuracy)] [--model FILE] [--progress]`

export async function main(argv: string[]): Promise<number> {
  const sub = argv[0] === 'report' || argv[0] === 'search' ? argv[0] : 'search'
  const args = argv[0] === sub ? argv.slice(1) : argv
  const { values: o } = parseOptions({
    args,
    options: {
      model: { type: 'string' },
      data: { type: 'string' },
      'data-dir': { type: 'string' },
      'calib-size': { type: 'string' },
      seed: { type: 'string' },
      'target-accuracy': { type: 'string' },
      'target-drop': { type: 'string' },
      'max-bytes': { type: 'string' },
      start: { type: 'string' },
      'start-margin': { type: 'string' },
      'deepn-table': { type: 'string' },
      factor: { type: 'string' },
      'max-evals': { type: 'string' },
      lambda: { type: 'string' },
      polish: { type: 'string' },
      'joint-huffman': { type: 'string' },
      search: { type: 'string' },
      loss: { type: 'string' },
      id: { type: 'string' },
      out: { type: 'string' },
      progress: { type: 'boolean' },
      tables: { type: 'string', multiple: true },
      deepn: { type: 'string' },
      limit: { type: 'string' },
      name: { type: 'string' },
      force: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (o.help) {
    console.log(HELP)
    return 0
  }
  const modelPath = o.model ?? DEFAULT_MODEL
  const progress = progressEnabled(Boolean(o.progress))
  if (sub === 'report') {
    if (!o.tables?.length) throw new UsageError('report needs --tables OPT.json (the optimised table(s) to compare)')
    if (o.out) checkWritableDir(o.out, '--out')
    return runReport({
      modelPath,
      optimized: o.tables.map((f) => parseTableFile(readFileSync(f, 'utf8'), f)),
      deepn: parseTableFile(readFileSync(o.deepn ?? DEFAULT_DEEPN, 'utf8'), o.deepn ?? DEFAULT_DEEPN),
      limit: numberOption('--limit', o.limit, { min: 1, max: 1e9 }) ?? 3000,
      out: o.out,
      name: o.name ?? 'optimized-rate-accuracy',
      progress,
      dataDir: o['data-dir'],
    })
  }
  // before the search (minutes): an --out that cannot be written, or an existing table, is refused now
  if (o.out)
    checkOutputFile(o.out, {
      option: '--out',
      inputs: [modelPath, ...(o['deepn-table'] ? [o['deepn-table']] : [])],
      force: o.force,
    })
  const jointHuffman = numberOption('--joint-huffman', o['joint-huffman'], { integer: true, min: 0, max: 10 }) ?? 0
  const r = await optimizeTable({
    model: modelPath,
    data: o.data,
    dataDir: o['data-dir'],
    progress,
    seed: numberOption('--seed', o.seed, { integer: true, min: -2147483648, max: 4294967295 }),
    calibSize: numberOption('--calib-size', o['calib-size'], { min: 10, max: 1e6 }),
    targetAccuracy: numberOption('--target-accuracy', o['target-accuracy'], { min: 0, max: 1 }),
    targetDrop: numberOption('--target-drop', o['target-drop'], { min: 0, max: 1 }),
    maxBytes: numberOption('--max-bytes', o['max-bytes'], { min: 1, max: 1e9 }),
    factor: numberOption('--factor', o.factor, { min: 1.01, max: 4 }),
    maxEvals: numberOption('--max-evals', o['max-evals'], { min: 1, max: 1e7 }),
    startMargin: numberOption('--start-margin', o['start-margin'], { min: 0, max: 1 }),
    polish: numberOption('--polish', o.polish, { min: 1.01, max: 4 }),
    lambda: numberOption('--lambda', o.lambda, { min: 1e-6, max: 1e12 }),
    jointHuffman,
    search: o.search as OptimizeTableOptions['search'],
    loss: o.loss as OptimizeTableOptions['loss'],
    id: o.id,
    start: o.start,
    deepnTable: o['deepn-table'],
    command: `deepn tables optimize ${argv.join(' ')}`.trim(),
  })
  const text = formatTableJson(r.table)
  if (o.out) {
    writeOutputFile(o.out, text, { overwrite: Boolean(o.force) })
    console.error(`${o.out}: ${r.summary}`)
  } else process.stdout.write(text)
  return 0
}

/** `deepn tables optimize` as a function, for a backend's own scripts: every CLI option, camelCased. */
export interface OptimizeTableOptions {
  /** ONNX classifier with its JSON sidecar (default config/models/fmnist-cnn.onnx). */
  model?: string
  /** 'fmnist' (default: the Fashion-MNIST train split) or a labelled folder <dir>/<label>/*.png|jpg. */
  data?: string
  /** Fashion-MNIST IDX directory. */
  dataDir?: string
  /** Calibration images sampled with the seed (default 1000). */
  calibSize?: number
  /** Seeds the calibration sample and the coordinate order (default 1). */
  seed?: number
  /** At most one objective: absolute accuracy, JPEG q100's calibration accuracy minus a drop (default 0.01), or a
   * mean whole-file byte budget (then the most accurate table within it). */
  targetAccuracy?: number
  targetDrop?: number
  maxBytes?: number
  /** Start families, comma-separated: annexk, deepn (default both). */
  start?: string
  deepnTable?: string
  startMargin?: number
  factor?: number
  maxEvals?: number
  lambda?: number
  /** Second descent with this finer notch. */
  polish?: number
  jointHuffman?: number
  /** 'descent' (default) or 'random' (bounded random search, for comparison). */
  search?: 'descent' | 'random'
  loss?: 'kl' | 'nll'
  /** Table id (the agent's id rule; default fmnist-optimized). */
  id?: string
  progress?: boolean
  /** How the table was made, recorded in its source (the CLI passes its command line). */
  command?: string
}

/**
 * Searches a table for the model on a calibration slice and returns it as a table file, with its trained Huffman
 * set and a `source` recording model, data, objective and the curve reached, plus a one-line summary. Push it to
 * a device with pushTable() (scripts/backend/push-table/push-table.ts).
 */
export async function optimizeTable(o: OptimizeTableOptions = {}): Promise<{ table: TableFile; summary: string }> {
  const targets = [o.targetAccuracy, o.targetDrop, o.maxBytes].filter((v) => v !== undefined)
  if (targets.length > 1)
    throw new Error(
      'give at most one of --target-accuracy, --target-drop, --max-bytes (targetAccuracy, targetDrop, maxBytes)',
    )
  const seed = o.seed ?? 1
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got '${seed}'`)
  const jointHuffman = o.jointHuffman ?? 0
  if (!Number.isInteger(jointHuffman) || jointHuffman < 0 || jointHuffman > 10)
    throw new UsageError(`--joint-huffman must be an integer 0..10, got '${jointHuffman}'`)
  const method = o.search ?? 'descent'
  if (method !== 'descent' && method !== 'random')
    throw new UsageError(`--search must be descent or random, got '${String(method)}'`)
  const loss = o.loss ?? 'kl'
  if (loss !== 'kl' && loss !== 'nll') throw new UsageError(`--loss must be kl or nll, got '${String(loss)}'`)
  const id = o.id ?? 'fmnist-optimized'
  const idProblem = tableIdProblem(id)
  if (idProblem) throw new UsageError(`--id must be 1..64 of [A-Za-z0-9._-] (the agent's table id rule): ${idProblem}`)
  const modelPath = o.model ?? DEFAULT_MODEL
  const { calibSize = 1000, maxBytes, factor = 1.3, maxEvals = 600, lambda } = o
  const starts = startFamilies(o.start ?? 'annexk,deepn', o.deepnTable ?? DEFAULT_DEEPN)
  const model = await LogitsModel.load(modelPath)
  const classifier = await Classifier.load(modelPath)
  try {
    const full: LabelledSet = loadLabelledSet(o.data, 'train', o.dataDir, model.info)
    const calib = subset(full, Math.min(calibSize, full.count), seed)
    const encode = ourEncoder()
    const q100 = await evaluate({ quality: 100 }, calib, { classifier, encode })
    const target = o.targetAccuracy ?? q100.accuracy - (o.targetDrop ?? 0.01)
    const t0 = Date.now()
    const res = await search({
      model,
      classifier,
      encode,
      calib,
      starts,
      target,
      maxBytes,
      factor,
      maxEvals,
      seed,
      progress: o.progress ?? false,
      startMargin: o.startMargin,
      polishFactor: o.polish,
      lambda,
      loss,
      jointHuffman,
      method,
    })
    const best = res.best
    // The table's own entropy code: a complete Huffman set fitted to the calibration images under the chosen table.
    const chosenTables = { luma: best.chosen.luma, chroma: best.chosen.luma }
    const huffman = trainHuffmanOn(calib, { tables: chosenTables })
    const withHuffman = await evaluate({ tables: chosenTables, huffman }, calib, { classifier, encode })
    const seconds = (Date.now() - t0) / 1000
    const table: TableFile = {
      id,
      luma: best.chosen.luma,
      chroma: best.chosen.luma.slice(),
      huffman,
      source: {
        method: method === 'random' ? 'optimized-random-search' : 'optimized-lagrangian',
        model: { file: modelPath, sha256: createHash('sha256').update(readFileSync(modelPath)).digest('hex') },
        data: `${calib.name}: ${calib.count} images sampled with seed ${seed} from ${full.name} (${full.count})`,
        objective:
          maxBytes !== undefined
            ? { kind: 'max-accuracy', maxMeanBytes: maxBytes }
            : {
                kind: 'min-mean-bytes',
                targetAccuracy: round(target, 4),
                rule:
                  o.targetAccuracy !== undefined
                    ? 'given'
                    : `JPEG q100 calibration accuracy ${round(q100.accuracy, 4)} - ${o.targetDrop ?? 0.01}`,
              },
        seed,
        factor,
        ...(o.polish ? { polish: o.polish } : {}),
        ...(jointHuffman ? { jointHuffman } : {}),
        maxEvals,
        seconds: round(seconds, 1),
        chroma: 'copy of luma: the calibration data is single-component; this table is for gray images',
        calibration: {
          q100: pick(q100),
          chosen: pick(best.chosen.real),
          stepsBackAfterRealCheck: best.chosen.stepsBack,
        },
        huffman: {
          note: "complete Huffman set fitted to the calibration images' symbols under this table (every baseline symbol has a code)",
          calibration: pick(withHuffman),
        },
        loss,
        chosenScale: best.chosen.scale,
        unscaledLuma: best.luma,
        starts: res.outcomes.map((s) => ({
          family: s.name,
          start: s.start.name,
          startLuma: s.start.luma,
          lambda: round(s.lambda, 2),
          evals: s.evals,
          imagesClassified: s.classified,
          stoppedBy: s.stoppedBy,
          chosen: s.chosen ? { scale: s.chosen.scale, ...pick(s.chosen.real) } : 'did not reach the objective',
        })),
        curve: {
          note: `calibration curve of unscaledLuma over the scale knob (surrogate: scan bytes + ${round(res.headerBytes, 1)} header bytes; accuracy; ${loss} loss)`,
          points: best.curve.map((p) => ({
            scale: p.scale,
            meanBytes: round(p.meanBytes, 1),
            accuracy: round(p.accuracy, 4),
            loss: round(p.loss, 5),
          })),
        },
        ...(o.command ? { command: o.command } : {}),
      },
    }
    parseTableFile(table, 'optimised table') // validates before anything is returned or written
    const r = best.chosen.real
    const summary = `${best.start.name} start, λ ${best.lambda.toFixed(0)}, scale ${best.chosen.scale}, calibration accuracy ${(100 * r.accuracy).toFixed(2)}% (target ${(100 * target).toFixed(2)}%), ${r.meanBytes.toFixed(1)} B/image (scan ${r.meanScanBytes.toFixed(1)}; ${withHuffman.meanScanBytes.toFixed(1)} with its trained Huffman set), ${seconds.toFixed(0)} s`
    return { table, summary }
  } finally {
    await model.release()
    await classifier.release()
  }
}

function startFamilies(list: string, deepnPath: string): StartFamily[] {
  return list.split(',').map((s) => {
    if (s === 'annexk') return { name: 'annex-k', ladder: ANNEX_LADDER.map(annexStart) }
    if (s === 'deepn') {
      const t = parseTableFile(readFileSync(deepnPath, 'utf8'), deepnPath)
      const at = (scale: number) => ({
        name: `${t.id} x${scale}`,
        luma: t.source?.method === 'deepn-plm' ? rescaleTableFile(t, scale).luma : scaleSteps(t.luma, scale),
      })
      return { name: t.id, ladder: DEEPN_LADDER.map(at) }
    }
    throw new UsageError(`--start: unknown start table '${s}' (expected annexk, deepn)`)
  })
}

const round = (v: number, d: number) => Math.round(v * 10 ** d) / 10 ** d
const pick = (r: { accuracy: number; meanBytes: number; meanScanBytes: number }) => ({
  accuracy: round(r.accuracy, 4),
  meanBytes: round(r.meanBytes, 1),
  meanScanBytes: round(r.meanScanBytes, 1),
})
