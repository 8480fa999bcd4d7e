/**
 * The benchmark's model-aware curves, built the way the product runs them: the backend learns an importance
 * map from its detector's outputs on the calibration frames (shared/spatial/learn.ts), the device raises cells
 * where something moves against its running background (motion, replayed here over every frame before each
 * test frame, as the device sees them) and the encoder keeps per block only what the map allows
 * (EncodeOptions.blockKeep). Also the tables tuned for the detector (detector-tables.ts) and the baseline of
 * sending frames at the detector's input size.
 */
import type { EncodeOptions, TableFile } from '../../shared/codec/types'
import { rescaleTableFile } from '../../shared/deepn/table-file'
import { type KeepMap, MAX_KEEP_MAP_SIDE, toBlockKeep } from '../../shared/spatial/keep-map'
import { learnKeepMap, type SeenFrame } from '../../shared/spatial/learn'
import { MotionField } from '../../shared/spatial/motion'
import type { DetectSetting } from './detect-sweep'
import type { FrameSource } from './video-frames'
import { Progress } from './progress'

/** Scales the tilt (detector-tuned) table is swept over: 1 = Annex K at quality 50 before the tilt. */
export const TILT_SCALES = [0.5, 0.7, 1, 1.3, 1.7, 2.2, 3, 4]
export const MAP_QUALITIES = [5, 10, 15, 20, 30, 50, 75, 95]
/** The detector's input is 300x300 (COCO-SSD); the baseline keeps the frame's aspect at that height. */
export const SMALL_HEIGHT = 300

/** A grid of about 16x16-pixel cells (one 4:2:0 MCU), within a keep map's largest side. */
export function mapGrid(width: number, height: number): { cols: number; rows: number } {
  return {
    cols: Math.min(MAX_KEEP_MAP_SIDE, Math.ceil(width / 16)),
    rows: Math.min(MAX_KEEP_MAP_SIDE, Math.ceil(height / 16)),
  }
}

export function learnMap(
  id: string,
  frames: readonly SeenFrame[],
  width: number,
  height: number,
  keep?: readonly number[],
): KeepMap {
  return learnKeepMap(frames, { id, ...mapGrid(width, height), keep: keep && [...keep] }).map
}

/** Motion per test frame: the agent's MotionField, replayed over every frame before each, as the device sees them. */
export async function motionGrids(
  source: FrameSource,
  testFrames: readonly number[],
  cols: number,
  rows: number,
  o: { warmup?: number; threshold?: number; alpha?: number; progress?: boolean } = {},
): Promise<Map<number, Uint8Array>> {
  const first = Math.max(0, testFrames[0] - (o.warmup ?? 50))
  const last = testFrames[testFrames.length - 1]
  const want = new Set(testFrames)
  const out = new Map<number, Uint8Array>()
  const field = new MotionField({ threshold: o.threshold, alpha: o.alpha })
  const all = Array.from({ length: last - first + 1 }, (_, i) => first + i)
  const bar = new Progress(all.length, o.progress ?? false, 'motion')
  for await (const { index, image } of source.frames(all)) {
    const m = field.update(image, cols, rows)
    if (want.has(index)) out.set(index, m.slice()) // update() reuses its array
    bar.tick()
  }
  bar.end()
  return out
}

export interface SpatialPlan {
  /** The detector-tuned tilt table, when searched. */
  tilt?: TableFile
  tiltScales: number[]
  map?: KeepMap
  motion?: Map<number, Uint8Array>
  mapQualities: number[]
  /** Frame size, for the downscaled baseline; absent = no baseline. */
  small?: { width: number; height: number; qualities: number[] }
}

/** Settings for the tuned table (Annex K and optimal Huffman), the map curves and the downscaled baseline. */
export function spatialSettings(p: SpatialPlan): DetectSetting[] {
  const out: DetectSetting[] = []
  const withMap = (enc: EncodeOptions, map: KeepMap) => (fi: number) => ({
    ...enc,
    blockKeep: toBlockKeep(map, p.motion?.get(fi) ?? null, 64),
  })
  if (p.tilt) {
    for (const s of p.tiltScales) {
      const t = rescaleTableFile(p.tilt, s)
      const enc: EncodeOptions = { tables: { luma: t.luma, chroma: t.chroma }, subsampling: '420' }
      out.push({ key: `${p.tilt.id}-x${s}`, curve: p.tilt.id, scale: s, enc })
      out.push({
        key: `${p.tilt.id}-opt-x${s}`,
        curve: `${p.tilt.id}-opt`,
        scale: s,
        enc: { ...enc, optimizeHuffman: true },
        samePixelsAs: `${p.tilt.id}-x${s}`,
      })
    }
  }
  if (p.map) {
    const map = p.map
    // `-prog`: the same coefficients in progressive scans (same pixels, so the twin's detections are reused),
    // where runs of DC-only and blank blocks cost one EOBRUN instead of an end-of-block each.
    const twin = (s: DetectSetting): DetectSetting => {
      const enc: EncodeOptions = { ...s.enc, optimizeHuffman: false, progressive: true }
      return {
        ...s,
        key: s.key.replace(s.curve, `${s.curve}-prog`),
        curve: `${s.curve}-prog`,
        enc,
        encFor: withMap(enc, map),
        samePixelsAs: s.key,
      }
    }
    for (const q of p.mapQualities) {
      const enc: EncodeOptions = { quality: q, subsampling: '420', optimizeHuffman: true }
      const s: DetectSetting = { key: `jpeg+map-q${q}`, curve: 'jpeg+map', quality: q, enc, encFor: withMap(enc, map) }
      out.push(s, twin(s))
    }
    if (p.tilt) {
      for (const s of p.tiltScales) {
        const t = rescaleTableFile(p.tilt, s)
        const enc: EncodeOptions = {
          tables: { luma: t.luma, chroma: t.chroma },
          subsampling: '420',
          optimizeHuffman: true,
        }
        const curve = `${p.tilt.id}+map`
        const setting: DetectSetting = { key: `${curve}-x${s}`, curve, scale: s, enc, encFor: withMap(enc, map) }
        out.push(setting, twin(setting))
      }
    }
  }
  if (p.small) {
    const { width, height, qualities } = p.small
    const curve = `jpeg-${width}x${height}`
    for (const q of qualities)
      out.push({
        key: `${curve}-q${q}`,
        curve,
        quality: q,
        enc: { quality: q, subsampling: '420' },
        resize: { width, height },
      })
  }
  return out
}
