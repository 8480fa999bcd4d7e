/**
 * The backend's half of spatial encoding: an importance map learned from its detector's outputs on a camera's
 * frames. A fixed camera sees objects in the same places (a walkway, parked cars), so the share of frames in
 * which a detection (grown by a margin, for boxes that move a little) covers a cell says how much of that cell
 * the detector needs. Cells no detection ever touched keep DC only (or nothing: keep 0 blanks them); cells objects
 * visit keep a few low frequencies; the device raises a cell to all coefficients where something moves
 * (motion.ts). Pure.
 */
import type { KeepMap } from './keep-map'

export interface SeenFrame {
  width: number
  height: number
  /** Detections, boxes [x, y, width, height] in the frame's pixels. */
  detections: readonly { bbox: readonly [number, number, number, number] | readonly number[]; score: number }[]
}

export interface LearnOptions {
  id: string
  cols: number
  rows: number
  /** Detections below this score are not evidence (default 0.5, the benchmark's threshold). */
  minScore?: number
  /** Each box grows by this fraction of its size on every side (default 0.25). */
  margin?: number
  /**
   * Coefficients kept per level: level 0 = never covered, then one level per heat bracket of `busy` (default
   * [1, 1, 6]: DC only unless objects are frequent). Length = 2 + the number of `busy` thresholds.
   */
  keep?: readonly number[]
  /**
   * Heat thresholds, ascending: a covered cell's level is 1 + how many it exceeds. Default by the number of
   * levels (defaultBusy): 0.02 for three (rarely / busy), 0.02 and 0.1 for four. Two, e.g. [0.02, 0.3], split busy cells into walkways (objects pass, the device's motion
   * raises them while they do) and standing places (parked cars: objects stay, so the map must keep them).
   */
  busy?: number | readonly number[]
}

/** Heat thresholds by number of levels: 3 levels (never / rarely / busy) split at 0.02; 4 also split busy cells
 * at 0.1 into walkways and standing places (chosen on vtest's calibration frames, docs/detection-benchmark.md). */
export function defaultBusy(levels: number): number[] {
  return levels === 4 ? [0.02, 0.1] : [0.02]
}

export interface LearnedMap {
  map: KeepMap
  /** Per cell, the share of frames in which a (grown) detection covered it. */
  heat: Float32Array
}

export function learnKeepMap(frames: readonly SeenFrame[], o: LearnOptions): LearnedMap {
  if (frames.length === 0) throw new RangeError('learnKeepMap: no frames to learn from')
  const { cols, rows } = o
  const minScore = o.minScore ?? 0.5
  const margin = o.margin ?? 0.25
  const keep = o.keep ?? [1, 1, 6]
  const busy = typeof o.busy === 'number' ? [o.busy] : [...(o.busy ?? defaultBusy(keep.length))]
  if (busy.some((b, i) => !(b >= 0 && b <= 1) || (i > 0 && b <= busy[i - 1])))
    throw new RangeError(`learnKeepMap: busy must be ascending shares in 0..1, got ${busy.join(', ')}`)
  if (keep.length !== busy.length + 2)
    throw new RangeError(
      `learnKeepMap: keep needs ${busy.length + 2} counts (never covered, then one per busy bracket), got ${keep.length}`,
    )
  const heat = new Float32Array(cols * rows)
  const hit = new Uint8Array(cols * rows)
  for (const f of frames) {
    hit.fill(0)
    for (const d of f.detections) {
      if (d.score < minScore) continue
      const [x, y, w, h] = d.bbox
      const x0 = Math.max(0, Math.floor(((x - margin * w) * cols) / f.width))
      const x1 = Math.min(cols - 1, Math.floor(((x + w + margin * w) * cols) / f.width))
      const y0 = Math.max(0, Math.floor(((y - margin * h) * rows) / f.height))
      const y1 = Math.min(rows - 1, Math.floor(((y + h + margin * h) * rows) / f.height))
      for (let cy = y0; cy <= y1; cy++) for (let cx = x0; cx <= x1; cx++) hit[cy * cols + cx] = 1
    }
    for (let i = 0; i < hit.length; i++) heat[i] += hit[i] / frames.length
  }
  let levels = ''
  for (let i = 0; i < heat.length; i++) {
    let level = heat[i] === 0 ? 0 : 1
    if (level) for (const b of busy) if (heat[i] > b) level++
    levels += level
  }
  return { map: { id: o.id, cols, rows, levels, keep: [...keep] }, heat }
}
