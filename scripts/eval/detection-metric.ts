/**
 * How much a codec setting changes what a detector sees, with the detections on the uncompressed frame as the
 * reference (no human labels: the question is whether compression changes the backend's answer). Pure code, no
 * model: matching, precision/recall/F1 over frames, a seeded bootstrap interval over frames, and AP@0.5.
 */
import { mulberry32 } from '../../shared/deepn/optimize'

export interface Box {
  /** [x, y, width, height] in pixels. */
  bbox: readonly [number, number, number, number] | readonly number[]
  class: string
  score: number
}

export interface MatchOptions {
  /** Lowest IoU for a match (default 0.5). */
  iou?: number
  /** Detections below this score are ignored on both sides (default 0.5). */
  minScore?: number
}

export interface Counts {
  tp: number
  fp: number
  fn: number
}

export function iou(a: Box['bbox'], b: Box['bbox']): number {
  const ix = Math.max(0, Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]))
  const iy = Math.max(0, Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]))
  const inter = ix * iy
  const union = a[2] * a[3] + b[2] * b[3] - inter
  return union > 0 ? inter / union : 0
}

/**
 * Greedy matching on one frame: predictions in descending score each take the unmatched reference box of the
 * same class with the highest IoU, if that IoU reaches the threshold. Returns, per kept prediction (in that
 * order), whether it matched, plus the frame's counts.
 */
export function matchFrame(
  reference: readonly Box[],
  predicted: readonly Box[],
  opts: MatchOptions = {},
): Counts & { matches: { score: number; class: string; hit: boolean }[] } {
  const minIou = opts.iou ?? 0.5
  const minScore = opts.minScore ?? 0.5
  const ref = reference.filter((d) => d.score >= minScore)
  const pred = predicted.filter((d) => d.score >= minScore).sort((a, b) => b.score - a.score)
  const used = new Array<boolean>(ref.length).fill(false)
  const matches = pred.map((p) => {
    let best = -1
    let bestIou = minIou
    for (let j = 0; j < ref.length; j++) {
      if (used[j] || ref[j].class !== p.class) continue
      const v = iou(p.bbox, ref[j].bbox)
      if (v >= bestIou) {
        best = j
        bestIou = v
      }
    }
    if (best >= 0) used[best] = true
    return { score: p.score, class: p.class, hit: best >= 0 }
  })
  const tp = matches.filter((m) => m.hit).length
  return { tp, fp: pred.length - tp, fn: ref.length - tp, matches }
}

/**
 * A frame's `matchFrame` result split by class: a missed reference box counts against its own class, a wrong
 * prediction against the class it claimed. Summed over classes they are the frame's counts. Takes the match
 * already made (with the same `minScore`), so the sweep matches each frame once.
 */
export function countsByClass(
  reference: readonly Box[],
  matched: Pick<ReturnType<typeof matchFrame>, 'matches'>,
  opts: MatchOptions = {},
): Map<string, Counts> {
  const out = new Map<string, Counts>()
  const of = (c: string): Counts => {
    let e = out.get(c)
    if (!e) out.set(c, (e = { tp: 0, fp: 0, fn: 0 }))
    return e
  }
  const minScore = opts.minScore ?? 0.5
  for (const r of reference) if (r.score >= minScore) of(r.class).fn++
  for (const m of matched.matches) {
    const e = of(m.class)
    if (m.hit) {
      e.tp++
      e.fn--
    } else e.fp++
  }
  return out
}

/** Adds `frame`'s per-class counts into `total`. */
export function addClassCounts(total: Map<string, Counts>, frame: ReadonlyMap<string, Counts>): void {
  for (const [c, n] of frame) {
    const e = total.get(c)
    total.set(c, e ? sumCounts([e, n]) : { ...n })
  }
}

export function sumCounts(frames: readonly Counts[]): Counts {
  return frames.reduce((s, c) => ({ tp: s.tp + c.tp, fp: s.fp + c.fp, fn: s.fn + c.fn }), { tp: 0, fp: 0, fn: 0 })
}

/** Precision, recall and F1 of pooled counts; with nothing detected on either side the frames agree: all 1. */
export function prf(c: Counts): { precision: number; recall: number; f1: number } {
  const precision = c.tp + c.fp > 0 ? c.tp / (c.tp + c.fp) : 1
  const recall = c.tp + c.fn > 0 ? c.tp / (c.tp + c.fn) : 1
  const d = 2 * c.tp + c.fp + c.fn
  return { precision, recall, f1: d > 0 ? (2 * c.tp) / d : 1 }
}

/**
 * Percentile bootstrap 95% interval of pooled F1, resampling whole frames with replacement (frames are the unit:
 * detections within a frame are not independent).
 */
export function bootstrapF1(
  frames: readonly Counts[],
  opts: { resamples?: number; seed?: number } = {},
): { low: number; high: number } {
  const n = frames.length
  if (n === 0) throw new RangeError('bootstrap needs at least one frame')
  const resamples = opts.resamples ?? 1000
  const rand = mulberry32(opts.seed ?? 12)
  const f1s = new Float64Array(resamples)
  for (let r = 0; r < resamples; r++) {
    let tp = 0,
      fp = 0,
      fn = 0
    for (let i = 0; i < n; i++) {
      const c = frames[Math.floor(rand() * n)]
      tp += c.tp
      fp += c.fp
      fn += c.fn
    }
    f1s[r] = prf({ tp, fp, fn }).f1
  }
  f1s.sort()
  const at = (q: number) => f1s[Math.min(resamples - 1, Math.max(0, Math.round(q * (resamples - 1))))]
  return { low: at(0.025), high: at(0.975) }
}

/**
 * Average precision at IoU 0.5 per class over all frames (all-point interpolation, as PASCAL VOC 2010+ and COCO
 * at one IoU): predictions of every frame ranked by score, each matched as in `matchFrame`. The mean is over the
 * classes the reference contains. Predictions below `minScore` never enter, so recall, and AP, stop where the
 * detector's own threshold stops them.
 */
export function meanAveragePrecision(
  frames: readonly { reference: readonly Box[]; predicted: readonly Box[] }[],
  opts: MatchOptions = {},
): { map: number; perClass: Record<string, number> } {
  const byClass = new Map<string, { positives: number; preds: { score: number; hit: boolean }[] }>()
  const entry = (c: string) => {
    let e = byClass.get(c)
    if (!e) byClass.set(c, (e = { positives: 0, preds: [] }))
    return e
  }
  const minScore = opts.minScore ?? 0.5
  for (const f of frames) {
    for (const r of f.reference) if (r.score >= minScore) entry(r.class).positives++
    for (const m of matchFrame(f.reference, f.predicted, opts).matches) entry(m.class).preds.push(m)
  }
  const perClass: Record<string, number> = {}
  for (const [cls, e] of byClass) {
    if (e.positives === 0) continue // a class only predicted has no recall to measure (COCO ignores it too)
    const preds = e.preds.sort((a, b) => b.score - a.score)
    const precision: number[] = []
    const recall: number[] = []
    let tp = 0
    preds.forEach((p, i) => {
      if (p.hit) tp++
      precision.push(tp / (i + 1))
      recall.push(tp / e.positives)
    })
    // precision envelope from the right, then the area under the step curve
    for (let i = precision.length - 2; i >= 0; i--) precision[i] = Math.max(precision[i], precision[i + 1])
    let ap = 0
    let prevRecall = 0
    for (let i = 0; i < preds.length; i++) {
      ap += (recall[i] - prevRecall) * precision[i]
      prevRecall = recall[i]
    }
    perClass[cls] = ap
  }
  const aps = Object.values(perClass)
  // no reference object anywhere: agreement is perfect only if nothing was predicted either
  if (aps.length === 0) return { map: [...byClass.values()].some((e) => e.preds.length > 0) ? 0 : 1, perClass }
  return { map: aps.reduce((s, v) => s + v, 0) / aps.length, perClass }
}
