/**
 * Turns sweep points into the paper's metric and the honest one, for whole-file and scan-only rates:
 *  - paper:  rate of JPEG quality 100 / rate DeepN needs for quality 100's accuracy
 *  - honest: rate the best standard-JPEG quality needs for that accuracy / rate DeepN needs
 * "Equal accuracy" is stated with its 95% binomial band; ratios are also given at the band's lower edge, since
 * at a plateau a tiny accuracy difference moves the interpolated rate a lot.
 */
import { accuracyBand, equalAccuracyRatio, maxAccuracy, type RatePoint } from '../../shared/deepn/curve'
import type { SweepPoint } from './sweep'

export type RateKey = 'meanBytes' | 'meanScanBytes'

export interface RatioRow {
  curve: string
  rate: RateKey
  target: number
  label: string
  paper?: number
  honest?: number
  deepnRate?: number
  jpegRate?: number
  /** True when even the candidate's lowest-rate point beats the target: its rate is an upper bound, the ratio a lower bound. */
  lowerBound?: boolean
}

export interface Report {
  count: number
  q100Accuracy: number
  band: number
  cleanAccuracy?: number
  rows: RatioRow[]
}

function curveOf(points: SweepPoint[], curve: string, key: RateKey): RatePoint[] {
  return points.filter((p) => p.curve === curve).map((p) => ({ rate: p[key], accuracy: p.accuracy }))
}

export function report(points: SweepPoint[], cleanAccuracy?: number): Report {
  const q100 = points.find((p) => p.curve === 'jpeg' && p.quality === 100)
  if (!q100) throw new Error('the sweep needs JPEG quality 100 as the paper-metric reference')
  const band = accuracyBand(q100.accuracy, q100.count)
  const curves = [...new Set(points.map((p) => p.curve))].filter((c) => c !== 'jpeg')
  const rows: RatioRow[] = []
  for (const key of ['meanBytes', 'meanScanBytes'] as RateKey[]) {
    const jpeg = curveOf(points, 'jpeg', key)
    for (const c of curves) {
      const deepn = curveOf(points, c, key)
      const targets: [number, string][] = [
        [q100.accuracy, 'q100 accuracy'],
        [q100.accuracy - band, 'q100 − 95% band'],
        [q100.accuracy - 0.01, 'q100 − 1 pt'],
        [q100.accuracy - 0.02, 'q100 − 2 pt'],
        [q100.accuracy - 0.05, 'q100 − 5 pt'],
      ]
      for (const [target, label] of targets) {
        const paper = equalAccuracyRatio(deepn, q100[key], target)
        const honest = equalAccuracyRatio(deepn, jpeg, target)
        rows.push({
          curve: c,
          rate: key,
          target,
          label,
          paper: label === 'q100 accuracy' || label === 'q100 − 95% band' ? paper?.ratio : undefined,
          honest: honest?.ratio,
          deepnRate: (honest ?? paper)?.candidateRate,
          jpegRate: honest?.baselineRate,
          lowerBound: (honest ?? paper)?.candidateHow === 'lowest',
        })
      }
    }
  }
  return { count: q100.count, q100Accuracy: q100.accuracy, band, cleanAccuracy, rows }
}

const f = (v: number | undefined, d = 2, bound = '') => (v === undefined ? 'n/a' : bound + v.toFixed(d))

export function reportMarkdown(r: Report, points: SweepPoint[]): string {
  const lines = [
    `Images: ${r.count}. JPEG quality 100 accuracy: ${(100 * r.q100Accuracy).toFixed(2)}% (95% band ±${(100 * r.band).toFixed(2)} pt)` +
      (r.cleanAccuracy !== undefined ? `; clean (no codec): ${(100 * r.cleanAccuracy).toFixed(2)}%.` : '.'),
    '',
    "n/a: the curve never reaches that accuracy. ≥: even the curve's lowest-rate point beats the target, so the ratio is a lower bound.",
    '',
    '| curve | rate counted | accuracy target | its rate (B) | best JPEG rate (B, Annex K Huffman) | paper ratio (vs q100) | honest ratio (vs best JPEG) |',
    '|---|---|---|---|---|---|---|',
  ]
  for (const row of r.rows) {
    lines.push(
      `| ${row.curve} | ${row.rate === 'meanBytes' ? 'whole file' : 'scan only'} | ${row.label} = ${(100 * row.target).toFixed(2)}% | ${f(row.deepnRate, 1, row.lowerBound ? '≤ ' : '')} | ${f(row.jpegRate, 1)} | ${f(row.paper, 2, row.lowerBound ? '≥ ' : '')} | ${f(row.honest, 2, row.lowerBound ? '≥ ' : '')} |`,
    )
  }
  const curves = [...new Set(points.map((p) => p.curve))]
  for (const c of curves) {
    const best = maxAccuracy(
      points.filter((p) => p.curve === c).map((p) => ({ rate: p.meanBytes, accuracy: p.accuracy })),
    )
    lines.push('', `${c}: best accuracy on the sweep ${(100 * best).toFixed(2)}%`)
  }
  return `${lines.join('\n')}\n`
}
