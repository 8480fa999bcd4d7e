/**
 * The capture side of the pipeline: capture → encode (current tables, within the payload limit) → store.append.
 * One frame at a time; a failing camera is logged, counted and retried with backoff, never fatal (RetryingSource,
 * the retry path `deepn calibrate` uses too). Settings changes take effect at the next frame; a change of a key
 * the schema marks `reopensSource` (source, resolution, …) reopens the source between frames. With a keep map
 * (`encoder.keepMap`), every frame also updates the motion field that raises the map's cells where something moves.
 */
import { EventEmitter } from 'node:events'
import type { FrameSource } from '../capture/source'
import { captureOptionsFromConfig } from '../capture/options'
import { RetryingSource } from '../capture/retry'
import type { FrameStore } from '../buffer/store'
import { DiskFullError, StorageError } from '../buffer/errors'
import type { BlockKeepMap, RawImage } from '../../shared/codec/types'
import { SPEC_BY_KEY, type AgentConfig } from '../../shared/config'
import { fullShare, toBlockKeep } from '../../shared/spatial/keep-map'
import { MotionField } from '../../shared/spatial/motion'
import { backoffDelay } from '../backoff'
import { errorMessage, type Logger } from '../log'
import { encodeToFit, OversizeError, type EncodeFn } from './fit'
import { resolveTables, type ResolvedTables } from './tables'
import { reclaimAfterFrame } from './reclaim'
import type { AgentStats } from './stats'

/** The options `createSource` in agent/capture takes. */
export interface SourceOptions {
  source: AgentConfig['capture']['source']
  width: number
  height: number
  files?: { dir: string; loop: boolean }
  timeoutMs?: number
  rpicam?: { mode: 'still' | 'vid' }
  pixelFormat?: 'rgb' | 'yuv420p'
  /** The loop wraps the source in its own RetryingSource (delays following live settings), so this one must not retry. */
  retry?: false
  log?: { debug(msg: string): void; info(msg: string): void; warn(msg: string): void }
}
export type SourceFactory = (options: SourceOptions) => FrameSource

/** A change of one of these keys (marked `reopensSource` in the schema) closes the source, to open it anew. */
const reopensSource = (key: string): boolean => SPEC_BY_KEY.get(key)?.reopensSource === true

export interface CaptureLoopOptions {
  config: AgentConfig
  store: FrameStore
  createSource: SourceFactory
  encode: EncodeFn
  stats: AgentStats
  log: Logger
  /** Largest JPEG (before metadata) the publisher can send; re-read for every frame. */
  payloadLimit: () => number
  /** Sees every captured frame (on-device calibration); must not throw. */
  observe?: (image: RawImage) => void
}

/**
 * Emits 'frame' (seq) after each committed append, 'buffer' (reason | undefined) after each append attempt (why
 * frames were dropped or refused, undefined when none were) and 'done' when capture.maxFrames is reached.
 */
export class CaptureLoop extends EventEmitter {
  private config: AgentConfig
  private tables: ResolvedTables
  private source?: RetryingSource
  private running = false
  private loop?: Promise<void>
  private wake?: () => void
  /** Aborted by stop(): ends a capture or a retry wait in progress. */
  private stopping = new AbortController()
  /** Unexpected errors in a row (bugs, not camera errors), for their backoff. */
  private bugs = 0
  private count = 0
  /** Where frames change, for the keep map; fed only while a map is set. */
  private readonly motion = new MotionField()

  constructor(private readonly o: CaptureLoopOptions) {
    super()
    this.config = o.config
    this.tables = resolveTables(o.config.encoder)
  }

  /** Throws (changing nothing) when the new encoder settings do not resolve, e.g. an unknown table id. */
  reconfigure(next: AgentConfig, changed: string[]): void {
    const tables = changed.some((k) => k.startsWith('encoder.')) ? resolveTables(next.encoder) : this.tables
    this.tables = tables
    this.config = next
    if (changed.some(reopensSource) && this.source) {
      const old = this.source
      this.source = undefined
      old.close().catch((err) => this.o.log.warn(`closing the old source: ${errorMessage(err)}`))
    }
    // new retry delays apply at once: a camera waiting to retry tries again now
    this.source?.setRetry({ minMs: next.capture.retryMinMs, maxMs: next.capture.retryMaxMs })
    this.wake?.()
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.stopping = new AbortController()
    this.loop = this.run()
  }

  /** Stops after the frame in progress is stored (a capture still under way is abandoned: nothing of it was accepted); closes the source. */
  async stop(): Promise<void> {
    this.running = false
    this.wake?.()
    this.stopping.abort()
    await this.loop
    await this.source?.close().catch(() => {})
    this.source = undefined
  }

  private async run(): Promise<void> {
    const { log } = this.o
    while (this.running) {
      const max = this.config.capture.maxFrames
      if (max && this.count >= max) {
        log.info(`captured ${this.count} frames (capture.maxFrames); capture stops, publishing continues`)
        this.emit('done')
        return
      }
      const started = Date.now()
      let ok = false
      try {
        ok = await this.captureOne()
        this.bugs = 0
      } catch (err) {
        // a bug, not a camera error (the source retries those): keep the loop alive and visible
        this.bugs++
        this.o.stats.error(`capture loop: ${errorMessage(err)}`)
        log.error(`capture loop: ${errorMessage(err)}`)
      }
      if (!this.running) break
      const c = this.config.capture
      const delay = this.bugs
        ? backoffDelay(this.bugs - 1, c.retryMinMs, c.retryMaxMs)
        : ok
          ? Math.max(0, c.intervalMs - (Date.now() - started))
          : 0
      if (delay > 0) await this.sleep(delay)
      else await new Promise((r) => setImmediate(r))
    }
  }

  /**
   * One frame: true when it was captured (stored, set aside or refused by a full buffer); false when the source
   * ran out, or was closed by a settings change or stop() before it delivered.
   */
  private async captureOne(): Promise<boolean> {
    const { o } = this
    let image: RawImage | undefined
    const source = (this.source ??= this.openSource())
    try {
      image = await source.capture(this.stopping.signal)
    } catch (err) {
      if ((err as Error)?.name === 'SourceExhaustedError') {
        o.log.info(`capture source exhausted: ${errorMessage(err)}; capture stops, publishing continues`)
        this.running = false
        this.emit('done')
        return false
      }
      if (!this.running || source !== this.source) return false // stopped, or replaced: not a camera failure
      throw err
    }
    const capturedAt = Date.now()
    this.count++
    o.stats.captured++
    try {
      const enc = this.config.encoder
      o.observe?.(image)
      const keep = this.keepFor(image)
      const fit = encodeToFit({
        encode: o.encode,
        image,
        tables: this.tables,
        subsampling: enc.subsampling,
        optimizeHuffman: enc.optimizeHuffman,
        progressive: enc.progressive,
        limit: o.payloadLimit(),
        keep,
      })
      o.stats.recordEncode(fit.encodeMs, fit.jpeg.length)
      o.stats.recordKeepMap(keep?.id, keep?.share ?? 1)
      if (fit.steps) o.log.info(`frame re-encoded ${fit.steps}x coarser (${fit.tableId}) to fit ${o.payloadLimit()} B`)
      const res = o.store.append({
        jpeg: fit.jpeg,
        capturedAt,
        tableId: fit.tableId,
        quantDigest: fit.quantDigest,
        keepMapId: fit.keepMapId,
        width: image.width,
        height: image.height,
      })
      if (res.dropped.length) o.log.debug(`buffer full: dropped ${res.dropped.length} old frame(s)`)
      if (res.seq === undefined) o.log.warn(`frame refused: ${res.reason ?? 'buffer full'}`)
      else this.emit('frame', res.seq)
      this.emit('buffer', res.reason)
    } catch (err) {
      if (err instanceof OversizeError) o.stats.setAside++
      // Stable wording (the message carries counts): `status` changes only when the cause does.
      if (err instanceof DiskFullError)
        this.emit('buffer', "the buffer's filesystem is full (SQLITE_FULL): new frames are not stored")
      else if (err instanceof StorageError)
        this.emit('buffer', `buffer storage error${err.code ? ` (${err.code})` : ''}: new frames are not stored`)
      o.stats.error(errorMessage(err))
      o.log.error(`frame not stored: ${errorMessage(err)}`)
    }
    const rawBytes = image.data.byteLength
    // Encoded and stored (or refused): nothing keeps the raw frame, so the source may draw the next one into it.
    source.release?.(image)
    image = undefined // drop the last reference before collecting
    const enc = this.config.encoder
    reclaimAfterFrame(rawBytes, enc.progressive || enc.optimizeHuffman)
    return true
  }

  /**
   * This frame's coefficient map: `encoder.keepMap` with the cells where something moves raised to
   * `encoder.motionKeep`; undefined without a map (the motion field then forgets its background, so a map set later
   * starts from a fresh one instead of a stale one).
   */
  private keepFor(image: RawImage): { id: string; blockKeep: BlockKeepMap; share: number } | undefined {
    const enc = this.config.encoder
    const map = enc.keepMap
    if (!map) {
      this.motion.reset()
      return undefined
    }
    this.motion.threshold = enc.motionThreshold
    const moving = this.motion.update(image, map.cols, map.rows)
    const blockKeep = toBlockKeep(map, moving, enc.motionKeep)
    return { id: map.id, blockKeep, share: fullShare(blockKeep) }
  }

  /** The camera for the current settings, retried by the one capture retry path; failures feed telemetry. */
  private openSource(): RetryingSource {
    const { o } = this
    const c = this.config.capture
    // A 4:2:0 encoder gets I420 from sources that can give either (half the memory of RGB); 4:4:4 needs RGB.
    const pixelFormat = this.config.encoder.subsampling === '420' ? 'yuv420p' : 'rgb'
    return new RetryingSource(
      () => o.createSource({ ...captureOptionsFromConfig(c, o.log), pixelFormat, retry: false }),
      {
        kind: c.source,
        log: o.log,
        minMs: c.retryMinMs,
        maxMs: c.retryMaxMs,
        // the sources time out by themselves after capture.timeoutMs; this catches one that does not
        attemptTimeoutMs: c.timeoutMs + 1000,
        onError: (err) => {
          o.stats.captureErrors++
          o.stats.error(`capture: ${errorMessage(err)}`)
        },
      },
    )
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms)
      function done(): void {
        clearTimeout(t)
        resolve()
      }
      this.wake = () => {
        this.wake = undefined
        done()
      }
    })
  }
}
