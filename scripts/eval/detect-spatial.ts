/**
 * The benchmark's model-aware curves, built the way the product runs them: the backend learns an importance
 * map from its detector's outputs on the calibration frames (shared/spatial/learn.ts), the device raises cells
 * where something moves against its running background (motion, replayed here over every frame before each
 * test frame, as the device sees them) and the encoder keeps per block only what the map allows
 * (EncodeOptions.blockKeep). Also the tables tuned for the detector (detector-tables.ts) and the baseline of
 * sending frames at the detector's input size.
 */
import { readFileSync } from 'node:fs'
import type { BlockKeepMap, EncodeOptions, RawImage } from '../../shared/codec/types'
import { rescaleTableFile } from '../../shared/deepn/table-file'
import { type KeepMap, keepMapProblem, learnKeepMap, type SeenFrame } from '../../shared/spatial/learn'
import type { DetectSetting } from './detect-sweep'
import type { TableFile } from '../../shared/codec/types'
import type { FrameSource } from './video-frames'
import { Progress } from './progress'

/** Scales the tilt (detector-tuned) table is swept over: 1 = Annex K at quality 50 before the tilt. */
export const TILT_SCALES = [0.5, 0.7, 1, 1.3, 1.7, 2.2, 3, 4]
export const MAP_QUALITIES = [5, 10, 15, 20, 30, 50, 75, 95]
/** The detector's input is 300x300 (COCO-SSD); the baseline keeps the frame's aspect at that height. */
export const SMALL_HEIGHT = 300

/** A grid of about 16x16-pixel cells (one 4:2:0 MCU), within the codec's 256 per side. */
export function mapGrid(width: number, height: number): { cols: number; rows: number } {
  return { cols: Math.min(256, Math.ceil(width / 16)), rows: Math.min(256, Math.ceil(height / 16)) }
}

export function learnMap(id: string, frames: readonly SeenFrame[], width: number, height: number): KeepMap {
  return learnKeepMap(frames, { id, ...mapGrid(width, height) }).map
}

/** An importance map file from an earlier run (or the backend), checked before minutes of work depend on it. */
export function readKeepMap(file: string): KeepMap {
  let m: KeepMap
  try {
    m = JSON.parse(readFileSync(file, 'utf8')) as KeepMap
  } catch (e) {
    throw new Error(`--keep-map ${file}: ${(e as Error).message}`)
  }
  const problem = keepMapProblem(m)
  if (problem) throw new Error(`--keep-map ${file}: ${problem}`)
  return m
}

/** Motion per test frame: running background of 8x8 mean luma, replayed over the frames before each. */
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
  const field = new MotionReplay(o.threshold ?? 10, o.alpha ?? 0.05)
  const all = Array.from({ length: last - first + 1 }, (_, i) => first + i)
  const bar = new Progress(all.length, o.progress ?? false, 'motion')
  for await (const { index, image } of source.frames(all)) {
    const m = field.update(image, cols, rows)
    if (want.has(index)) out.set(index, m)
    bar.tick()
  }
  bar.end()
  return out
}

/** Device-side motion, replayed (placeholder until the agent's MotionField lands: same rule). */
class MotionReplay {
  private bg: Float32Array | null = null
  private readonly mean = new Float32Array(0)
  constructor(
    private readonly threshold: number,
    private readonly alpha: number,
  ) {}
  update(img: RawImage, cols: number, rows: number): Uint8Array {
    const bw = Math.ceil(img.width / 8)
    const bh = Math.ceil(img.height / 8)
    const mean = this.mean.length === bw * bh ? this.mean : new Float32Array(bw * bh)
    mean.fill(0)
    const d = img.data
    for (let y = 0; y < img.height; y++)
      for (let x = 0; x < img.width; x++) {
        const i = (y * img.width + x) * 3
        mean[(y >> 3) * bw + (x >> 3)] += (0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2]) / 64
      }
    const hit = new Uint8Array(cols * rows)
    if (!this.bg || this.bg.length !== mean.length) {
      this.bg = mean.slice()
      return hit
    }
    const bg = this.bg
    for (let by = 0; by < bh; by++)
      for (let bx = 0; bx < bw; bx++) {
        const k = by * bw + bx
        if (Math.abs(mean[k] - bg[k]) > this.threshold)
          hit[
            Math.min(rows - 1, Math.floor((by * 8 * rows) / img.height)) * cols +
              Math.min(cols - 1, Math.floor((bx * 8 * cols) / img.width))
          ] = 1
        bg[k] += this.alpha * (mean[k] - bg[k])
      }
    const out = new Uint8Array(cols * rows)
    for (let y = 0; y < rows; y++)
      for (let x = 0; x < cols; x++)
        if (hit[y * cols + x])
          for (let dy = -1; dy <= 1; dy++)
            for (let dx = -1; dx <= 1; dx++) {
              const yy = y + dy
              const xx = x + dx
              if (yy >= 0 && yy < rows && xx >= 0 && xx < cols) out[yy * cols + xx] = 1
            }
    return out
  }
}

/** The codec's map for one frame: the learned levels, every moving cell raised to all coefficients. */
export function frameKeep(map: KeepMap, motion: Uint8Array | undefined): BlockKeepMap {
  const keep = new Uint8Array(map.cols * map.rows)
  for (let i = 0; i < keep.length; i++) keep[i] = motion?.[i] ? 64 : map.keep[map.levels.charCodeAt(i) - 48]
  return { cols: map.cols, rows: map.rows, keep }
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
    blockKeep: frameKeep(map, p.motion?.get(fi)),
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
    for (const q of p.mapQualities) {
      const enc: EncodeOptions = { quality: q, subsampling: '420', optimizeHuffman: true }
      out.push({ key: `jpeg+map-q${q}`, curve: 'jpeg+map', quality: q, enc, encFor: withMap(enc, map) })
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
        out.push({ key: `${curve}-x${s}`, curve, scale: s, enc, encFor: withMap(enc, map) })
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
