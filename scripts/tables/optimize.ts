/**
 * `deepn tables optimize`: model-aware quantization tables (issue 6).
 *   deepn tables optimize [search] --target-accuracy A | --target-drop D | --max-bytes B ...   search, emit a table JSON
 *   deepn tables optimize report --tables OPT.json [--deepn T.json] ...                       test-split comparison
 * The search runs on a calibration slice of the TRAIN split (or a labelled folder); the report on the test split.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { parseArgs } from 'node:util'
import { parseTableFile } from '../../shared/codec/tables'
import type { TableFile } from '../../shared/codec/types'
import { scaleSteps } from '../../shared/deepn/optimize'
import { rescaleTableFile } from '../../shared/deepn/table-file'
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
  --factor F               multiplicative notch per move (default 1.3)
  --max-evals N            candidate evaluations per start (default 600)
  --polish F               after convergence, descend again with a finer notch F (e.g. 1.1), up to max-evals/2 more
  --joint-huffman N        then N rounds: fit a Huffman set at the current table, descend again counting its code
                           lengths (up to max-evals/2 each); the emitted set is always refitted at the final table
  --id ID                  table id (default fmnist-optimized)
  --out FILE               write the table JSON (default: stdout)
  --progress               progress bar on stderr even when not a TTY

report (on the TEST split): --tables OPT.json (repeatable) [--deepn T.json] [--limit N (default 3000)] [--out DIR]
  [--name STEM (default optimized-rate-accuracy)] [--model FILE] [--progress]`

function num(name: string, v: string | undefined, fallback: number | undefined, lo: number, hi: number): number | undefined {
  if (v === undefined) return fallback
  const n = Number(v)
  if (!Number.isFinite(n) || n < lo || n > hi) throw new Error(`${name} must be a number in ${lo}..${hi}, got '${v}'`)
  return n
}

export async function main(argv: string[]): Promise<number> {
  const sub = argv[0] === 'report' || argv[0] === 'search' ? argv[0] : 'search'
  const args = argv[0] === sub ? argv.slice(1) : argv
  const { values: o } = parseArgs({
    args,
    options: {
      model: { type: 'string' }, data: { type: 'string' }, 'data-dir': { type: 'string' }, 'calib-size': { type: 'string' },
      seed: { type: 'string' }, 'target-accuracy': { type: 'string' }, 'target-drop': { type: 'string' }, 'max-bytes': { type: 'string' },
      start: { type: 'string' }, 'start-margin': { type: 'string' }, 'deepn-table': { type: 'string' },
      factor: { type: 'string' }, 'max-evals': { type: 'string' }, lambda: { type: 'string' }, polish: { type: 'string' }, 'joint-huffman': { type: 'string' }, loss: { type: 'string' }, id: { type: 'string' },
      out: { type: 'string' }, progress: { type: 'boolean' }, tables: { type: 'string', multiple: true }, deepn: { type: 'string' },
      limit: { type: 'string' }, name: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  })
  if (o.help) { console.log(HELP); return 0 }
  const modelPath = o.model ?? DEFAULT_MODEL
  const progress = progressEnabled(Boolean(o.progress))
  if (sub === 'report') {
    if (!o.tables?.length) throw new Error('report needs --tables OPT.json (the optimised table(s) to compare)')
    return runReport({
      modelPath, optimized: o.tables.map((f) => parseTableFile(readFileSync(f, 'utf8'), f)),
      deepn: parseTableFile(readFileSync(o.deepn ?? DEFAULT_DEEPN, 'utf8'), o.deepn ?? DEFAULT_DEEPN),
      limit: num('--limit', o.limit, 3000, 1, 1e9)!, out: o.out, name: o.name ?? 'optimized-rate-accuracy', progress, dataDir: o['data-dir'],
    })
  }
  const targets = [o['target-accuracy'], o['target-drop'], o['max-bytes']].filter((v) => v !== undefined)
  if (targets.length > 1) throw new Error('give at most one of --target-accuracy, --target-drop, --max-bytes')
  const seed = num('--seed', o.seed, 1, -2147483648, 4294967295)!
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got '${o.seed}'`)
  const calibSize = num('--calib-size', o['calib-size'], 1000, 10, 1e6)!
  const maxBytes = num('--max-bytes', o['max-bytes'], undefined, 1, 1e9)
  const targetAccuracy = num('--target-accuracy', o['target-accuracy'], undefined, 0, 1)
  const targetDrop = num('--target-drop', o['target-drop'], 0.01, 0, 1)!
  const factor = num('--factor', o.factor, 1.3, 1.01, 4)!
  const maxEvals = num('--max-evals', o['max-evals'], 600, 1, 1e7)!
  const startMargin = num('--start-margin', o['start-margin'], 0, 0, 1)
  const polishFactor = num('--polish', o.polish, undefined, 1.01, 4)
  const lambda = num('--lambda', o.lambda, undefined, 1e-6, 1e12)
  const jointHuffman = num('--joint-huffman', o['joint-huffman'], 0, 0, 10)!
  if (!Number.isInteger(jointHuffman)) throw new Error(`--joint-huffman must be an integer 0..10, got '${o['joint-huffman']}'`)
  const loss = (o.loss ?? 'kl') as 'kl' | 'nll'
  if (loss !== 'kl' && loss !== 'nll') throw new Error(`--loss must be kl or nll, got '${o.loss}'`)
  const id = o.id ?? 'fmnist-optimized'
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) throw new Error(`--id must be 1..64 of [A-Za-z0-9._-] (the agent's table id rule), got '${id}'`)
  const starts = startFamilies(o.start ?? 'annexk,deepn', o['deepn-table'] ?? DEFAULT_DEEPN)
  const model = await LogitsModel.load(modelPath)
  const classifier = await Classifier.load(modelPath)
  try {
    const info = model.info
    const full: LabelledSet = loadLabelledSet(o.data, 'train', o['data-dir'], info)
    const calib = subset(full, Math.min(calibSize, full.count), seed)
    const encode = ourEncoder()
    const q100 = await evaluate({ quality: 100 }, calib, { classifier, encode })
    const target = targetAccuracy ?? q100.accuracy - targetDrop
    const t0 = Date.now()
    const res = await search({
      model, classifier, encode, calib, starts, target, maxBytes, factor, maxEvals, seed, progress,
      startMargin, polishFactor, lambda, loss, jointHuffman,
    })
    const best = res.best
    // The table's own entropy code: a complete Huffman set fitted to the calibration images under the chosen table.
    const chosenTables = { luma: best.chosen.luma, chroma: best.chosen.luma }
    const huffman = trainHuffmanOn(calib, { tables: chosenTables })
    const withHuffman = await evaluate({ tables: chosenTables, huffman }, calib, { classifier, encode })
    const seconds = (Date.now() - t0) / 1000
    const file: TableFile = {
      id,
      luma: best.chosen.luma,
      chroma: best.chosen.luma.slice(),
      huffman,
      source: {
        method: 'optimized-lagrangian',
        model: { file: modelPath, sha256: createHash('sha256').update(readFileSync(modelPath)).digest('hex') },
        data: `${calib.name}: ${calib.count} images sampled with seed ${seed} from ${full.name} (${full.count})`,
        objective: maxBytes !== undefined
          ? { kind: 'max-accuracy', maxMeanBytes: maxBytes }
          : { kind: 'min-mean-bytes', targetAccuracy: round(target, 4), rule: o['target-accuracy'] ? 'given' : `JPEG q100 calibration accuracy ${round(q100.accuracy, 4)} - ${o['target-drop'] ?? 0.01}` },
        seed, factor, ...(o.polish ? { polish: Number(o.polish) } : {}), ...(jointHuffman ? { jointHuffman } : {}), maxEvals, seconds: round(seconds, 1),
        chroma: 'copy of luma: the calibration data is single-component; this table is for gray images',
        calibration: { q100: pick(q100), chosen: pick(best.chosen.real), stepsBackAfterRealCheck: best.chosen.stepsBack },
        huffman: {
          note: 'complete Huffman set fitted to the calibration images\' symbols under this table (every baseline symbol has a code)',
          calibration: pick(withHuffman),
        },
        loss, chosenScale: best.chosen.scale, unscaledLuma: best.luma,
        starts: res.outcomes.map((s) => ({
          family: s.name, start: s.start.name, startLuma: s.start.luma, lambda: round(s.lambda, 2), evals: s.evals,
          imagesClassified: s.classified, stoppedBy: s.stoppedBy, chosen: s.chosen ? { scale: s.chosen.scale, ...pick(s.chosen.real) } : 'did not reach the objective',
        })),
        curve: {
          note: `calibration curve of unscaledLuma over the scale knob (surrogate: scan bytes + ${round(res.headerBytes, 1)} header bytes; accuracy; ${loss} loss)`,
          points: best.curve.map((p) => ({ scale: p.scale, meanBytes: round(p.meanBytes, 1), accuracy: round(p.accuracy, 4), loss: round(p.loss, 5) })),
        },
        command: `deepn tables optimize ${argv.join(' ')}`.trim(),
      },
    }
    parseTableFile(file, 'optimised table') // validates before anything is written
    const text = JSON.stringify(file, null, 2) + '\n'
    if (o.out) {
      mkdirSync(dirname(o.out), { recursive: true })
      writeFileSync(o.out, text)
      const r = best.chosen.real
      console.error(`${o.out}: ${best.start.name} start, λ ${best.lambda.toFixed(0)}, scale ${best.chosen.scale}, calibration accuracy ${(100 * r.accuracy).toFixed(2)}% (target ${(100 * target).toFixed(2)}%), ${r.meanBytes.toFixed(1)} B/image (scan ${r.meanScanBytes.toFixed(1)}; ${withHuffman.meanScanBytes.toFixed(1)} with its trained Huffman set), ${seconds.toFixed(0)} s`)
    } else process.stdout.write(text)
    return 0
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
      const at = (scale: number) => ({ name: `${t.id} x${scale}`, luma: t.source?.method === 'deepn-plm' ? rescaleTableFile(t, scale).luma : scaleSteps(t.luma, scale) })
      return { name: t.id, ladder: DEEPN_LADDER.map(at) }
    }
    throw new Error(`--start: unknown start table '${s}' (expected annexk, deepn)`)
  })
}

const round = (v: number, d: number) => Math.round(v * 10 ** d) / 10 ** d
const pick = (r: { accuracy: number; meanBytes: number; meanScanBytes: number }) =>
  ({ accuracy: round(r.accuracy, 4), meanBytes: round(r.meanBytes, 1), meanScanBytes: round(r.meanScanBytes, 1) })
