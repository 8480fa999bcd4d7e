/**
 * The backend's half of spatial encoding: an importance map learned from its detector's outputs on a camera's
 * frames. A fixed camera sees objects in the same places (a walkway, parked cars), so the share of frames in
 * which a detection (grown by a margin, for boxes that move a little) covers a cell says how much of that cell
 * the detector needs. Cells no detection ever touched keep DC only; cells objects visit keep a few low
 * frequencies; the device raises a cell to all coefficients where something moves (motion.ts). Pure.
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
  /** Coefficients kept per level: [never covered, covered in at most `busy` of frames, more] (default [1, 1, 6]). */
  keep?: readonly [number, number, number]
  /** Share of frames above which a cell counts as busy (default 0.02). */
  busy?: number
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
  const busy = o.busy ?? 0.02
  const keep = o.keep ?? [1, 1, 6]
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
  for (let i = 0; i < heat.length; i++) levels += heat[i] === 0 ? '0' : heat[i] <= busy ? '1' : '2'
  return { map: { id: o.id, cols, rows, levels, keep: [...keep] }, heat }
}
