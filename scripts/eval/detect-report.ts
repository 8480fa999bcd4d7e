/**
 * The detection benchmark's ratios, at fixed F1 levels against the uncompressed frames' detections, whole file:
 *  - paper:  JPEG quality 100's bytes / the bytes the curve needs for that F1 (DeepN-JPEG's metric; it credits
 *            standard JPEG's own curve too, so it is reported, never a target)
 *  - honest: the bytes the cheapest standard quality (Annex K Huffman) needs for that F1 / the curve's bytes
 * "Needs" is shared/deepn/curve.ts's walk up in rate with interpolation, as the Fashion-MNIST report uses.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { equalAccuracyRatio, type RatePoint, rateAtAccuracy } from '../../shared/deepn/curve'
import type { CrossCheck, DetectPoint } from './detect-sweep'
import { mulberry32 } from '../../shared/deepn/optimize'
import { type Counts, prf } from './detection-metric'
import { svgPlot } from './plot'

export const F1_TARGETS = [0.98, 0.95, 0.9]

export interface DetectRatioRow {
  curve: string
  target: number
  /** The curve's bytes per frame at that F1 (upper bound when `lowerBound`). */
  bytes?: number
  /** The cheapest standard JPEG's bytes per frame at that F1. */
  jpegBytes?: number
  paper?: number
  honest?: number
  /** The same against standard JPEG with per-frame optimal Huffman tables (for curves that use them too). */
  honestOpt?: number
  /** Even the curve's cheapest point beats the target: its bytes are an upper bound, the ratios lower bounds. */
  lowerBound?: boolean
  /**
   * Standard JPEG's cheapest quality already beats the target: its bytes are a ceiling too, so the honest ratio
   * bounds nothing either way and is not reported (a class every quality swept keeps, like parked cars).
   */
  anchorFloor?: boolean
}

const NONE: Counts = { tp: 0, fp: 0, fn: 0 }

/** The F1 a ratio is taken at: pooled over all classes, or one class's own (`cls`) from the point's class counts. */
export function f1Of(p: DetectPoint, cls?: string): number {
  return cls === undefined ? p.f1 : prf(p.classes?.[cls] ?? NONE).f1
}

function curveOf(points: readonly DetectPoint[], curve: string, cls?: string): RatePoint[] {
  return points.filter((p) => p.curve === curve).map((p) => ({ rate: p.meanBytes, accuracy: f1Of(p, cls) }))
}

export function q100Point(points: readonly DetectPoint[]): DetectPoint {
  const q100 = points.find((p) => p.curve === 'jpeg' && p.quality === 100)
  if (!q100) throw new Error('the sweep needs standard JPEG quality 100 as the paper-metric reference')
  return q100
}

/** Every curve's ratios at each F1 target: pooled F1, or with `cls` that class's own F1 on every curve. */
export function detectRatios(points: readonly DetectPoint[], targets = F1_TARGETS, cls?: string): DetectRatioRow[] {
  const q100 = q100Point(points)
  const jpeg = curveOf(points, 'jpeg', cls)
  const jpegOpt = curveOf(points, 'jpeg-opt', cls)
  const rows: DetectRatioRow[] = []
  for (const curve of [...new Set(points.map((p) => p.curve))]) {
    const c = curveOf(points, curve, cls)
    for (const target of targets) {
      const paper = equalAccuracyRatio(c, q100.meanBytes, target)
      const honest = curve === 'jpeg' ? undefined : equalAccuracyRatio(c, jpeg, target)
      const honestOpt =
        curve === 'jpeg' || curve === 'jpeg-opt' || jpegOpt.length === 0
          ? undefined
          : equalAccuracyRatio(c, jpegOpt, target)
      const any = honest ?? paper
      const anchorFloor = rateAtAccuracy(jpeg, target)?.how === 'lowest'
      rows.push({
        curve,
        target,
        bytes: any?.candidateRate,
        jpegBytes: honest?.baselineRate ?? (curve === 'jpeg' ? any?.candidateRate : undefined),
        paper: paper?.ratio,
        honest: anchorFloor ? undefined : honest?.ratio,
        honestOpt: anchorFloor ? undefined : honestOpt?.ratio,
        lowerBound: any?.candidateHow === 'lowest',
        ...(anchorFloor ? { anchorFloor } : {}),
      })
    }
  }
  return rows
}

/** One setting's per-frame data, as the sweep returns it: match counts, bytes and counts per class. */
export interface FrameData {
  counts: readonly Counts[]
  bytes: readonly number[]
  classes?: readonly Readonly<Record<string, Counts>>[]
}

export interface RatioBand {
  curve: string
  target: number
  /** 95% percentile interval of the honest ratio over paired frame resamples; absent when too few resamples reach the target. */
  low?: number
  high?: number
}

/**
 * Paired percentile bootstrap of the honest ratios: each resample draws the same test frames (with replacement)
 * for every setting, recomputes every curve's F1 and bytes, and walks the curves as detectRatios does. A ratio
 * at one F1 level moves with the noise of both curves near that level; this says by how much.
 */
export function bootstrapRatios(
  points: readonly DetectPoint[],
  perFrame: readonly FrameData[],
  opts: { resamples?: number; seed?: number; targets?: number[]; cls?: string } = {},
): RatioBand[] {
  const cls = opts.cls
  const resamples = opts.resamples ?? 200
  const targets = opts.targets ?? F1_TARGETS
  const n = perFrame[0]?.counts.length ?? 0
  if (n === 0 || perFrame.length !== points.length)
    throw new RangeError('bootstrapRatios: per-frame data must match the points')
  if (cls !== undefined && perFrame.some((f) => f.classes?.length !== n))
    throw new RangeError(`bootstrapRatios: a ratio on class ${cls} needs per-frame class counts`)
  const rand = mulberry32(opts.seed ?? 12)
  const samples = new Map<string, number[]>()
  const pick = new Int32Array(n)
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) pick[i] = Math.floor(rand() * n)
    const resampled = points.map((p, si): DetectPoint => {
      const { counts, bytes, classes } = perFrame[si]
      let tp = 0
      let fp = 0
      let fn = 0
      let b = 0
      const own = { tp: 0, fp: 0, fn: 0 }
      for (const i of pick) {
        tp += counts[i].tp
        fp += counts[i].fp
        fn += counts[i].fn
        b += bytes[i]
        const c = cls === undefined ? undefined : classes![i][cls]
        if (c) {
          own.tp += c.tp
          own.fp += c.fp
          own.fn += c.fn
        }
      }
      const point = { ...p, tp, fp, fn, ...prf({ tp, fp, fn }), meanBytes: b / n }
      return cls === undefined ? point : { ...point, classes: { [cls]: own } }
    })
    for (const row of detectRatios(resampled, targets, cls)) {
      if (row.honest === undefined) continue
      const k = `${row.curve}@${row.target}`
      const list = samples.get(k) ?? []
      list.push(row.honest)
      samples.set(k, list)
    }
  }
  const bands: RatioBand[] = []
  for (const curve of new Set(points.map((p) => p.curve))) {
    for (const target of targets) {
      const list = (samples.get(`${curve}@${target}`) ?? []).sort((a, b) => a - b)
      if (list.length < 0.9 * resamples) {
        bands.push({ curve, target })
        continue
      }
      const at = (q: number) => list[Math.min(list.length - 1, Math.round(q * (list.length - 1)))]
      bands.push({ curve, target, low: at(0.025), high: at(0.975) })
    }
  }
  return bands
}

const f = (v: number | undefined, d: number, bound = '') => (v === undefined ? 'n/a' : bound + v.toFixed(d))
function band(bands: RatioBand[] | undefined, r: DetectRatioRow): string {
  const x = bands?.find((b) => b.curve === r.curve && b.target === r.target)
  if (!x || r.honest === undefined) return ''
  return x.low === undefined ? ' [unstable]' : ` [${x.low.toFixed(2)}, ${x.high!.toFixed(2)}]`
}
/** The honest ratio's cell when standard JPEG's cheapest quality already beats the target (`anchorFloor`). */
const FLOOR = "— (standard JPEG's cheapest quality reaches it)"
const kb = (v: number | undefined, bound = '') => (v === undefined ? 'n/a' : `${bound}${(v / 1000).toFixed(1)}`)
const setting = (p: DetectPoint) => (p.quality !== undefined ? `q${p.quality}` : `×${p.scale}`)

export interface DetectReportInfo {
  source: string
  testFrames: string
  /** Absent when redrawing from a CSV, which does not keep it. */
  referenceDetections?: number
  referenceClasses?: Record<string, number>
  seconds?: number
  /** Which detector made the reference and scored the curves (default COCO-SSD's description). */
  detector?: string
  command?: string
  crossCheck?: CrossCheck
  /** Bootstrap intervals of the honest ratios (not kept in the CSV). */
  bands?: RatioBand[]
  /** The same per class, at that class's own F1 (`classBands`, for the classes `majorClasses` picks). */
  classBands?: Record<string, RatioBand[]>
  /** How the model-aware curves were tuned (one paragraph each), printed before the ratios. */
  notes?: string[]
}

export function detectMarkdown(points: readonly DetectPoint[], info: DetectReportInfo): string {
  const q100 = q100Point(points)
  const lines = [
    `Source: ${info.source}; test frames: ${info.testFrames} (${q100.frames} frames${info.referenceDetections !== undefined ? `, ${info.referenceDetections.toFixed(1)} reference detections per frame` : ''}).`,
    `Reference: ${info.detector ?? 'COCO-SSD (SSDLite MobileNetV2, TF.js wasm)'} on the uncompressed frames. Match: same class, IoU ≥ 0.5, score ≥ 0.5; F1 pooled over frames, 95% bootstrap interval over frames; bytes = whole JPEG file per frame, 4:2:0, decoded with libjpeg-turbo.`,
    ...(info.referenceClasses
      ? [
          `Reference boxes per class: ${Object.entries(info.referenceClasses)
            .sort((a, b) => b[1] - a[1])
            .map(([c, n]) => `${c} ${n}`)
            .join(', ')}. ` +
            'mAP@0.5 is the unweighted mean of per-class AP, so a class with a handful of boxes moves it as much as the commonest one: read it next to F1, not instead of it.',
        ]
      : []),
    `JPEG q100: ${kb(q100.meanBytes)} KB per frame, F1 ${q100.f1.toFixed(4)} [${q100.f1Low.toFixed(4)}, ${q100.f1High.toFixed(4)}], mAP@0.5 ${q100.map.toFixed(4)}.`,
    ...(info.notes ?? []).flatMap((n) => ['', n]),
    '',
    "Ratios at equal F1 (whole file). Paper: JPEG q100 bytes / the curve's bytes. Honest: the cheapest standard JPEG quality's bytes (Annex K Huffman, interpolated between qualities) / the curve's bytes. In brackets: its 95% interval from a paired bootstrap over test frames (200 resamples; 'unstable' when over 10% of resamples never reach that F1). Last column: the same against standard JPEG with per-frame optimal Huffman tables, the fair anchor for curves that use them (`-opt`, `+map`). n/a: the curve never reaches that F1; ≥: even its cheapest point does, so the ratio is a lower bound.",
    '',
    '| curve | F1 target | its KB/frame | standard JPEG KB/frame | paper (vs q100) | honest (vs standard JPEG) | vs standard + optimal Huffman |',
    '|---|---|---|---|---|---|---|',
  ]
  for (const r of detectRatios(points)) {
    const b = r.lowerBound ? '≥ ' : ''
    lines.push(
      `| ${r.curve} | ${r.target.toFixed(2)} | ${kb(r.bytes, r.lowerBound ? '≤ ' : '')} | ${kb(r.jpegBytes, r.anchorFloor ? '≤ ' : '')} | ${f(r.paper, 2, b)} | ${r.curve === 'jpeg' ? '1 (itself)' : r.anchorFloor ? FLOOR : f(r.honest, 2, b) + band(info.bands, r)} | ${r.curve === 'jpeg-opt' ? '1 (itself)' : r.anchorFloor ? FLOOR : f(r.honestOpt, 2, b)} |`,
    )
  }
  lines.push(
    '',
    '| curve | setting | KB/frame | bpp | precision | recall | F1 [95% CI] | mAP@0.5 |',
    '|---|---|---|---|---|---|---|---|',
  )
  for (const p of points) {
    lines.push(
      `| ${p.curve} | ${setting(p)} | ${kb(p.meanBytes)} | ${p.bpp.toFixed(3)} | ${p.precision.toFixed(4)} | ${p.recall.toFixed(4)} | ${p.f1.toFixed(4)} [${p.f1Low.toFixed(4)}, ${p.f1High.toFixed(4)}] | ${p.map.toFixed(4)} |`,
    )
  }
  lines.push(...classTable(points), ...classRatioTable(points, info.classBands))
  const x = info.crossCheck
  if (x) {
    lines.push(
      '',
      `Decoder cross-check: ${x.encodings} encodings decoded by libjpeg-turbo (sharp) and jpeg-js: mean |Δ| ${x.meanAbsDiff.toFixed(3)}, max |Δ| ${x.maxAbsDiff} per sample; detections on the jpeg-js decode vs the libjpeg-turbo decode: F1 ${prf(x.counts).f1.toFixed(4)} (${x.counts.tp} matched, ${x.counts.fp + x.counts.fn} not).`,
    )
  }
  if (info.seconds !== undefined) lines.push('', `Run: ${points.length} settings in ${info.seconds.toFixed(0)} s.`)
  if (info.command) lines.push('', `Command: \`${info.command}\``)
  return `${lines.join('\n')}\n`
}

/** Classes with fewer reference boxes than this get no column: their F1 moves by whole tenths. */
const MIN_CLASS_BOXES = 5
const MAX_CLASS_COLUMNS = 5

export interface ClassRow {
  curve: string
  target: number
  /** The curve's cheapest setting whose F1 over all classes reaches the target. */
  point: DetectPoint
  /** F1 per class at that setting, for the classes `classColumns` picks. */
  f1: Record<string, number>
}

/** A class's reference boxes: q100's matched and missed ones (q100 is scored against the reference). */
function referenceBoxes(points: readonly DetectPoint[], c: string): number {
  const n = q100Point(points).classes?.[c] ?? NONE
  return n.tp + n.fn
}

/** The reference's classes with at least `minBoxes` boxes, commonest first. */
function commonClasses(points: readonly DetectPoint[], minBoxes: number): string[] {
  return Object.keys(q100Point(points).classes ?? {})
    .map((c) => [c, referenceBoxes(points, c)] as const)
    .filter(([, boxes]) => boxes >= minBoxes)
    .sort((a, b) => b[1] - a[1])
    .map(([c]) => c)
}

/** The classes worth a column: the commonest in the reference, at least MIN_CLASS_BOXES boxes. */
export function classColumns(points: readonly DetectPoint[]): string[] {
  return commonClasses(points, MIN_CLASS_BOXES).slice(0, MAX_CLASS_COLUMNS)
}

/**
 * Which classes a curve gives up to reach an F1 target cheaply: for each curve and target, the cheapest setting
 * whose pooled F1 reaches it (no interpolation: a real setting), and its F1 per class. Empty without per-class
 * counts (a report redrawn from the CSV).
 */
export function classRows(points: readonly DetectPoint[], targets = [0.98, 0.95]): ClassRow[] {
  const columns = classColumns(points)
  if (columns.length === 0) return []
  const rows: ClassRow[] = []
  for (const target of targets) {
    for (const curve of [...new Set(points.map((p) => p.curve))]) {
      const reaching = points.filter((p) => p.curve === curve && p.f1 >= target && p.classes)
      if (reaching.length === 0) continue
      const point = reaching.reduce((a, b) => (b.meanBytes < a.meanBytes ? b : a))
      const f1 = Object.fromEntries(
        columns.map((c) => [c, prf(point.classes?.[c] ?? { tp: 0, fp: 0, fn: 0 }).f1] as const),
      )
      rows.push({ curve, target, point, f1 })
    }
  }
  return rows
}

function classTable(points: readonly DetectPoint[]): string[] {
  const rows = classRows(points)
  if (rows.length === 0) return []
  const columns = classColumns(points)
  const boxes = (c: string): number => referenceBoxes(points, c)
  return [
    '',
    `Per class: at each F1 target, each curve's cheapest setting whose F1 over all classes reaches it, and its F1 per class (reference boxes in brackets; classes with at least ${MIN_CLASS_BOXES}). A curve that reaches the target by giving up a rare class shows it here.`,
    '',
    `| F1 target | curve | setting | KB/frame | ${columns.map((c) => `${c} (${boxes(c)})`).join(' | ')} |`,
    `|---|---|---|---|${columns.map(() => '---|').join('')}`,
    ...rows.map(
      (r) =>
        `| ${r.target.toFixed(2)} | ${r.curve} | ${setting(r.point)} | ${kb(r.point.meanBytes)} | ${columns.map((c) => r.f1[c].toFixed(3)).join(' | ')} |`,
    ),
  ]
}

/**
 * Classes common enough for a ratio of their own: at this many reference boxes a class's F1 moves in steps of
 * about 0.005, fine enough to read 0.95 and 0.98 off; rarer classes stay in the per-class F1 table only.
 */
const MAJOR_CLASS_BOXES = 200

/** The classes with at least MAJOR_CLASS_BOXES reference boxes, commonest first. */
export function majorClasses(points: readonly DetectPoint[]): string[] {
  return commonClasses(points, MAJOR_CLASS_BOXES)
}

/**
 * Honest ratios with each major class held to the F1 target on its own: a pooled F1 can be reached by a class
 * that is easy (parked cars) while the one a user watches (people) falls below it, and standard JPEG pays for
 * both. Against standard JPEG reaching the same class F1.
 */
function classRatioTable(points: readonly DetectPoint[], bands: Record<string, RatioBand[]> | undefined): string[] {
  const classes = majorClasses(points)
  if (classes.length === 0) return []
  const boxes = (c: string): number => referenceBoxes(points, c)
  const byClass = classes.map((c) => detectRatios(points, F1_TARGETS, c))
  const cell = (ci: number, k: number): string => {
    const r = byClass[ci][k]
    const b = r.lowerBound ? '≥ ' : ''
    if (r.curve === 'jpeg') return `${kb(r.bytes, r.lowerBound ? '≤ ' : '')} | 1 (itself)`
    const honest = r.anchorFloor ? FLOOR : `${f(r.honest, 2, b)}${band(bands?.[classes[ci]], r)}`
    return `${kb(r.bytes, r.lowerBound ? '≤ ' : '')} | ${honest}`
  }
  return [
    '',
    `Per class, honest: each class with at least ${MAJOR_CLASS_BOXES} reference boxes held to the F1 target on its own, against the cheapest standard JPEG reaching the same F1 on that class (interpolated as above; 95% paired-bootstrap interval in brackets).`,
    '',
    `| curve | F1 target | ${classes.map((c) => `${c} (${boxes(c)}) KB/frame | ${c} honest`).join(' | ')} |`,
    `|---|---|${classes.map(() => '---|---|').join('')}`,
    ...byClass[0].map(
      (r, k) => `| ${r.curve} | ${r.target.toFixed(2)} | ${classes.map((_, ci) => cell(ci, k)).join(' | ')} |`,
    ),
  ]
}

const CURVE_NAMES: Record<string, string> = { jpeg: 'JPEG Annex K (quality)', 'jpeg-opt': 'JPEG + optimal Huffman' }

/**
 * F1 and mAP@0.5 against KB per frame, every curve, with the F1 targets drawn in. The x axis stops at twice
 * standard JPEG's bytes at F1 0.98 (q100 sits ~6x further out and would squash the region that matters); the
 * title says what is left off, the CSV keeps everything.
 */
export function writeDetectPlots(
  dir: string,
  name: string,
  points: readonly DetectPoint[],
  detector = 'COCO-SSD',
): void {
  const curves = [...new Set(points.map((p) => p.curve))]
  const at98 = detectRatios(points, [0.98]).find((r) => r.curve === 'jpeg')?.bytes
  const xMax = at98 !== undefined ? 2 * at98 : Infinity
  const off = points.filter((p) => p.meanBytes > xMax).length
  for (const metric of ['f1', 'map'] as const) {
    const series = curves
      .map((c) => ({
        name: CURVE_NAMES[c] ?? c,
        points: points
          .filter((p) => p.curve === c && p.meanBytes <= xMax)
          .map((p) => ({ x: p.meanBytes / 1000, y: p[metric], label: setting(p) })),
      }))
      .filter((s) => s.points.length > 0)
    const label = metric === 'f1' ? 'F1 vs uncompressed detections' : 'mAP@0.5 vs uncompressed detections'
    const svg = svgPlot(series, {
      title: `${detector} ${label}${off > 0 ? ` (${off} points above ${(xMax / 1000).toFixed(0)} KB not drawn)` : ''}`,
      xLabel: 'KB per frame (whole file)',
      yLabel: metric === 'f1' ? 'F1' : 'mAP@0.5',
      hLines: metric === 'f1' ? F1_TARGETS.map((y) => ({ y, label: `F1 ${y}`, dashed: true })) : [],
    })
    writeFileSync(join(dir, `${name}${metric === 'f1' ? '' : '-map'}.svg`), svg)
  }
}
