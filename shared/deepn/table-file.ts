/**
 * Builds a DeepN table file (the codec's `TableFile` JSON) from calibration statistics, recording how it was made
 * in `source` so any shipped table can be reproduced and audited.
 */
import type { TableFile } from '../codec/types'
import { plmParams, plmTable, type PlmParams } from './plm'
import { tableIdProblem } from '../contract/ids'
import { tiltParamsOf, tiltTables } from './tilt-table'

export interface CalibrationStats {
  /** What was measured, e.g. 'fashion-mnist train (60000 images)'. */
  calibration: string
  lumaBlocks: number
  lumaSigma: number[]
  /** Absent for single-component (gray) calibration sets. */
  chromaBlocks?: number
  chromaSigma?: number[]
}

export interface DeepnTableOptions {
  id: string
  plm?: Partial<PlmParams>
  scale?: number
  /** Extra provenance merged into `source` (command line, file list, ...). */
  extra?: Record<string, unknown>
}

const round3 = (v: number) => Math.round(v * 1000) / 1000

export function deepnTableFile(stats: CalibrationStats, opts: DeepnTableOptions): TableFile {
  const idProblem = tableIdProblem(opts.id)
  if (idProblem) throw new RangeError(idProblem)
  const plm = plmParams(opts.plm)
  const scale = opts.scale ?? 1
  const luma = plmTable(stats.lumaSigma, plm, scale)
  // gray sets have no chroma statistics: reuse luma so the file stays a complete two-table set (unused for gray)
  const chroma = stats.chromaSigma ? plmTable(stats.chromaSigma, plm, scale) : luma.slice()
  return {
    id: opts.id,
    luma,
    chroma,
    source: {
      method: 'deepn-plm',
      calibration: stats.calibration,
      lumaBlocks: stats.lumaBlocks,
      lumaSigma: stats.lumaSigma.map(round3),
      ...(stats.chromaSigma
        ? { chromaBlocks: stats.chromaBlocks, chromaSigma: stats.chromaSigma.map(round3) }
        : { chroma: 'copy of luma (gray calibration set)' }),
      plm,
      scale,
      ...opts.extra,
    },
  }
}

/** Recomputes a table file at another scale from what its `source` records (DeepN σ and PLM, or tilt parameters). */
export function rescaleTableFile(file: TableFile, scale: number, id = `${file.id}@${scale}`): TableFile {
  const src = file.source
  const tilt = tiltParamsOf(file)
  if (tilt) return { id, ...tiltTables({ ...tilt, scale }), source: { ...src, scale } }
  const lumaSigma = src?.lumaSigma
  if (src?.method !== 'deepn-plm' || !Array.isArray(lumaSigma))
    throw new Error(`table '${file.id}' has no DeepN σ in its source: cannot rescale`)
  const chromaSigma = Array.isArray(src.chromaSigma) ? (src.chromaSigma as number[]) : undefined
  const plm = src.plm as Partial<PlmParams> | undefined
  const luma = plmTable(lumaSigma as number[], plm, scale)
  return { id, luma, chroma: chromaSigma ? plmTable(chromaSigma, plm, scale) : luma.slice(), source: { ...src, scale } }
}
