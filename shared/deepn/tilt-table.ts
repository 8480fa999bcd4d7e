/**
 * Frequency-tilted Annex K tables: the detector-tuned family. A backend detector sees the frame resized to its
 * input (COCO-SSD: 300x300 from 768x576), so detail above that resolution's Nyquist barely reaches it, while its
 * colour cues do: the step grows with the block frequency max(u, v) by `tilt` per step, and chroma gets its own
 * multiplier (measured: coarser chroma costs detections; finer chroma and steep high frequencies save bytes).
 * Three numbers describe a table, so a search over them on calibration frames stays a few minutes. Pure.
 */
import type { QuantTables, TableFile } from '../codec/types'
import { ANNEX_K_CHROMA, ANNEX_K_LUMA } from '../codec/tables'
import { tableIdProblem } from '../contract/ids'

export interface TiltParams {
  /** Step growth per frequency index max(u, v): step = Annex K x scale x (1 + tilt x max(u, v)). >= 0. */
  tilt: number
  /** Extra multiplier on the chroma table (> 0). */
  chroma: number
  /** Overall multiplier, the rate knob (> 0). */
  scale: number
}

export const TILT_METHOD = 'annexk-tilt'

function check(p: TiltParams): void {
  for (const [k, v, min] of [
    ['tilt', p.tilt, 0],
    ['chroma', p.chroma, Number.MIN_VALUE],
    ['scale', p.scale, Number.MIN_VALUE],
  ] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > 1000)
      throw new RangeError(`${k}: expected a number ${min === 0 ? '>= 0' : '> 0'} and <= 1000, got ${String(v)}`)
  }
}

const step = (base: number, i: number, mul: number, tilt: number) =>
  Math.max(1, Math.min(255, Math.round(base * mul * (1 + tilt * Math.max(i & 7, i >> 3)))))

export function tiltTables(p: TiltParams): QuantTables & { luma: number[]; chroma: number[] } {
  check(p)
  return {
    luma: ANNEX_K_LUMA.map((v, i) => step(v, i, p.scale, p.tilt)),
    chroma: ANNEX_K_CHROMA.map((v, i) => step(v, i, p.scale * p.chroma, p.tilt)),
  }
}

/** A table file whose `source` records the parameters, so rescaleTableFile can move it along its rate axis. */
export function tiltTableFile(id: string, p: TiltParams, extra: Record<string, unknown> = {}): TableFile {
  const idProblem = tableIdProblem(id)
  if (idProblem) throw new RangeError(idProblem)
  return {
    id,
    ...tiltTables(p),
    source: { method: TILT_METHOD, tilt: p.tilt, chroma: p.chroma, scale: p.scale, ...extra },
  }
}

/** The parameters a tilt table file records, or undefined when it is not one. */
export function tiltParamsOf(file: TableFile): TiltParams | undefined {
  const s = file.source
  if (s?.method !== TILT_METHOD) return undefined
  const p = { tilt: s.tilt, chroma: s.chroma, scale: s.scale } as TiltParams
  check(p)
  return p
}
