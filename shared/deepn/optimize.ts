/**
 * Model-aware quantization table search: pure search logic, no I/O. The caller supplies an `Evaluator`
 * that scores a one-notch change of one luma step on a calibration set (mean bytes, correct count, mean loss).
 *
 * Method: coordinate descent on the Lagrangian J = bytes + λ·loss over the 64 steps, one multiplicative notch
 * coarser or finer at a time, in a seeded random order per pass. The loss is a smooth proxy for accuracy (top-1 on
 * ~1k images moves in 0.1 pt jumps and is too noisy to rank single-step moves); λ (bytes per unit loss) sets the
 * operating point, and a scale knob over the result lands it on an accuracy target afterwards (scripts/tables/
 * optimize/search.ts). Tried first and dropped: a one-way greedy that only coarsens steps from a fine start by
 * best bytes-saved-per-loss ratio: its ratios are noise-dominated (tiny loss deltas), it costs ~10 evaluations per
 * accepted move, and it cannot undo a step its start made too coarse. Deterministic for a given seed.
 */

/** Seeded 32-bit PRNG (mulberry32): same seed, same sequence, on every platform. Returns [0, 1). */
export function mulberry32(seed: number): () => number {
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`)
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** `k` distinct indices of 0..n-1 chosen with `rand` (partial Fisher–Yates), returned sorted. */
export function sampleIndices(n: number, k: number, rand: () => number): number[] {
  if (!(Number.isInteger(n) && n >= 0 && Number.isInteger(k) && k >= 0))
    throw new RangeError(`sampleIndices: n and k must be integers >= 0, got ${n}, ${k}`)
  if (k > n) throw new RangeError(`cannot sample ${k} items from ${n}`)
  const idx = Array.from({ length: n }, (_, i) => i)
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rand() * (n - i))
    const t = idx[i]
    idx[i] = idx[j]
    idx[j] = t
  }
  return idx.slice(0, k).sort((a, b) => a - b)
}

/** Next coarser step: ×factor rounded, at least +1, at most 255 (baseline 8-bit tables). */
export function stepUp(q: number, factor: number): number {
  if (!(factor > 1)) throw new RangeError(`step factor must be > 1, got ${factor}`)
  return Math.min(255, Math.max(q + 1, Math.round(q * factor)))
}

/** Next finer step: ÷factor rounded, at least −1, at least 1. */
export function stepDown(q: number, factor: number): number {
  if (!(factor > 1)) throw new RangeError(`step factor must be > 1, got ${factor}`)
  return Math.max(1, Math.min(q - 1, Math.round(q / factor)))
}

/**
 * The scale knob over any table, identical to the agent's `encoder.scale`: every step times `factor`, rounded,
 * clamped to 1..255. Gives an optimised table its own rate–accuracy curve, the way quality does for Annex K.
 */
export function scaleSteps(table: ArrayLike<number>, factor: number): number[] {
  if (!(factor > 0 && Number.isFinite(factor)))
    throw new RangeError(`scale must be a positive finite number, got ${factor}`)
  return Array.from(table, (v) => Math.min(255, Math.max(1, Math.round(v * factor))))
}

/** Score of a table (or of a table with one step changed) on the calibration set. */
export interface Score {
  /** Mean bytes per image (the objective; any unit that differs from file bytes by a constant is fine). */
  bytes: number
  /** Images classified correctly (top-1). */
  correct: number
  /** Mean loss (e.g. cross-entropy of the true class): the smooth proxy used to rank moves. */
  loss: number
}

export interface Evaluator {
  /** Calibration images: accuracy = correct / count. */
  readonly count: number
  /** Score of the table currently applied. */
  current(): Score
  /** Score if luma step `k` (natural order) became `q`; must not change the applied table. */
  tryMove(k: number, q: number): Promise<Score>
  /** Applies the move (after tryMove of the same move, so implementations may reuse its work). */
  apply(k: number, q: number): Promise<void>
}

export interface PathPoint {
  /** Evaluations spent when this point was reached. */
  evals: number
  bytes: number
  accuracy: number
  loss: number
  luma: number[]
  /** The move that led here (absent for the start). */
  move?: { k: number; from: number; to: number }
}

export interface DescentResult {
  path: PathPoint[]
  evals: number
  stoppedBy: 'budget' | 'converged' | 'passes'
}

/** What every search over the 64 steps takes: the trade-off, a budget, a seed and a progress hook. */
export interface SearchBudget {
  /** Bytes one unit of mean loss is worth: J = bytes + lambda * loss. */
  lambda: number
  /** Evaluation budget. */
  maxEvals?: number
  seed?: number
  onEval?: (evals: number, point: PathPoint) => void
}

/** `maxEvals` counts single-step moves tried (default 1500). */
export interface LagrangianOptions extends SearchBudget {
  factor?: number
  /** Full passes over the 64 steps at most (default 8). */
  maxPasses?: number
}

/** Checks a search's start table and λ; returns its objective J = bytes + λ·loss. */
function objective(start: ArrayLike<number>, lambda: number): (s: Score) => number {
  if (start.length !== 64) throw new RangeError(`start table needs 64 steps, got ${start.length}`)
  if (!(lambda > 0 && Number.isFinite(lambda))) throw new RangeError(`lambda must be a positive number, got ${lambda}`)
  return (s) => s.bytes + lambda * s.loss
}

/**
 * Coordinate descent on J = bytes + λ·loss: in seeded random order, line-search each step a notch at a time,
 * coarser first, then finer, while J falls; repeat passes until one changes nothing. Unlike the one-way greedy descent it
 * can also refine a step the start made too coarse, so it can start from a coarse, cheap table. λ sets the
 * operating point (the slope of the rate–loss trade); a scale knob afterwards lands it on an accuracy target.
 */
export async function lagrangianDescent(
  start: ArrayLike<number>,
  ev: Evaluator,
  opts: LagrangianOptions,
): Promise<DescentResult> {
  const J = objective(start, opts.lambda)
  const factor = opts.factor ?? 1.25
  const maxEvals = opts.maxEvals ?? 1500
  const table = Array.from(start)
  const rand = mulberry32(opts.seed ?? 1)
  let evals = 0
  const point = (s: Score, move?: PathPoint['move']): PathPoint => ({
    evals,
    bytes: s.bytes,
    accuracy: s.correct / ev.count,
    loss: s.loss,
    luma: table.slice(),
    ...(move ? { move } : {}),
  })
  const path: PathPoint[] = [point(ev.current())]
  for (let pass = 0; pass < (opts.maxPasses ?? 8); pass++) {
    const order = Array.from({ length: 64 }, (_, i) => i)
    for (let i = 63; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1))
      const t = order[i]
      order[i] = order[j]
      order[j] = t
    }
    let moved = 0
    for (const k of order) {
      // line search: keep stepping in the first direction that lowers J, so a step can travel far in one pass
      for (const dir of [stepUp, stepDown]) {
        let steps = 0
        while (evals < maxEvals) {
          const q = dir(table[k], factor)
          if (q === table[k]) break
          const s = await ev.tryMove(k, q)
          evals++
          opts.onEval?.(evals, path[path.length - 1])
          if (!(J(s) < J(ev.current()) - 1e-9)) break
          const from = table[k]
          await ev.apply(k, q)
          table[k] = q
          steps++
          path.push(point(ev.current(), { k, from, to: q }))
        }
        moved += steps
        if (steps > 0) break // moved up: no need to try down
      }
    }
    if (evals >= maxEvals) return { path, evals, stoppedBy: 'budget' }
    if (moved === 0) return { path, evals, stoppedBy: 'converged' }
  }
  return { path, evals, stoppedBy: 'passes' }
}

/** Scores whole tables (random search moves every step at once). */
export interface TableEvaluator {
  readonly count: number
  /** Score of `table`; may leave the evaluator's state at that table. */
  evaluate(table: number[]): Promise<Score>
}

/** `maxEvals` counts candidate tables (default 400); `onEval` gets the best point so far. */
export interface RandomSearchOptions extends SearchBudget {
  /** Log-normal spread of each step around the incumbent, shrinking linearly to 0.05 over the budget (default 0.3). */
  sigma?: number
}

/**
 * Bounded random search on J = bytes + λ·loss (the baseline the 2020 "Optimizing JPEG Quantization for
 * Classification Networks" work uses): perturb every step of the best table so far multiplicatively, clamp to
 * 1..255, keep the candidate if J falls. Kept to compare with lagrangianDescent at an equal budget.
 */
export async function boundedRandomSearch(
  start: ArrayLike<number>,
  ev: TableEvaluator,
  opts: RandomSearchOptions,
): Promise<DescentResult> {
  const J = objective(start, opts.lambda)
  const maxEvals = opts.maxEvals ?? 400
  const sigma0 = opts.sigma ?? 0.3
  const rand = mulberry32(opts.seed ?? 1)
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand())
  let best = Array.from(start)
  let bestScore = await ev.evaluate(best)
  const point = (evals: number, s: Score, luma: number[]): PathPoint => ({
    evals,
    bytes: s.bytes,
    accuracy: s.correct / ev.count,
    loss: s.loss,
    luma: luma.slice(),
  })
  const path: PathPoint[] = [point(0, bestScore, best)]
  for (let evals = 1; evals <= maxEvals; evals++) {
    const sigma = sigma0 * (1 - evals / maxEvals) + 0.05
    const cand = best.map((q) => Math.min(255, Math.max(1, Math.round(q * Math.exp(sigma * gauss())))))
    const s = await ev.evaluate(cand)
    if (J(s) < J(bestScore) - 1e-9) {
      best = cand
      bestScore = s
      path.push(point(evals, s, best))
    }
    opts.onEval?.(evals, path[path.length - 1])
  }
  await ev.evaluate(best) // leave the evaluator at the result, like the descent does
  return { path, evals: maxEvals, stoppedBy: 'budget' }
}
