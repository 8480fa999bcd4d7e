/**
 * Tables tuned for detectors, on calibration frames only: a coordinate search over the tilt family
 * (shared/deepn/tilt-table.ts). Each candidate (tilt, chroma) is swept over a few scales; its cost is the bytes
 * per frame it needs for `targetF1` against each detector's own detections on the uncompressed calibration
 * frames (shared/deepn/curve.ts's interpolation, the report's "needs"), the dearest detector's need when several
 * judge (a table tuned for one detector alone can starve another: the benchmark measured it), or each detector's
 * class with `JudgeIo.classes` (a pooled F1 can starve one class the same way). First the tilt at
 * chroma 1, then the chroma at the best tilt: (tilts + chromas - 1) x scales trials, each one encode and decode
 * per frame and one detection per detector.
 */
import type { EncodeOptions, RawImage, TableFile } from '../../shared/codec/types'
import { rateAtAccuracy } from '../../shared/deepn/curve'
import { type TiltParams, tiltTableFile, tiltTables } from '../../shared/deepn/tilt-table'
import type { Decode, Detect } from './detect-sweep'
import { addClassCounts, type Box, type Counts, countsByClass, matchFrame, prf, sumCounts } from './detection-metric'
import type { Encoder } from './evaluate'
import { Progress } from './progress'

export interface TiltSearchOptions {
  tilts: number[]
  chromas: number[]
  scales: number[]
  /** The F1 the search buys as cheaply as it can. */
  targetF1: number
  /** Extra encoder options every trial uses (e.g. optimal Huffman, as the product would send). */
  enc?: EncodeOptions
}

export const DEFAULT_TILT_SEARCH: TiltSearchOptions = {
  tilts: [0, 0.5, 1, 2, 4],
  chromas: [0.25, 0.5, 1],
  scales: [0.6, 1, 1.6, 2.5, 4],
  targetF1: 0.96,
  enc: { optimizeHuffman: true },
}

export interface TiltTrial extends Omit<TiltParams, 'scale'> {
  scale: number
  meanBytes: number
  /** The weakest detector's F1 (the only one's, with one detector). */
  f1: number
  /** Each detector's F1, in the order of the search's detectors. */
  f1s: number[]
}

export interface TiltSearchResult {
  best: TiltParams
  /** Bytes per frame the best candidate needs for the target F1. */
  bytesAtTarget: number
  trials: TiltTrial[]
}

export interface CalibrationFrame {
  index: number
  image: RawImage
  /** Each detector's detections on the uncompressed frame, in the order of the search's detectors. */
  references: Box[][]
}

/** What calibration-time searches need: the detectors that judge, the backend's decoder and our encoder. */
export interface JudgeIo {
  detect: readonly Detect[]
  decode: Decode
  encode: Encoder
  /**
   * Hold each of these classes to the target on its own: every detector's F1 on every listed class is a judge
   * (detector-major order), instead of each detector's F1 over all classes. A pooled F1 can be bought with an
   * easy class (parked cars) while the one that matters (people) falls below the target.
   */
  classes?: readonly string[]
}

/** The judges' names in `Judged.f1s` order: the detectors, or detector/class pairs with `classes`. */
export function judgeNames(detectors: readonly string[], classes?: readonly string[]): string[] {
  return classes?.length ? detectors.flatMap((d) => classes.map((c) => `${d}/${c}`)) : [...detectors]
}

/** An encoding's cost and quality on calibration frames: mean bytes, and each detector's F1. */
export interface Judged {
  meanBytes: number
  f1s: number[]
}

/** The frames and detectors agree: one reference list per detector on every frame. */
export function checkJudges(frames: readonly CalibrationFrame[], io: JudgeIo, what: string): void {
  if (frames.length === 0) throw new RangeError(`${what} needs calibration frames`)
  if (io.detect.length === 0) throw new RangeError(`${what} needs a detector`)
  for (const f of frames)
    if (f.references.length !== io.detect.length)
      throw new RangeError(
        `calibration frame ${f.index}: ${f.references.length} reference lists for ${io.detect.length} detectors`,
      )
}

/** Encode every frame with `enc(frame)`, decode as the backend does, and score it with every detector. */
export async function judgeEncoding(
  frames: readonly CalibrationFrame[],
  io: JudgeIo,
  enc: (f: CalibrationFrame) => EncodeOptions,
  tick: () => void = () => {},
): Promise<Judged> {
  let bytes = 0
  const counts = io.detect.map(() => [] as Counts[])
  const byClass = io.detect.map(() => new Map<string, Counts>())
  for (const f of frames) {
    const jpg = io.encode(f.image, enc(f))
    bytes += jpg.length
    const decoded = await io.decode(jpg)
    for (let d = 0; d < io.detect.length; d++) {
      const m = matchFrame(f.references[d], await io.detect[d](decoded))
      counts[d].push(m)
      if (io.classes?.length) addClassCounts(byClass[d], countsByClass(f.references[d], m))
    }
    tick()
  }
  const none: Counts = { tp: 0, fp: 0, fn: 0 }
  const f1s = io.classes?.length
    ? byClass.flatMap((m) => io.classes!.map((c) => prf(m.get(c) ?? none).f1))
    : counts.map((c) => prf(sumCounts(c)).f1)
  return { meanBytes: bytes / frames.length, f1s }
}

/**
 * Bytes per frame a family of encodings (e.g. one candidate over scales) needs for `targetF1`: each judge's own
 * curve (a detector's, or one of its classes' with JudgeIo.classes) interpolated to the target, the dearest
 * judge's need; Infinity when one never reaches it.
 */
export function bytesForTarget(pts: readonly Judged[], targetF1: number): number {
  let need = 0
  for (let d = 0; d < (pts[0]?.f1s.length ?? 0); d++) {
    const at = rateAtAccuracy(
      pts.map((p) => ({ rate: p.meanBytes, accuracy: p.f1s[d] })),
      targetF1,
    )
    need = Math.max(need, at?.rate ?? Infinity)
  }
  return pts.length === 0 ? Infinity : need
}

export async function searchTiltTable(
  frames: readonly CalibrationFrame[],
  io: JudgeIo,
  o: TiltSearchOptions,
  progress = false,
): Promise<TiltSearchResult> {
  checkJudges(frames, io, 'the table search')
  const trials: TiltTrial[] = []
  const bar = new Progress((o.tilts.length + o.chromas.length - 1) * o.scales.length * frames.length, progress)
  const sweep = async (tilt: number, chroma: number): Promise<number> => {
    const pts: TiltTrial[] = []
    for (const scale of o.scales) {
      const tables = tiltTables({ tilt, chroma, scale })
      bar.setLabel(`table search tilt ${tilt} chroma ${chroma} scale ${scale}`)
      const j = await judgeEncoding(
        frames,
        io,
        () => ({ subsampling: '420', ...o.enc, tables }),
        () => bar.tick(),
      )
      pts.push({ tilt, chroma, scale, ...j, f1: Math.min(...j.f1s) })
    }
    trials.push(...pts)
    return bytesForTarget(pts, o.targetF1)
  }
  let best = { tilt: o.tilts[0], chroma: 1, bytes: Infinity }
  for (const tilt of o.tilts) {
    const bytes = await sweep(tilt, 1)
    if (bytes < best.bytes) best = { tilt, chroma: 1, bytes }
  }
  for (const chroma of o.chromas) {
    if (chroma === 1) continue
    const bytes = await sweep(best.tilt, chroma)
    if (bytes < best.bytes) best = { ...best, chroma, bytes }
  }
  bar.end()
  if (!Number.isFinite(best.bytes)) {
    // Say how far: the trial whose weakest detector came closest, with every detector's F1.
    const top = trials.reduce((a, b) => (b.f1 > a.f1 ? b : a))
    throw new Error(
      `no candidate reached F1 ${o.targetF1} on the calibration frames (closest: tilt ${top.tilt} chroma ` +
        `${top.chroma} scale ${top.scale}, F1 ${top.f1s.map((f) => f.toFixed(3)).join(' / ')}` +
        `${top.f1s.length > 1 ? ' per judge' : ''}): lower --target-f1 or add finer --search-scales`,
    )
  }
  // The table's own scale: the coarsest trial scale of the winner that still reached the target.
  const won = trials.filter((t) => t.tilt === best.tilt && t.chroma === best.chroma && t.f1 >= o.targetF1)
  const scale = Math.max(...won.map((t) => t.scale))
  return { best: { tilt: best.tilt, chroma: best.chroma, scale }, bytesAtTarget: best.bytes, trials }
}

/**
 * The search's winner as a table file that records how to rebuild it. `detectors` names the F1 columns of the
 * recorded trials when several judges judged (`judgeNames`; one judge: a single `f1` column).
 */
export function detectorTableFile(
  id: string,
  r: TiltSearchResult,
  extra: Record<string, unknown>,
  detectors: readonly string[] = [],
): TableFile {
  return tiltTableFile(id, r.best, {
    ...extra,
    bytesAtTargetOnCalibration: Math.round(r.bytesAtTarget),
    trials: r.trials.map((t) => [
      t.tilt,
      t.chroma,
      t.scale,
      Math.round(t.meanBytes),
      ...t.f1s.map((f) => Math.round(f * 1e4) / 1e4),
    ]),
    trialColumns: [
      'tilt',
      'chroma',
      'scale',
      'meanBytes',
      ...(detectors.length > 1 ? detectors.map((d) => `f1 ${d}`) : ['f1']),
    ],
  })
}
