/**
 * `deepn tables optimize report`: on the held-out TEST split, standard JPEG over quality, the DeepN-PLM table over
 * its scale and the optimised table over the scale knob, all through our
 * encoder and jpeg-js; then the paper's metric (vs JPEG q100) and the honest one (vs the best JPEG quality) at
 * equal accuracy, for whole-file and scan-only bytes, and where on the accuracy axis the honest ratio holds.
 */
import { mkdirSync } from 'node:fs'
import { writeOutputFile } from '../../../agent/output-file'
import { join } from 'node:path'
import type { HuffmanTables, TableFile } from '../../../shared/codec/types'
import { accuracyBand, equalAccuracyRatio, type RatePoint } from '../../../shared/deepn/curve'
import { scaleSteps } from '../../../shared/deepn/optimize'
import { rescaleTableFile } from '../../../shared/deepn/table-file'
import { Classifier } from '../../eval/classifier'
import { loadFashionMnist, take } from '../../eval/dataset'
import { evaluate, ourEncoder, type EvalResult } from '../../eval/evaluate'
import { svgPlot } from '../../eval/plot'
import { Progress } from '../../eval/progress'
import { report, reportMarkdown, type RateKey } from '../../eval/report'
import { FULL_PLAN, toCsv, type SweepPoint } from '../../eval/sweep'
import { trainHuffmanOn } from './huffman'
import { subset } from './subset'

export const OPT_SCALES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.15, 1.3, 1.5, 1.75, 2, 2.5, 3, 4]

export interface ReportOptions {
  modelPath: string
  optimized: TableFile[]
  deepn: TableFile
  limit: number
  out?: string
  name: string
  progress: boolean
  dataDir?: string
}

interface Job {
  curve: string
  luma?: number[]
  chroma?: number[]
  quality?: number
  scale?: number
  optimizeHuffman?: boolean
  huffman?: HuffmanTables
}

/** Baselines for the honest ratio: standard JPEG with Annex K Huffman (cjpeg's default), per-image optimal
 * Huffman (cjpeg -optimize) and a Huffman set trained per quality on train images (what our tables ship with). */
export const BASELINES = ['jpeg', 'jpeg-optimize', 'jpeg-trained-huffman'] as const
/** Train images the JPEG baseline's per-quality Huffman sets are fitted to (never test images). */
const HUFFMAN_TRAIN_IMAGES = 2000

/** Honest ratio (best JPEG rate / curve rate) at each accuracy level, from the q100 accuracy down in 0.5 pt steps. */
export function ratioSweep(
  points: SweepPoint[],
  curve: string,
  key: RateKey,
  from: number,
  steps = 13,
  baseline = 'jpeg',
): { target: number; honest?: number; paper?: number }[] {
  const of = (c: string): RatePoint[] =>
    points.filter((p) => p.curve === c).map((p) => ({ rate: p[key], accuracy: p.accuracy }))
  const q100 = points.find((p) => p.curve === 'jpeg' && p.quality === 100)!
  const out = []
  for (let i = 0; i < steps; i++) {
    const target = from - 0.005 * i
    out.push({
      target,
      honest: equalAccuracyRatio(of(curve), of(baseline), target)?.ratio,
      paper: equalAccuracyRatio(of(curve), q100[key], target)?.ratio,
    })
  }
  return out
}

export async function runReport(o: ReportOptions): Promise<number> {
  const classifier = await Classifier.load(o.modelPath)
  try {
    const set = take(loadFashionMnist('test', o.dataDir), o.limit)
    const jobs: Job[] = []
    const huffTrain = subset(loadFashionMnist('train', o.dataDir), HUFFMAN_TRAIN_IMAGES, 1)
    for (const q of FULL_PLAN.qualities) {
      jobs.push({ curve: 'jpeg', quality: q })
      jobs.push({ curve: 'jpeg-optimize', quality: q, optimizeHuffman: true })
      jobs.push({ curve: 'jpeg-trained-huffman', quality: q, huffman: trainHuffmanOn(huffTrain, { quality: q }) })
    }
    for (const s of FULL_PLAN.scales) {
      const r = rescaleTableFile(o.deepn, s)
      jobs.push({ curve: o.deepn.id, luma: r.luma, chroma: r.chroma, scale: s })
    }
    for (const t of o.optimized) {
      for (const s of OPT_SCALES) {
        const tables = { luma: scaleSteps(t.luma, s), chroma: scaleSteps(t.chroma, s) }
        jobs.push({ curve: t.id, ...tables, scale: s })
        // the table's own trained set at every scale (complete, so valid everywhere; fitted at the chosen scale)
        if (t.huffman) jobs.push({ curve: `${t.id}+huffman`, ...tables, scale: s, huffman: t.huffman })
      }
    }
    const encode = ourEncoder()
    const bar = new Progress(jobs.length * set.count, o.progress)
    const points: SweepPoint[] = []
    const t0 = Date.now()
    for (const j of jobs) {
      bar.setLabel(j.quality !== undefined ? `jpeg q${j.quality}` : `${j.curve} ${j.scale}`)
      const quant = j.quality !== undefined ? { quality: j.quality } : { tables: { luma: j.luma!, chroma: j.chroma! } }
      const r: EvalResult = await evaluate({ ...quant, optimizeHuffman: j.optimizeHuffman, huffman: j.huffman }, set, {
        classifier,
        encode,
        onImage: () => bar.tick(),
      })
      points.push({ curve: j.curve, quality: j.quality, scale: j.scale, ...r })
    }
    bar.end()
    const rep = report(points)
    const lines = [
      reportMarkdown(rep, points),
      `\n## Where the honest ratio holds (accuracy levels from JPEG q100's down in 0.5 pt steps)\n`,
    ]
    lines.push(
      'Baseline: the best quality of standard JPEG (Annex K tables) at equal accuracy, with its entropy coder as named.',
      '',
    )
    lines.push(
      `| curve | vs baseline | rate | ${ratioSweep(points, 'jpeg', 'meanBytes', rep.q100Accuracy)
        .map((r) => `${(100 * r.target).toFixed(1)}%`)
        .join(' | ')} |`,
    )
    lines.push(`|---|---|---|${'---|'.repeat(13)}`)
    const ratioCsv = ['curve,baseline,rate,targetAccuracy,honestRatio,paperRatio']
    const candidates = [
      o.deepn.id,
      ...o.optimized.flatMap((t) => [t.id, `${t.id}+huffman`]),
      'jpeg-optimize',
      'jpeg-trained-huffman',
    ]
    for (const c of candidates) {
      if (!points.some((p) => p.curve === c)) continue
      for (const baseline of BASELINES) {
        if (baseline === c) continue
        for (const key of ['meanBytes', 'meanScanBytes'] as RateKey[]) {
          const rs = ratioSweep(points, c, key, rep.q100Accuracy, 13, baseline)
          lines.push(
            `| ${c} | ${baseline} | ${key === 'meanBytes' ? 'file' : 'scan'} | ${rs.map((r) => (r.honest === undefined ? 'n/a' : r.honest.toFixed(2))).join(' | ')} |`,
          )
          for (const r of rs)
            ratioCsv.push(
              [c, baseline, key, r.target.toFixed(4), r.honest?.toFixed(4) ?? '', r.paper?.toFixed(4) ?? ''].join(','),
            )
        }
      }
    }
    const seconds = (Date.now() - t0) / 1000
    lines.push(
      '',
      `Test split: ${set.name}, ${set.count} images; ${jobs.length} settings in ${seconds.toFixed(0)} s; our encoder, jpeg-js decoder.`,
    )
    const md = `${lines.join('\n')}\n`
    process.stdout.write(md)
    if (o.out) {
      mkdirSync(o.out, { recursive: true })
      writeOutputFile(join(o.out, `${o.name}.csv`), toCsv(points))
      writeOutputFile(join(o.out, `${o.name}-ratios.csv`), `${ratioCsv.join('\n')}\n`)
      writeOutputFile(join(o.out, `${o.name}.md`), md)
      const band = accuracyBand(rep.q100Accuracy, set.count)
      const hLines = [
        { y: rep.q100Accuracy, label: 'JPEG q100 accuracy' },
        { y: rep.q100Accuracy - band, label: '− 95% band', dashed: true },
      ]
      const curves = [...new Set(points.map((p) => p.curve))]
      for (const [key, label, suffix] of [
        ['bpp', 'whole file', ''],
        ['scanBpp', 'scan only', '-scan'],
      ] as const) {
        const series = curves.map((c) => ({
          name: c === 'jpeg' ? 'JPEG (quality)' : c.length > 18 ? c.replace(/^fmnist-/, '') : c, // the legend is ~20 characters wide
          points: points
            .filter((p) => p.curve === c)
            .map((p) => ({
              x: p[key],
              y: p.accuracy,
              label: p.quality !== undefined ? `q${p.quality}` : `x${p.scale}`,
            })),
        }))
        writeOutputFile(
          join(o.out, `${o.name}${suffix}.svg`),
          svgPlot(series, {
            title: `Fashion-MNIST test: top-1 vs bits per pixel (${label}); tables over their scale knob`,
            xLabel: `bits per pixel (${label})`,
            yLabel: 'top-1 accuracy',
            hLines,
          }),
        )
      }
    }
    return 0
  } finally {
    await classifier.release()
  }
}
