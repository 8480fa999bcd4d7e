/**
 * DeepN-JPEG's piecewise linear mapping (PLM) from a coefficient's standard deviation σ to its quantization step.
 * Coefficients that vary a lot across the data carry the features a DNN uses and get small steps; quiet ones get
 * large steps. Parameters default to the values public reimplementations use (see docs/deepn-tables.md for what
 * the paper says and the discontinuity at T2).
 */
export interface PlmParams {
  a: number
  b: number
  c: number
  k1: number
  k2: number
  k3: number
  t1: number
  t2: number
  qMin: number
  qMax: number
}

export const PAPER_PLM: Readonly<PlmParams> = Object.freeze({
  a: 255,
  b: 80,
  c: 240,
  k1: 9.75,
  k2: 1,
  k3: 3,
  t1: 20,
  t2: 60,
  qMin: 5,
  qMax: 255,
})

const KEYS: (keyof PlmParams)[] = ['a', 'b', 'c', 'k1', 'k2', 'k3', 't1', 't2', 'qMin', 'qMax']

/** Fills defaults and rejects nonsense with a message naming the parameter. */
export function plmParams(p: Partial<PlmParams> = {}): PlmParams {
  const out = { ...PAPER_PLM, ...p }
  for (const k of KEYS) {
    if (typeof out[k] !== 'number' || !Number.isFinite(out[k]))
      throw new RangeError(`PLM parameter ${k} must be a finite number, got ${String(out[k])}`)
  }
  if (!(out.t1 < out.t2)) throw new RangeError(`PLM thresholds must satisfy t1 < t2, got t1=${out.t1} t2=${out.t2}`)
  if (!(out.qMin >= 1 && out.qMin <= out.qMax && out.qMax <= 255)) {
    throw new RangeError(`PLM clamp must satisfy 1 <= qMin <= qMax <= 255, got qMin=${out.qMin} qMax=${out.qMax}`)
  }
  return out
}

/** Unclamped, unrounded PLM step for one σ. */
export function plmRaw(sigma: number, p: PlmParams): number {
  if (sigma <= p.t1) return p.a - p.k1 * sigma
  if (sigma <= p.t2) return p.b - p.k2 * sigma
  return p.c - p.k3 * sigma
}

/** How far the PLM jumps at each threshold (0 = continuous); the paper's parameters jump +40 at T2. */
export function plmJumps(p: PlmParams): { atT1: number; atT2: number } {
  return {
    atT1: p.b - p.k2 * p.t1 - (p.a - p.k1 * p.t1),
    atT2: p.c - p.k3 * p.t2 - (p.b - p.k2 * p.t2),
  }
}

/**
 * 64 quantization steps from 64 σ values. `scale` multiplies every PLM step before rounding and clamping to
 * [max(1, qMin·scale), qMax]: scale < 1 spends more bytes for accuracy, > 1 fewer, moving the table along its own
 * rate–accuracy curve the way IJG quality moves Annex K (whose steps also scale linearly).
 */
export function plmTable(sigmas: ArrayLike<number>, params: Partial<PlmParams> = {}, scale = 1): number[] {
  if (sigmas.length !== 64) throw new RangeError(`need 64 σ values, got ${sigmas.length}`)
  if (!(scale > 0 && Number.isFinite(scale)))
    throw new RangeError(`scale must be a positive finite number, got ${scale}`)
  const p = plmParams(params)
  const lo = Math.max(1, p.qMin * scale)
  const out: number[] = []
  for (let k = 0; k < 64; k++) {
    const s = sigmas[k]
    if (!(s >= 0 && Number.isFinite(s))) throw new RangeError(`σ[${k}] must be a finite number >= 0, got ${s}`)
    const q = Math.round(plmRaw(s, p) * scale)
    out.push(Math.min(p.qMax, Math.max(Math.round(lo), q)))
  }
  return out
}
