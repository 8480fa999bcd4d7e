/**
 * One calibration at a time inside a running agent: the capture loop calls `observe(frame)` for every frame it
 * encodes (a no-op while idle), a remote request or a command calls `start(...)`, and `onDone` receives the table
 * and σ report when N frames / T seconds are reached. Pure of MQTT: the caller publishes the result.
 */
import type { RawImage } from '../../shared/codec/types'
import type { CalibrationCollector, CalibrationOptions, CalibrationResult } from './collector'

export class CalibrationBusyError extends Error {
  constructor(frames: number) {
    super(`a calibration is already running (${frames} frames collected); cancel it first`)
    this.name = 'CalibrationBusyError'
  }
}

export class CalibrationSession {
  private collector?: CalibrationCollector
  private onDone?: (r: CalibrationResult) => void
  private onError?: (err: Error) => void

  get active(): boolean {
    return this.collector !== undefined
  }

  /** Frames collected by the running calibration (0 when idle). */
  get frames(): number {
    return this.collector?.frames ?? 0
  }

  start(opts: CalibrationOptions, onDone: (r: CalibrationResult) => void, onError?: (err: Error) => void): void {
    if (this.collector) throw new CalibrationBusyError(this.collector.frames)
    // Loaded on the first calibration: the collector and its DCT statistics are a few hundred KB of heap that a
    // plain run, which may never calibrate, would otherwise carry (test/agent/plain-run-modules.test.ts).
    const { CalibrationCollector: Collector } = require('./collector') as typeof import('./collector')
    this.collector = new Collector(opts) // validates opts before anything is armed
    this.onDone = onDone
    this.onError = onError
  }

  /** Feeds one encoded frame; never throws into the capture loop (a bad frame ends the calibration via onError). */
  observe(image: RawImage): void {
    const c = this.collector
    if (!c) return
    let result: CalibrationResult
    try {
      if (!c.add(image)) return
      result = c.result()
    } catch (err) {
      const onError = this.onError
      this.reset()
      onError?.(err instanceof Error ? err : new Error(String(err)))
      return
    }
    const onDone = this.onDone!
    this.reset()
    onDone(result)
  }

  /** Stops collecting; returns what was collected so far, if anything. */
  cancel(): CalibrationResult | undefined {
    const c = this.collector
    this.reset()
    return c && c.frames > 0 ? c.result() : undefined
  }

  private reset(): void {
    this.collector = undefined
    this.onDone = undefined
    this.onError = undefined
  }
}
