/**
 * The optimiser's driver. For each start family (Annex K over quality, the DeepN table over its scale):
 *   1. start at the coarsest rung of the family whose calibration accuracy reaches the target (+ margin);
 *   2. λ = the family's own rate–loss slope there (bytes saved per unit of loss added, between that rung and the
 *      next finer one), unless given: the optimum we look for trades bytes for loss at a better rate than that;
 *   3. Lagrangian coordinate descent (shared/deepn/optimize) on the fast surrogate;
 *   4. land on the objective with the scale knob: the coarsest scale of the result whose calibration accuracy
 *      reaches the target (or the most accurate within --max-bytes), re-measured with the real encoder and
 *      jpeg-js, stepping to finer scales until the real numbers meet the objective.
 * The returned table therefore never scores below the target on its calibration data with the real codec.
 */
import { qualityTables } from '../../../shared/codec/tables'
import { boundedRandomSearch, lagrangianDescent, scaleSteps } from '../../../shared/deepn/optimize'
import type { Classifier } from '../../eval/classifier'
import type { LabelledSet } from '../../eval/dataset'
import { evaluate, type Encoder, type EvalResult } from '../../eval/evaluate'
import { Progress } from '../../eval/progress'
import type { LogitsModel } from './logits'
import { trainHuffmanOn } from './huffman'
import { SurrogateEvaluator, codeLengthsOf, type LossKind } from './surrogate'

export interface StartTable {
  name: string
  luma: number[]
}

/** A start family as a ladder from coarse to fine (e.g. Annex K at rising quality). */
export interface StartFamily {
  name: string
  ladder: StartTable[]
}

export const ANNEX_LADDER = [5, 10, 15, 20, 25, 30, 40, 50, 60, 75, 90, 100]
export const DEEPN_LADDER = [6, 5, 4, 3, 2.5, 2, 1.5, 1.25, 1, 0.75, 0.5, 0.25, 0.1]
export const LANDING_SCALES = [0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.1, 1.2, 1.35, 1.5, 1.75, 2, 2.5, 3]

export function annexStart(quality: number): StartTable {
  return { name: `annex-k q${quality}`, luma: qualityTables(quality).luma }
}

export interface SearchOptions {
  model: LogitsModel
  classifier: Classifier
  encode: Encoder
  calib: LabelledSet
  starts: StartFamily[]
  /** Accuracy the emitted table must reach on `calib` with the real codec (ignored with maxBytes). */
  target: number
  /** Instead: the most accurate table with mean whole-file bytes <= this. */
  maxBytes?: number
  /** Accuracy above the target the start rung must have (default 0). */
  startMargin?: number
  lambda?: number
  loss?: LossKind
  factor?: number
  /** After convergence, descend again with this finer notch (e.g. 1.1) for at most maxEvals/2 more evaluations. */
  polishFactor?: number
  maxEvals?: number
  /** Rounds of joint search: fit a Huffman set to the calibration images at the current table, then descend again
   * counting the rate with its code lengths (up to maxEvals/2 evaluations a round). 0 = Annex K lengths only. */
  jointHuffman?: number
  /** 'descent' (default): Lagrangian coordinate descent; 'random': bounded random search with the same budget. */
  method?: 'descent' | 'random'
  seed: number
  progress: boolean
}

export interface CurvePoint {
  scale: number
  meanBytes: number
  accuracy: number
  loss: number
}

export interface StartOutcome {
  name: string
  start: StartTable
  lambda: number
  evals: number
  classified: number
  stoppedBy: string
  /** The descent's result at scale 1. */
  luma: number[]
  /** Calibration curve of the result over the scale knob (surrogate bytes + header, surrogate accuracy). */
  curve: CurvePoint[]
  chosen?: { luma: number[]; scale: number; real: EvalResult; stepsBack: number }
}

export interface SearchResult {
  best: StartOutcome & { chosen: NonNullable<StartOutcome['chosen']> }
  outcomes: StartOutcome[]
  /** Whole-file bytes minus scan bytes: the constant the surrogate does not count (headers, EOI). */
  headerBytes: number
}

export async function search(opts: SearchOptions): Promise<SearchResult> {
  const { calib, target } = opts
  const realEval = (luma: number[]) =>
    evaluate({ tables: { luma, chroma: luma } }, calib, { classifier: opts.classifier, encode: opts.encode })
  const outcomes: StartOutcome[] = []
  let ev: SurrogateEvaluator | undefined
  let headerBytes = NaN
  for (const family of opts.starts) {
    if (family.ladder.length === 0) throw new Error(`start family ${family.name} has no tables`)
    const classified0 = ev?.classified ?? 0
    if (Number.isNaN(headerBytes)) {
      const r = await realEval(family.ladder[0].luma)
      headerBytes = r.meanBytes - r.meanScanBytes
    }
    ev?.setCodeLengths(undefined) // every family starts counting with Annex K's lengths
    // 1. start rung (coarsest reaching the target; with --max-bytes the finest within it), plus one finer rung for λ
    const rungs: { bytes: number; loss: number }[] = []
    let startIdx = -1
    for (let i = 0; i < family.ladder.length; i++) {
      if (!ev) ev = await SurrogateEvaluator.create(calib, opts.model, family.ladder[i].luma, opts.loss ?? 'kl')
      else await ev.reset(family.ladder[i].luma)
      const c = ev.current()
      rungs.push(c)
      if (startIdx >= 0) break
      if (opts.maxBytes !== undefined) {
        if (c.bytes + headerBytes > opts.maxBytes) {
          startIdx = Math.max(0, i - 1)
          break
        }
      } else if (c.correct >= (target + (opts.startMargin ?? 0)) * calib.count) startIdx = i
    }
    if (startIdx < 0) startIdx = family.ladder.length - 1
    const start = family.ladder[startIdx]
    const lambda = opts.lambda ?? slope(rungs, startIdx)
    // 2–3. descent
    if (!ev) throw new Error('unreachable: no evaluator')
    await ev.reset(start.luma)
    const maxEvals = opts.maxEvals ?? 600
    const bar = new Progress(maxEvals, opts.progress, family.name)
    let lastEvals = 0
    const onEval = (evals: number, p: { bytes: number; accuracy: number }) => {
      bar.setLabel(`${family.name} ${(p.bytes + headerBytes).toFixed(0)} B ${(100 * p.accuracy).toFixed(1)}%`)
      bar.tick(evals - lastEvals)
      lastEvals = evals
    }
    const res =
      opts.method === 'random'
        ? await boundedRandomSearch(start.luma, ev, { lambda, maxEvals, seed: opts.seed, onEval })
        : await lagrangianDescent(start.luma, ev, { lambda, factor: opts.factor, maxEvals, seed: opts.seed, onEval })
    let luma = res.path[res.path.length - 1].luma
    let evals = res.evals
    let stoppedBy: string = res.stoppedBy
    if (opts.polishFactor !== undefined) {
      const polish = await lagrangianDescent(luma, ev, {
        lambda,
        factor: opts.polishFactor,
        maxEvals: Math.ceil(maxEvals / 2),
        seed: opts.seed + 1,
      })
      luma = polish.path[polish.path.length - 1].luma
      evals += polish.evals
      stoppedBy += ` + polish ${polish.stoppedBy}`
    }
    for (let round = 0; round < (opts.jointHuffman ?? 0); round++) {
      ev.setCodeLengths(codeLengthsOf(trainHuffmanOn(calib, { tables: { luma, chroma: luma } })))
      await ev.reset(luma)
      const joint = await lagrangianDescent(luma, ev, {
        lambda,
        factor: opts.polishFactor ?? opts.factor,
        maxEvals: Math.ceil(maxEvals / 2),
        seed: opts.seed + 2 + round,
      })
      luma = joint.path[joint.path.length - 1].luma
      evals += joint.evals
      stoppedBy += ` + joint-huffman ${joint.stoppedBy}`
    }
    bar.end()
    // 4. the curve over the scale knob, then landing
    const curve: CurvePoint[] = []
    for (const s of LANDING_SCALES) {
      await ev.reset(scaleSteps(luma, s))
      const c = ev.current()
      curve.push({ scale: s, meanBytes: c.bytes + headerBytes, accuracy: c.correct / calib.count, loss: c.loss })
    }
    const out: StartOutcome = {
      name: family.name,
      start,
      lambda,
      evals,
      classified: ev.classified - classified0,
      stoppedBy,
      luma,
      curve,
    }
    out.chosen = await land(luma, curve, opts, realEval)
    outcomes.push(out)
  }
  const ok = outcomes.filter((o) => o.chosen)
  if (ok.length === 0)
    throw new Error(
      `no start reaches ${opts.maxBytes !== undefined ? `${opts.maxBytes} B` : `accuracy ${(100 * target).toFixed(2)}%`} on ${calib.name} with the real codec: relax the objective`,
    )
  ok.sort((a, b) =>
    opts.maxBytes !== undefined
      ? b.chosen!.real.accuracy - a.chosen!.real.accuracy
      : a.chosen!.real.meanBytes - b.chosen!.real.meanBytes,
  )
  return { best: ok[0] as SearchResult['best'], outcomes, headerBytes }
}

/** Bytes per unit loss between rung i and the next finer rung that lowers the loss; 1000 if none does. */
export function slope(rungs: { bytes: number; loss: number }[], i: number): number {
  for (let j = i + 1; j < rungs.length; j++) {
    const dB = rungs[j].bytes - rungs[i].bytes
    const dL = rungs[i].loss - rungs[j].loss
    if (dB > 0 && dL > 0) return dB / dL
  }
  return 1000
}

/** Picks the scale for the objective from the surrogate curve and confirms it with the real codec. */
async function land(
  luma: number[],
  curve: CurvePoint[],
  opts: SearchOptions,
  realEval: (l: number[]) => Promise<EvalResult>,
): Promise<StartOutcome['chosen']> {
  let order: CurvePoint[]
  if (opts.maxBytes !== undefined)
    order = curve
      .filter((p) => p.meanBytes <= opts.maxBytes!)
      .sort((a, b) => b.accuracy - a.accuracy || b.scale - a.scale)
  else order = curve.filter((p) => p.accuracy >= opts.target).sort((a, b) => b.scale - a.scale)
  // then every finer scale, in case the real codec disagrees with the surrogate near the edge
  const tried = new Set<number>()
  let back = 0
  for (const p of [...order, ...curve.slice().sort((a, b) => b.scale - a.scale)]) {
    if (tried.has(p.scale) || (order.length && p.scale > order[0].scale && opts.maxBytes === undefined)) continue
    tried.add(p.scale)
    const l = scaleSteps(luma, p.scale)
    const real = await realEval(l)
    if (opts.maxBytes !== undefined ? real.meanBytes <= opts.maxBytes : real.accuracy >= opts.target - 1e-12)
      return { luma: l, scale: p.scale, real, stepsBack: back }
    if (++back >= 6) break
  }
  return undefined
}
