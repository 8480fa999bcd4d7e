/**
 * Rate–accuracy sweep: standard JPEG over quality and DeepN tables over their scale, each through `evaluate`.
 */
import type { TableFile } from '../../shared/codec/types'
import { rescaleTableFile } from '../../shared/deepn/table-file'
import type { Classifier } from './classifier'
import type { LabelledSet } from './dataset'
import { evaluate, type Encoder, type EvalResult, type Setting } from './evaluate'
import { Progress } from './progress'

export interface SweepPoint extends EvalResult {
  /** Curve name: 'jpeg' or the table id. */
  curve: string
  quality?: number
  scale?: number
}

export interface SweepPlan {
  qualities: number[]
  tables: TableFile[]
  scales: number[]
  /** Also sweep a flat table (every step = 16·scale): the MSE-optimal uniform quantizer, as a reference. */
  flat?: boolean
}

/** The flat reference table at one scale. */
export function flatTables(scale: number): { luma: number[]; chroma: number[] } {
  const q = Math.min(255, Math.max(1, Math.round(16 * scale)))
  return { luma: new Array(64).fill(q), chroma: new Array(64).fill(q) }
}

// Fashion-MNIST accuracy is flat from quality ~20 up, so the plans reach far into the low-rate region where it drops
export const FULL_PLAN = {
  qualities: [2, 3, 5, 7, 10, 15, 20, 25, 30, 40, 50, 60, 70, 80, 90, 95, 100],
  scales: [0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 4, 6, 8, 12, 16],
}
export const QUICK_PLAN = {
  qualities: [5, 10, 30, 50, 75, 90, 100],
  scales: [0.25, 1, 2, 4],
}

export async function sweep(
  plan: SweepPlan,
  set: LabelledSet,
  opts: { classifier: Classifier; encode: Encoder; progress: boolean },
): Promise<SweepPoint[]> {
  const jobs: { curve: string; setting: Setting; quality?: number; scale?: number }[] = []
  for (const q of plan.qualities) jobs.push({ curve: 'jpeg', setting: { quality: q }, quality: q })
  for (const t of plan.tables) {
    for (const s of plan.scales) {
      const r = rescaleTableFile(t, s)
      jobs.push({ curve: t.id, setting: { tables: { luma: r.luma, chroma: r.chroma } }, scale: s })
    }
  }
  if (plan.flat) for (const s of plan.scales) jobs.push({ curve: 'flat', setting: { tables: flatTables(s) }, scale: s })
  const bar = new Progress(jobs.length * set.count, opts.progress)
  const out: SweepPoint[] = []
  for (const j of jobs) {
    bar.setLabel(j.quality !== undefined ? `jpeg q${j.quality}` : `${j.curve} x${j.scale}`)
    const r = await evaluate(j.setting, set, {
      classifier: opts.classifier,
      encode: opts.encode,
      onImage: () => bar.tick(),
    })
    out.push({ curve: j.curve, quality: j.quality, scale: j.scale, ...r })
  }
  bar.end()
  return out
}

export function toCsv(points: SweepPoint[]): string {
  const head = 'curve,quality,scale,count,correct,accuracy,meanBytes,meanScanBytes,bpp,scanBpp'
  const rows = points.map((p) =>
    [
      p.curve,
      p.quality ?? '',
      p.scale ?? '',
      p.count,
      p.correct,
      p.accuracy.toFixed(4),
      p.meanBytes.toFixed(2),
      p.meanScanBytes.toFixed(2),
      p.bpp.toFixed(4),
      p.scanBpp.toFixed(4),
    ].join(','),
  )
  return `${[head, ...rows].join('\n')}\n`
}

/** Parses `toCsv` output back into points (for re-plotting without re-running the sweep). */
export function fromCsv(text: string): SweepPoint[] {
  const [head, ...rows] = text.trim().split('\n')
  if (head !== 'curve,quality,scale,count,correct,accuracy,meanBytes,meanScanBytes,bpp,scanBpp')
    throw new Error('not a deepn eval CSV: unexpected header')
  return rows.map((r, i) => {
    const v = r.split(',')
    if (v.length !== 10) throw new Error(`CSV row ${i + 2}: expected 10 fields, got ${v.length}`)
    const num = (k: number) => Number(v[k])
    return {
      curve: v[0],
      ...(v[1] ? { quality: num(1) } : {}),
      ...(v[2] ? { scale: num(2) } : {}),
      count: num(3),
      correct: num(4),
      accuracy: num(5),
      meanBytes: num(6),
      meanScanBytes: num(7),
      bpp: num(8),
      scanBpp: num(9),
    }
  })
}
