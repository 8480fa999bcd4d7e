/**
 * How many coefficients each level of a learned importance map keeps, chosen on calibration frames the map did
 * not learn from. The map learns where objects were in the first half of the calibration frames; each candidate
 * is judged on the second half with the device's motion replayed, so an object that turns up where none was
 * seen before counts against a candidate that leaves those cells at DC. A map judged on the frames it learned
 * from never sees that case: every object there lies in a covered cell by construction. Cost: the bytes per
 * frame the candidate needs for the target F1 over a few qualities, the dearest judge's need (a detector, or one of its classes).
 */
import type { EncodeOptions } from '../../shared/codec/types'
import { toBlockKeep } from '../../shared/spatial/keep-map'
import { learnKeepMap } from '../../shared/spatial/learn'
import {
  bytesForTarget,
  type CalibrationFrame,
  checkJudges,
  type JudgeIo,
  type Judged,
  judgeEncoding,
} from './detector-tables'
import { Progress } from './progress'

/**
 * Coefficients kept per level: [never covered, rarely covered, busy], or with four [never, rarely, walkway,
 * standing place] (heat thresholds: learn.ts defaultBusy); the learner's default first. No four-level candidate
 * for CenterNet's levels: 3/3/10/64 looked as good as 3/10/64 on calibration frames and never reached F1 0.95 on
 * CenterNet over the test half (docs/detection-benchmark.md, "The DC floor").
 */
export type KeepLevels = readonly number[]

export const KEEP_CANDIDATES: readonly KeepLevels[] = [
  [1, 1, 6],
  [1, 1, 1, 6],
  [1, 3, 15],
  [1, 6, 64],
  [3, 10, 64],
  [6, 21, 64],
]
export const LEVEL_QUALITIES = [20, 40, 75]

export interface KeepTrial extends Judged {
  keep: KeepLevels
  quality: number
}

export interface KeepSearchResult {
  keep: KeepLevels
  /** Bytes per frame the chosen levels need for the target on the judging half (Infinity: none reached it). */
  bytesAtTarget: number
  trials: KeepTrial[]
  /** Calibration frame indices the trial maps learned from, and those that judged them. */
  learnedOn: number[]
  judgedOn: number[]
}

export interface KeepSearchOptions {
  width: number
  height: number
  cols: number
  rows: number
  /** Motion per calibration frame index (motionGrids), raising cells as the device would. */
  motion: ReadonlyMap<number, Uint8Array>
  targetF1: number
  candidates?: readonly KeepLevels[]
  qualities?: readonly number[]
  progress?: boolean
}

/** The cheapest candidate that reaches the target; when none does, the one that keeps the most (the last). */
export async function searchKeepLevels(
  frames: readonly CalibrationFrame[],
  io: JudgeIo,
  o: KeepSearchOptions,
): Promise<KeepSearchResult> {
  checkJudges(frames, io, 'the keep-level search')
  if (frames.length < 2) throw new RangeError('the keep-level search needs at least 2 calibration frames')
  const candidates = o.candidates ?? KEEP_CANDIDATES
  const qualities = o.qualities ?? LEVEL_QUALITIES
  const sorted = [...frames].sort((a, b) => a.index - b.index)
  const half = Math.floor(sorted.length / 2)
  const learn = sorted.slice(0, half)
  const judge = sorted.slice(half)
  const seen = learn.map((f) => ({ width: o.width, height: o.height, detections: f.references.flat() }))
  const bar = new Progress(candidates.length * qualities.length * judge.length, o.progress ?? false)
  const trials: KeepTrial[] = []
  let best = { keep: candidates[candidates.length - 1], bytes: Infinity }
  for (const keep of candidates) {
    const { map } = learnKeepMap(seen, { id: 'search', cols: o.cols, rows: o.rows, keep: [...keep] })
    const pts: KeepTrial[] = []
    for (const quality of qualities) {
      bar.setLabel(`map levels ${keep.join('/')} q${quality}`)
      const enc = (f: CalibrationFrame): EncodeOptions => ({
        quality,
        subsampling: '420',
        optimizeHuffman: true,
        blockKeep: toBlockKeep(map, o.motion.get(f.index) ?? null, 64),
      })
      pts.push({ keep, quality, ...(await judgeEncoding(judge, io, enc, () => bar.tick())) })
    }
    trials.push(...pts)
    const bytes = bytesForTarget(pts, o.targetF1)
    if (bytes < best.bytes) best = { keep, bytes }
  }
  bar.end()
  return {
    keep: best.keep,
    bytesAtTarget: best.bytes,
    trials,
    learnedOn: learn.map((f) => f.index),
    judgedOn: judge.map((f) => f.index),
  }
}

/** One line for the report: what was chosen, on which frames, and every candidate's need. */
export function keepSearchNote(r: KeepSearchResult, targetF1: number): string {
  const byKeep = [...new Set(r.trials.map((t) => t.keep.join('/')))].map((k) => {
    const need = bytesForTarget(
      r.trials.filter((t) => t.keep.join('/') === k),
      targetF1,
    )
    return `${k}: ${Number.isFinite(need) ? `${(need / 1000).toFixed(1)} KB` : 'never'}`
  })
  const range = (a: number[]) => `${a[0]}..${a[a.length - 1]}`
  return (
    `Map keep levels (never covered / rarely / busy, or never / rarely / walkway / standing): ${r.keep.join('/')}${Number.isFinite(r.bytesAtTarget) ? '' : ' (no candidate reached the target: the one that keeps the most)'}, ` +
    `chosen for F1 ${targetF1} on calibration frames ${range(r.judgedOn)} with maps learned on ${range(r.learnedOn)}, ` +
    `motion replayed; bytes per frame each candidate needs there: ${byKeep.join('; ')}.`
  )
}
