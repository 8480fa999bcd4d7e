/**
 * Rate–detection sweep: every test frame is detected once uncompressed (the reference), then once per codec
 * setting after an encode with our encoder and a decode with libjpeg-turbo (what backends use). Frame-major, so
 * only one frame is ever in memory. Settings that quantize identically (the optimal-Huffman twin of a quality)
 * decode to the same pixels, so they share that setting's detections and only add their own byte count.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { EncodeOptions, RawImage, TableFile } from '../../shared/codec/types'
import { rescaleTableFile } from '../../shared/deepn/table-file'
import {
  addClassCounts,
  bootstrapF1,
  countsByClass,
  matchFrame,
  meanAveragePrecision,
  prf,
  sumCounts,
  type Box,
  type Counts,
} from './detection-metric'
import type { Encoder } from './evaluate'
import { Progress } from './progress'
import type { FrameSource } from './video-frames'

export type Detect = (img: RawImage) => Promise<Box[]>
export type Decode = (jpg: Uint8Array) => Promise<RawImage> | RawImage

export interface DetectSetting {
  /** Unique: `<curve>-q<quality>` or `<curve>-x<scale>`; also the --save-frames folder name. */
  key: string
  curve: string
  quality?: number
  scale?: number
  enc: EncodeOptions
  /** Per-frame options instead of `enc` (spatial maps that follow the frame's motion); `enc` stays the description. */
  encFor?: (frameIndex: number) => EncodeOptions
  /** Send the frame downscaled to this size (a baseline: what sending at the detector's input size buys). */
  resize?: { width: number; height: number }
  /** Key of an earlier setting with the same quantization: same decoded pixels, so its detections are reused. */
  samePixelsAs?: string
}

export interface DetectPlan {
  qualities: number[]
  /** Also the qualities with per-frame optimal Huffman tables (same pixels, fewer bytes). */
  optimizeHuffman: boolean
  /** DeepN tables (σ in their source) swept over `scales`. */
  tables: TableFile[]
  scales: number[]
}

export const FULL_DETECT_PLAN = {
  qualities: [5, 10, 15, 20, 25, 30, 40, 50, 60, 70, 75, 80, 85, 90, 95, 100],
  scales: [0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 4, 6],
}
export const QUICK_DETECT_PLAN = { qualities: [5, 30, 100], scales: [0.3, 2] }

/** The anchors every report needs: the honest ratio's standard curve and its optimal-Huffman twin. */
export const ANCHOR_CURVES = ['jpeg', 'jpeg-opt']

/**
 * Only the settings of the named curves, plus the anchors (--curves: re-score one curve on more frames without
 * re-running the rest). A setting whose twin (samePixelsAs) is left out makes its own detections. Throws naming
 * any curve the plan does not have, and the ones it has.
 */
export function selectCurves(settings: readonly DetectSetting[], curves: readonly string[]): DetectSetting[] {
  const have = [...new Set(settings.map((s) => s.curve))]
  const unknown = curves.filter((c) => !have.includes(c))
  if (unknown.length > 0)
    throw new RangeError(
      `--curves: ${unknown.map((c) => `'${c}'`).join(', ')} is not a curve of this run (it has ${have.join(', ')})`,
    )
  const keep = new Set([...ANCHOR_CURVES, ...curves])
  const out = settings.filter((s) => keep.has(s.curve))
  const keys = new Set(out.map((s) => s.key))
  return out.map((s) => (s.samePixelsAs && !keys.has(s.samePixelsAs) ? { ...s, samePixelsAs: undefined } : s))
}

export function detectSettings(plan: DetectPlan): DetectSetting[] {
  const out: DetectSetting[] = []
  for (const q of plan.qualities)
    out.push({ key: `jpeg-q${q}`, curve: 'jpeg', quality: q, enc: { quality: q, subsampling: '420' } })
  if (plan.optimizeHuffman) {
    for (const q of plan.qualities)
      out.push({
        key: `jpeg-opt-q${q}`,
        curve: 'jpeg-opt',
        quality: q,
        enc: { quality: q, subsampling: '420', optimizeHuffman: true },
        samePixelsAs: `jpeg-q${q}`,
      })
  }
  for (const t of plan.tables) {
    for (const s of plan.scales) {
      const r = rescaleTableFile(t, s)
      out.push({
        key: `${t.id}-x${s}`,
        curve: t.id,
        scale: s,
        enc: { tables: { luma: r.luma, chroma: r.chroma }, subsampling: '420' },
      })
    }
  }
  const keys = new Set<string>()
  for (const s of out) {
    if (keys.has(s.key)) throw new Error(`two sweep settings are both '${s.key}': give each table its own id`)
    keys.add(s.key)
  }
  return out
}

export interface DetectPoint {
  curve: string
  quality?: number
  scale?: number
  frames: number
  tp: number
  fp: number
  fn: number
  precision: number
  recall: number
  f1: number
  /** Bootstrap 95% interval of F1 over frames. */
  f1Low: number
  f1High: number
  /** mAP@0.5 against the reference detections. */
  map: number
  /** Whole file, mean over frames. */
  meanBytes: number
  bpp: number
  /** Counts pooled per class (which class a table or map gives up); kept in the class CSV (`detectClassCsv`). */
  classes?: Record<string, Counts>
}

export interface CrossCheck {
  /** Encodings decoded by both libjpeg-turbo and jpeg-js. */
  encodings: number
  /** Mean and largest absolute sample difference between the two decodes. */
  meanAbsDiff: number
  maxAbsDiff: number
  /** Detections on the jpeg-js decode matched against those on the libjpeg-turbo decode. */
  counts: Counts
}

export interface DetectSweepOptions {
  detect: Detect
  encode: Encoder
  /** The decoder scored (libjpeg-turbo via sharp in the CLI); any size, the sweep checks it. */
  decode: Decode
  /** Downscaler for settings with `resize` (sharp in the CLI). */
  resize?: (img: RawImage, width: number, height: number) => Promise<RawImage>
  /** Second decoder (jpeg-js) for the cross-check on the first `crossCheckFrames` test frames; none when absent. */
  crossDecode?: Decode
  crossCheckFrames?: number
  progress: boolean
  /** Write every encoded test frame to `<dir>/<setting key>/<frame index>.jpg`. */
  saveFrames?: string
  seed?: number
}

export interface DetectSweepResult {
  points: DetectPoint[]
  /** Detections per frame on the uncompressed frames, for reports. */
  referenceDetections: number
  /** Reference detections (score >= 0.5) per class over all test frames: mAP's per-class supports. */
  referenceClasses: Record<string, number>
  crossCheck?: CrossCheck
  /** Per setting (same order as points), per test frame: match counts, bytes and counts per class, for paired bootstraps. */
  perFrame: { counts: Counts[]; bytes: number[]; classes: Record<string, Counts>[] }[]
}

function scaleBox(d: Box, sx: number, sy: number): Box {
  const [x, y, w, h] = d.bbox
  return { ...d, bbox: [x * sx, y * sy, w * sx, h * sy] }
}

export async function detectSweep(
  source: FrameSource,
  testFrames: readonly number[],
  settings: readonly DetectSetting[],
  opts: DetectSweepOptions,
): Promise<DetectSweepResult> {
  if (testFrames.length === 0) throw new Error('the sweep needs at least one test frame')
  const perSetting = settings.map(() => ({
    counts: [] as Counts[],
    frames: [] as { reference: Box[]; predicted: Box[] }[],
    classes: new Map<string, Counts>(),
    frameClasses: [] as Record<string, Counts>[],
    bytes: 0,
    frameBytes: [] as number[],
  }))
  const own = settings.filter((s) => !s.samePixelsAs).length
  const bar = new Progress(testFrames.length * (own + 1), opts.progress)
  const cross: CrossCheck = { encodings: 0, meanAbsDiff: 0, maxAbsDiff: 0, counts: { tp: 0, fp: 0, fn: 0 } }
  let diffSum = 0
  let diffCount = 0
  let refCount = 0
  const referenceClasses: Record<string, number> = {}
  let n = 0
  for await (const { index: fi, image } of source.frames(testFrames)) {
    bar.setLabel(`frame ${fi} reference`)
    const reference = await opts.detect(image)
    refCount += reference.length
    for (const d of reference) if (d.score >= 0.5) referenceClasses[d.class] = (referenceClasses[d.class] ?? 0) + 1
    bar.tick()
    const predictions = new Map<string, Box[]>()
    const small = new Map<string, RawImage>()
    for (let si = 0; si < settings.length; si++) {
      const s = settings[si]
      let img = image
      if (s.resize) {
        const { width, height } = s.resize
        const key = `${width}x${height}`
        if (!opts.resize) throw new Error(`setting ${s.key} resizes frames, but the sweep has no resize function`)
        img = small.get(key) ?? (await opts.resize(image, width, height))
        small.set(key, img)
      }
      const jpg = opts.encode(img, s.encFor ? s.encFor(fi) : s.enc)
      perSetting[si].bytes += jpg.length
      perSetting[si].frameBytes.push(jpg.length)
      if (opts.saveFrames) {
        const dir = join(opts.saveFrames, s.key)
        mkdirSync(dir, { recursive: true })
        writeFileSync(join(dir, `${String(fi).padStart(5, '0')}.jpg`), jpg)
      }
      let predicted = s.samePixelsAs ? predictions.get(s.samePixelsAs) : undefined
      if (s.samePixelsAs && !predicted)
        throw new Error(`setting ${s.key} reuses ${s.samePixelsAs}, which comes later or not at all`)
      if (!predicted) {
        bar.setLabel(`frame ${fi} ${s.key}`)
        const decoded = await opts.decode(jpg)
        if (decoded.width !== img.width || decoded.height !== img.height)
          throw new Error(`${s.key}: decoded ${decoded.width}x${decoded.height}, encoded ${img.width}x${img.height}`)
        predicted = await opts.detect(decoded)
        // boxes found on a downscaled frame, in the full frame's pixels
        if (img !== image)
          predicted = predicted.map((d) => scaleBox(d, image.width / img.width, image.height / img.height))
        bar.tick()
        if (opts.crossDecode && img === image && n < (opts.crossCheckFrames ?? 1)) {
          const other = await opts.crossDecode(jpg)
          if (other.data.length !== decoded.data.length)
            throw new Error(`cross-check: the two decoders disagree on the size of ${s.key}`)
          for (let k = 0; k < other.data.length; k++) {
            const d = Math.abs(other.data[k] - decoded.data[k])
            diffSum += d
            if (d > cross.maxAbsDiff) cross.maxAbsDiff = d
          }
          diffCount += other.data.length
          const m = matchFrame(predicted, await opts.detect(other))
          cross.counts = sumCounts([cross.counts, m])
          cross.encodings++
        }
      }
      predictions.set(s.key, predicted)
      const m = matchFrame(reference, predicted)
      perSetting[si].counts.push({ tp: m.tp, fp: m.fp, fn: m.fn })
      perSetting[si].frames.push({ reference, predicted })
      const byClass = countsByClass(reference, m)
      addClassCounts(perSetting[si].classes, byClass)
      perSetting[si].frameClasses.push(Object.fromEntries(byClass))
    }
    n++
  }
  bar.end()
  if (n !== testFrames.length) throw new Error(`the source gave ${n} of ${testFrames.length} test frames`)
  cross.meanAbsDiff = diffCount > 0 ? diffSum / diffCount : 0
  const px = source.width * source.height
  const points = settings.map((s, i): DetectPoint => {
    const r = perSetting[i]
    const total = sumCounts(r.counts)
    const { precision, recall, f1 } = prf(total)
    const ci = bootstrapF1(r.counts, { seed: opts.seed })
    const meanBytes = r.bytes / n
    return {
      curve: s.curve,
      quality: s.quality,
      scale: s.scale,
      frames: n,
      ...total,
      precision,
      recall,
      f1,
      f1Low: ci.low,
      f1High: ci.high,
      map: meanAveragePrecision(r.frames).map,
      meanBytes,
      bpp: (8 * meanBytes) / px,
      classes: Object.fromEntries(r.classes),
    }
  })
  return {
    points,
    referenceDetections: refCount / n,
    referenceClasses,
    perFrame: perSetting.map((r) => ({ counts: r.counts, bytes: r.frameBytes, classes: r.frameClasses })),
    ...(opts.crossDecode ? { crossCheck: cross } : {}),
  }
}

const CSV_HEAD = 'curve,quality,scale,frames,tp,fp,fn,precision,recall,f1,f1Low,f1High,map,meanBytes,bpp'

export function detectCsv(points: readonly DetectPoint[]): string {
  const rows = points.map((p) =>
    [
      p.curve,
      p.quality ?? '',
      p.scale ?? '',
      p.frames,
      p.tp,
      p.fp,
      p.fn,
      p.precision.toFixed(4),
      p.recall.toFixed(4),
      p.f1.toFixed(4),
      p.f1Low.toFixed(4),
      p.f1High.toFixed(4),
      p.map.toFixed(4),
      p.meanBytes.toFixed(1),
      p.bpp.toFixed(4),
    ].join(','),
  )
  return `${[CSV_HEAD, ...rows].join('\n')}\n`
}

const CLASS_CSV_HEAD = 'curve,quality,scale,class,tp,fp,fn,f1'

/** Each point's counts per class, one row per (setting, class): the per-class tables redrawn without a re-run. */
export function detectClassCsv(points: readonly DetectPoint[]): string {
  const rows = points.flatMap((p) =>
    Object.entries(p.classes ?? {})
      .sort((a, b) => a[0].localeCompare(b[0]))
      .map(([c, n]) => {
        if (/[",\n]/.test(c)) throw new Error(`class name ${JSON.stringify(c)} cannot go in a CSV field`)
        return [p.curve, p.quality ?? '', p.scale ?? '', c, n.tp, n.fp, n.fn, prf(n).f1.toFixed(4)].join(',')
      }),
  )
  return `${[CLASS_CSV_HEAD, ...rows].join('\n')}\n`
}

/** Adds `detectClassCsv` output's counts to the points it was written from (matched by curve and setting). */
export function withClassCsv(points: readonly DetectPoint[], text: string): DetectPoint[] {
  const [head, ...rows] = text.trim().split('\n')
  if (head !== CLASS_CSV_HEAD) throw new Error('not a deepn eval detect class CSV: unexpected header')
  const key = (curve: string, quality: string, scale: string) => `${curve}|${quality}|${scale}`
  const byPoint = new Map<string, Record<string, Counts>>()
  rows.forEach((r, i) => {
    const v = r.split(',')
    if (v.length !== 8) throw new Error(`class CSV row ${i + 2}: expected 8 fields, got ${v.length}`)
    const [tp, fp, fn] = [v[4], v[5], v[6]].map(Number)
    if (![tp, fp, fn].every((x) => Number.isInteger(x) && x >= 0))
      throw new Error(`class CSV row ${i + 2}: counts must be whole numbers ≥ 0`)
    const k = key(v[0], v[1], v[2])
    const e = byPoint.get(k) ?? {}
    e[v[3]] = { tp, fp, fn }
    byPoint.set(k, e)
  })
  return points.map((p) => {
    const classes = byPoint.get(key(p.curve, String(p.quality ?? ''), String(p.scale ?? '')))
    return classes ? { ...p, classes } : p
  })
}

/** Parses `detectCsv` output (to redraw or re-report without re-running). */
export function parseDetectCsv(text: string): DetectPoint[] {
  const [head, ...rows] = text.trim().split('\n')
  if (head !== CSV_HEAD) throw new Error('not a deepn eval detect CSV: unexpected header')
  return rows.map((r, i) => {
    const v = r.split(',')
    if (v.length !== 15) throw new Error(`CSV row ${i + 2}: expected 15 fields, got ${v.length}`)
    const num = (k: number) => Number(v[k])
    return {
      curve: v[0],
      ...(v[1] ? { quality: num(1) } : {}),
      ...(v[2] ? { scale: num(2) } : {}),
      frames: num(3),
      tp: num(4),
      fp: num(5),
      fn: num(6),
      precision: num(7),
      recall: num(8),
      f1: num(9),
      f1Low: num(10),
      f1High: num(11),
      map: num(12),
      meanBytes: num(13),
      bpp: num(14),
    }
  })
}
