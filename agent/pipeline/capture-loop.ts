/**
 * The capture side of the pipeline: capture → encode (current tables, within the payload limit) → store.append.
 * One frame at a time; a failing camera is logged, counted and retried with backoff, never fatal. Settings changes
 * take effect at the next frame; a change of source or resolution reopens the source between frames.
 */
import { EventEmitter } from 'node:events'
import type { FrameSource } from '../capture/source'
import { captureOptionsFromConfig } from '../capture/options'
import type { FrameStore } from '../buffer/store'
import { DiskFullError, StorageError } from '../buffer/errors'
import type { RawImage } from '../../shared/codec/types'
import type { AgentConfig } from '../../shared/config'
import { backoffDelay } from '../mqtt/backoff'
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
  /** The loop retries with its own backoff, so the source must not. */
  retry?: false
  log?: { debug(msg: string): void; info(msg: string): void; warn(msg: string): void }
}
export type SourceFactory = (options: SourceOptions) => FrameSource

const SOURCE_KEYS = ['capture.source', 'capture.width', 'capture.height', 'capture.filesDir', 'capture.filesLoop', 'capture.rpicamMode', 'capture.rpicamFramerate', 'capture.rpicamStride', 'capture.warmupMs', 'capture.timeoutMs']

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
  private source?: FrameSource
  private running = false
  private loop?: Promise<void>
  private wake?: () => void
  private abort?: AbortController
  private failures = 0
  private count = 0

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
    if (changed.some((k) => SOURCE_KEYS.includes(k)) && this.source) {
      const old = this.source
      this.source = undefined
      old.close().catch((err) => this.o.log.warn(`closing the old source: ${errorMessage(err)}`))
    }
    this.wake?.()
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.loop = this.run()
  }

  /** Stops after the frame in progress is stored; closes the source. */
  async stop(): Promise<void> {
    this.running = false
    this.wake?.()
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
      } catch (err) { // a bug, not a camera error: keep the loop alive and visible
        this.failures++
        this.o.stats.error(`capture loop: ${errorMessage(err)}`)
        log.error(`capture loop: ${errorMessage(err)}`)
      }
      if (!this.running) break
      const c = this.config.capture
      const delay = ok ? Math.max(0, c.intervalMs - (Date.now() - started)) : backoffDelay(this.failures - 1, c.retryMinMs, c.retryMaxMs)
      if (delay > 0 || !ok) await this.sleep(delay)
      else await new Promise((r) => setImmediate(r))
    }
  }

  /** One frame: true when it was captured (stored, set aside or refused by a full buffer), false on camera error. */
  private async captureOne(): Promise<boolean> {
    const { o } = this
    const c = this.config.capture
    let image: RawImage | undefined
    let source: FrameSource | undefined
    try {
      source = this.source ??= o.createSource({ ...captureOptionsFromConfig(c, o.log), retry: false })
      this.abort = new AbortController()
      const timer = setTimeout(() => this.abort?.abort(new Error(`capture timed out after ${c.timeoutMs} ms`)), c.timeoutMs + 1000)
      try {
        image = await source.capture(this.abort.signal)
      } finally {
        clearTimeout(timer)
      }
    } catch (err) {
      if ((err as Error)?.name === 'SourceExhaustedError') {
        o.log.info(`capture source exhausted: ${errorMessage(err)}; capture stops, publishing continues`)
        this.running = false
        this.emit('done')
        return false
      }
      this.failures++
      o.stats.captureErrors++
      o.stats.error(`capture: ${errorMessage(err)}`)
      o.log.warn(`capture failed (${this.failures} in a row): ${errorMessage(err)}`)
      if (this.failures >= 3 && this.source) { // a wedged camera process gets a fresh start
        const old = this.source
        this.source = undefined
        await old.close().catch(() => {})
      }
      return false
    }
    this.failures = 0
    const capturedAt = Date.now()
    this.count++
    o.stats.captured++
    try {
      const enc = this.config.encoder
      o.observe?.(image)
      const fit = encodeToFit({ encode: o.encode, image, tables: this.tables, subsampling: enc.subsampling, optimizeHuffman: enc.optimizeHuffman, limit: o.payloadLimit() })
      o.stats.recordEncode(fit.encodeMs, fit.jpeg.length)
      if (fit.steps) o.log.info(`frame re-encoded ${fit.steps}x coarser (${fit.tableId}) to fit ${o.payloadLimit()} B`)
      const res = o.store.append({ jpeg: fit.jpeg, capturedAt, tableId: fit.tableId, quantDigest: fit.quantDigest, width: image.width, height: image.height })
      if (res.dropped.length) o.log.debug(`buffer full: dropped ${res.dropped.length} old frame(s)`)
      if (res.seq === undefined) o.log.warn(`frame refused: ${res.reason ?? 'buffer full'}`)
      else this.emit('frame', res.seq)
      this.emit('buffer', res.reason)
    } catch (err) {
      if (err instanceof OversizeError) o.stats.setAside++
      // Stable wording (the message carries counts): `status` changes only when the cause does.
      if (err instanceof DiskFullError) this.emit('buffer', "the buffer's filesystem is full (SQLITE_FULL): new frames are not stored")
      else if (err instanceof StorageError) this.emit('buffer', `buffer storage error${err.code ? ` (${err.code})` : ''}: new frames are not stored`)
      o.stats.error(errorMessage(err))
      o.log.error(`frame not stored: ${errorMessage(err)}`)
    }
    const rawBytes = image.data.byteLength
    // Encoded and stored (or refused): nothing keeps the raw frame, so the source may draw the next one into it.
    source.release?.(image)
    image = undefined // drop the last reference before collecting
    reclaimAfterFrame(rawBytes)
    return true
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms)
      function done(): void { clearTimeout(t); resolve() }
      this.wake = () => { this.wake = undefined; done() }
    })
  }
}
