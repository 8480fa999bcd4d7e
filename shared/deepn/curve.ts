/**
 * Rate–accuracy curves and the equal-accuracy compression ratio (DeepN-JPEG's headline metric).
 * A curve is a set of operating points (one per quality or scale). Accuracy is noisy and not monotone in rate,
 * so "the rate needed for accuracy A" is defined as the lowest rate at which the curve first reaches A, walking
 * up in rate and interpolating linearly between the two points that straddle A.
 */
export interface RatePoint {
  /** Rate: mean bytes, mean scan bytes or bits per pixel; any unit, as long as curves compared share it. */
  rate: number
  /** Top-1 accuracy, 0..1. */
  accuracy: number
}

export interface RateAtAccuracy {
  rate: number
  /** 'interpolated' between two points, 'exact' at a point, 'lowest' when even the lowest-rate point reaches A. */
  how: 'interpolated' | 'exact' | 'lowest'
}

function sorted(curve: readonly RatePoint[]): RatePoint[] {
  for (const p of curve) {
    if (!Number.isFinite(p.rate) || p.rate < 0) throw new RangeError(`rate must be a finite number >= 0, got ${p.rate}`)
    if (!(p.accuracy >= 0 && p.accuracy <= 1)) throw new RangeError(`accuracy must be in 0..1, got ${p.accuracy}`)
  }
  return [...curve].sort((x, y) => x.rate - y.rate)
}

/** Lowest rate at which `curve` reaches `target` accuracy, or undefined if it never does. */
export function rateAtAccuracy(curve: readonly RatePoint[], target: number): RateAtAccuracy | undefined {
  const pts = sorted(curve)
  for (let i = 0; i < pts.length; i++) {
    const p = pts[i]
    if (p.accuracy < target) continue
    if (i === 0) return { rate: p.rate, how: p.accuracy === target ? 'exact' : 'lowest' }
    if (p.accuracy === target) return { rate: p.rate, how: 'exact' }
    // pts[i-1] is below target (else we would have returned there): interpolate on the segment
    const q = pts[i - 1]
    const f = (target - q.accuracy) / (p.accuracy - q.accuracy)
    return { rate: q.rate + f * (p.rate - q.rate), how: 'interpolated' }
  }
  return undefined
}

/** Highest accuracy reached anywhere on the curve. */
export function maxAccuracy(curve: readonly RatePoint[]): number {
  return sorted(curve).reduce((m, p) => Math.max(m, p.accuracy), 0)
}

/** Half-width of the 95% normal-approximation binomial interval for an accuracy measured on n images. */
export function accuracyBand(accuracy: number, n: number): number {
  if (!(n > 0)) throw new RangeError(`n must be > 0, got ${n}`)
  return 1.96 * Math.sqrt(Math.max(accuracy * (1 - accuracy), 0) / n)
}

export interface EqualAccuracyRatio {
  target: number
  baselineRate: number
  candidateRate: number
  /** baselineRate / candidateRate: > 1 means the candidate needs fewer bytes for the same accuracy. */
  ratio: number
  candidateHow: RateAtAccuracy['how']
}

/**
 * Compression ratio of `candidate` over `baseline` at accuracy `target`: the baseline's rate for that accuracy
 * (or a fixed `baselineRate`, e.g. JPEG quality 100's, for the paper's metric) over the candidate's.
 * Undefined when either curve never reaches the target.
 */
export function equalAccuracyRatio(
  candidate: readonly RatePoint[],
  baseline: readonly RatePoint[] | number,
  target: number,
): EqualAccuracyRatio | undefined {
  const c = rateAtAccuracy(candidate, target)
  if (!c) return undefined
  let baselineRate: number
  if (typeof baseline === 'number') baselineRate = baseline
  else {
    const b = rateAtAccuracy(baseline, target)
    if (!b) return undefined
    baselineRate = b.rate
  }
  if (c.rate <= 0) return undefined
  return { target, baselineRate, candidateRate: c.rate, ratio: baselineRate / c.rate, candidateHow: c.how }
}
