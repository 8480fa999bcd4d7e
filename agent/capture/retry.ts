import type { RawImage } from '../../shared/codec/types'
import { CaptureAbortedError, SourceExhaustedError } from './errors'
import type { CaptureLogger, RetryOptions } from './options'
import type { FrameSource } from './source'

/** Delay before retry number `failures` (1-based): capped exponential, "equal jitter" (half fixed, half random). */
export function backoffDelay(failures: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, minMs * 2 ** Math.min(failures - 1, 30))
  return Math.round(exp / 2 + random() * (exp / 2))
}

export interface RetryingSourceOptions extends RetryOptions {
  log: CaptureLogger
  /** Every failed attempt, e.g. for telemetry's "last error". */
  onError?: (err: Error, failures: number) => void
  random?: () => number
}

/**
 * Retries a failing camera with capped exponential backoff and jitter, logging each failure; capture() settles
 * only with a whole frame, or with SourceExhaustedError / an abort (never retried), or with the last error after
 * `maxAttempts` consecutive failures. Closing the source ends a pending backoff wait.
 */
export class RetryingSource implements FrameSource {
  private failures = 0
  private closed = false
  private readonly closing = new AbortController()
  /** The most recent capture error (cleared by nothing: telemetry reports it until the next one). */
  lastError: Error | null = null

  constructor(readonly inner: FrameSource, private readonly opts: RetryingSourceOptions) {}

  get kind(): string { return this.inner.kind }
  /** Consecutive failures so far (0 after a success). */
  get consecutiveFailures(): number { return this.failures }

  async capture(signal?: AbortSignal): Promise<RawImage> {
    const minMs = this.opts.minMs ?? 500
    const maxMs = this.opts.maxMs ?? 30000
    const maxAttempts = this.opts.maxAttempts ?? Infinity
    let attempts = 0
    for (;;) {
      if (this.closed) throw new CaptureAbortedError(`${this.kind}: source closed`)
      try {
        const img = await this.inner.capture(signal)
        if (this.failures > 0) this.opts.log.info(`${this.kind}: capture recovered after ${this.failures} failure(s)`)
        this.failures = 0
        return img
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e))
        if (err instanceof SourceExhaustedError || err instanceof CaptureAbortedError || signal?.aborted || this.closed) throw err
        this.failures++
        attempts++
        this.lastError = err
        this.opts.onError?.(err, this.failures)
        if (attempts >= maxAttempts) {
          this.opts.log.warn(`${this.kind}: capture failed (${this.failures} in a row), giving up after ${attempts} attempts: ${err.message}`)
          throw err
        }
        const delay = backoffDelay(this.failures, minMs, maxMs, this.opts.random)
        this.opts.log.warn(`${this.kind}: capture failed (${this.failures} in a row), retrying in ${delay} ms: ${err.message}`)
        await sleep(delay, signal, this.closing.signal)
      }
    }
  }

  release(image: RawImage): void {
    this.inner.release?.(image)
  }

  async close(): Promise<void> {
    this.closed = true
    this.closing.abort()
    await this.inner.close()
  }
}

function sleep(ms: number, ...signals: (AbortSignal | undefined)[]): Promise<void> {
  return new Promise((resolve) => {
    const live = signals.filter((s): s is AbortSignal => s !== undefined)
    if (live.some((s) => s.aborted)) return resolve()
    const wake = (): void => { clearTimeout(timer); for (const s of live) s.removeEventListener('abort', wake); resolve() }
    const timer = setTimeout(wake, ms)
    for (const s of live) s.addEventListener('abort', wake, { once: true })
  })
}
