/**
 * On-device calibration: accumulates the DCT statistics of the frames the agent encodes (shared/deepn's streaming
 * σ accumulators fed by shared/codec's block hook, after exactly the encoder's colour conversion and subsampling)
 * for N frames or T seconds, whichever comes first, then builds a DeepN table for what this camera actually sees
 * and a σ report the backend can use (e.g. as the start of a model-aware optimisation). Constant memory in the
 * number of frames; no MQTT, no files: the caller decides where frames come from and where the result goes.
 */
import type { RawImage, Subsampling, TableFile } from '../../shared/codec/types'
import { Calibration } from '../../shared/deepn/calibration'
import type { PlmParams } from '../../shared/deepn/plm'
import { deepnTableFile } from '../../shared/deepn/table-file'

export interface CalibrationOptions {
  /** Stop after this many frames (default 100). */
  frames?: number
  /** ... or after this many seconds since the first frame, whichever comes first (default: no time limit). */
  seconds?: number
  /** Must match the encoder's `encoder.subsampling`, so chroma statistics describe the blocks it quantizes. */
  subsampling?: Subsampling
  /** Id of the table built (default `calibrated-<deviceId or 'device'>`). */
  id?: string
  deviceId?: string
  plm?: Partial<PlmParams>
  scale?: number
  /** Clock in ms (injectable for tests; default Date.now). */
  now?: () => number
}

/** The σ matrices and what they were measured on: what a device reports to the backend. */
export interface CalibrationReport {
  deviceId?: string
  frames: number
  seconds: number
  width: number
  height: number
  format: string
  subsampling: Subsampling
  lumaBlocks: number
  lumaSigma: number[]
  lumaMean: number[]
  chromaBlocks?: number
  chromaSigma?: number[]
  chromaMean?: number[]
}

export interface CalibrationResult {
  table: TableFile
  report: CalibrationReport
}

const round3 = (v: number) => Math.round(v * 1000) / 1000

export class CalibrationCollector {
  private readonly calib: Calibration
  private readonly maxFrames: number
  private readonly maxMs: number
  private readonly now: () => number
  private started?: number
  private last?: number
  private shape?: { width: number; height: number; format: string }

  constructor(private readonly opts: CalibrationOptions = {}) {
    const frames = opts.frames ?? 100
    if (!(Number.isInteger(frames) && frames >= 1))
      throw new RangeError(`calibration frames must be an integer >= 1, got ${opts.frames}`)
    if (opts.seconds !== undefined && !(opts.seconds > 0 && Number.isFinite(opts.seconds)))
      throw new RangeError(`calibration seconds must be > 0, got ${opts.seconds}`)
    this.maxFrames = frames
    this.maxMs = opts.seconds === undefined ? Infinity : opts.seconds * 1000
    this.now = opts.now ?? Date.now
    this.calib = new Calibration(opts.subsampling ?? '420')
  }

  /** Frames accumulated so far. */
  get frames(): number {
    return this.calib.images
  }

  /** True once N frames were seen or T seconds passed since the first frame. */
  get done(): boolean {
    if (this.calib.images >= this.maxFrames) return true
    return this.started !== undefined && this.now() - this.started >= this.maxMs
  }

  /** Adds one frame (any encoder pixel format); returns `done`. Frames after completion are ignored. */
  add(image: RawImage): boolean {
    if (this.done) return true
    const t = this.now()
    this.started ??= t
    this.calib.addImage(image) // validates the frame, naming what is wrong
    this.last = t
    this.shape ??= { width: image.width, height: image.height, format: image.format }
    return this.done
  }

  /** The DeepN table and σ report from what was collected (callable before `done`, e.g. on a stop request). */
  result(): CalibrationResult {
    if (!this.shape || this.calib.images === 0)
      throw new Error('calibration collected no frames: nothing to build a table from')
    const seconds = this.started !== undefined && this.last !== undefined ? (this.last - this.started) / 1000 : 0
    const stats = this.calib.stats(
      `${this.opts.deviceId ?? 'device'} camera, ${this.calib.images} frames ${this.shape.width}x${this.shape.height} ${this.shape.format}`,
    )
    const id = this.opts.id ?? `calibrated-${this.opts.deviceId ?? 'device'}`
    const table = deepnTableFile(stats, {
      id,
      plm: this.opts.plm,
      scale: this.opts.scale,
      extra: { calibratedOn: 'device', frames: this.calib.images, seconds },
    })
    const chroma = this.calib.chroma.count > 0
    const report: CalibrationReport = {
      ...(this.opts.deviceId ? { deviceId: this.opts.deviceId } : {}),
      frames: this.calib.images,
      seconds,
      ...this.shape,
      subsampling: this.calib.subsampling,
      lumaBlocks: stats.lumaBlocks,
      lumaSigma: stats.lumaSigma.map(round3),
      lumaMean: this.calib.luma.mean().map(round3),
      ...(chroma
        ? {
            chromaBlocks: this.calib.chroma.count,
            chromaSigma: this.calib.chroma.sigma().map(round3),
            chromaMean: this.calib.chroma.mean().map(round3),
          }
        : {}),
    }
    return { table, report }
  }
}
