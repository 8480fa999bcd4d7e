/**
 * The one capture retry path, for `deepn run` (the capture loop) and `deepn calibrate` alike: a failing camera is
 * logged, reported through `onError` and retried with the agent's backoff (agent/backoff.ts); after `reopenAfter`
 * failures in a row the source is closed and opened anew, so a wedged camera process gets a fresh start. With
 * `maxAttempts` it gives up with the last error (calibrate must end); without, it never does (run: a camera
 * problem is never fatal).
 */
import type { RawImage } from '../../shared/codec/types'
import { backoffDelay } from '../backoff'
import { CaptureAbortedError, SourceExhaustedError } from './errors'
import type { CaptureLogger, RetryOptions } from './options'
import type { FrameSource } from './source'

export interface RetryingSourceOptions extends RetryOptions {
  /** Names the camera in log lines while no source is open (an open source's own kind is used). */
  kind: string
  log: CaptureLogger
  /** Every failed attempt, e.g. for telemetry's error count and "last error". */
  onError?: (err: Error, failures: number) => void
  /**
   * One attempt taking longer is aborted and counted as a failure: a backstop for a source whose own timeout
   * does not fire (the camera sources time out by themselves after `capture.timeoutMs`).
   */
  attemptTimeoutMs?: number
  random?: () => number
}

/**
 * A FrameSource that opens its source through `openSource` (lazily, or at once with openNow) and retries it.
 * capture() settles only with a whole frame, or with SourceExhaustedError / an abort through its signal or close()
 * (never retried), or with the last error after `maxAttempts` consecutive failures. Closing ends a pending wait.
 */
export class RetryingSource implements FrameSource {
  private inner?: FrameSource
  private failures = 0
  private closed = false
  private readonly closing = new AbortController()
  /** Aborted by setRetry: ends the current backoff wait early. */
  private waking = new AbortController()
  private readonly retry: Required<Omit<RetryOptions, 'maxAttempts'>> & Pick<RetryOptions, 'maxAttempts'>
  /** The most recent capture error (telemetry reports it until the next one). */
  lastError: Error | null = null

  constructor(
    private readonly openSource: () => FrameSource,
    private readonly opts: RetryingSourceOptions,
  ) {
    this.retry = {
      minMs: opts.minMs ?? 500,
      maxMs: opts.maxMs ?? 30000,
      maxAttempts: opts.maxAttempts,
      reopenAfter: opts.reopenAfter ?? 3,
    }
  }

  get kind(): string {
    return this.inner?.kind ?? this.opts.kind
  }
  /** Consecutive failures so far (0 after a success). */
  get consecutiveFailures(): number {
    return this.failures
  }

  /** Opens the source now if it is not open: a missing camera tool then fails at start-up instead of being retried. */
  openNow(): void {
    this.inner ??= this.openSource()
  }

  /** New delays (a live settings change): a pending wait ends at once, and later failures wait by them. */
  setRetry(retry: Pick<RetryOptions, 'minMs' | 'maxMs'>): void {
    if (retry.minMs !== undefined) this.retry.minMs = retry.minMs
    if (retry.maxMs !== undefined) this.retry.maxMs = retry.maxMs
    this.waking.abort()
  }

  async capture(signal?: AbortSignal): Promise<RawImage> {
    let attempts = 0
    for (;;) {
      if (this.closed) throw new CaptureAbortedError(`${this.kind}: source closed`)
      if (signal?.aborted) throw new CaptureAbortedError(`${this.kind}: capture aborted`)
      try {
        const img = await this.attempt(signal)
        if (this.failures > 0) this.opts.log.info(`${this.kind}: capture recovered after ${this.failures} failure(s)`)
        this.failures = 0
        return img
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e))
        if (err instanceof SourceExhaustedError || err instanceof CaptureAbortedError || signal?.aborted || this.closed)
          throw err
        this.failures++
        attempts++
        this.lastError = err
        this.opts.onError?.(err, this.failures)
        if (attempts >= (this.retry.maxAttempts ?? Infinity)) {
          this.opts.log.warn(
            `${this.kind}: capture failed (${this.failures} in a row), giving up after ${attempts} attempts: ${err.message}`,
          )
          throw err
        }
        const delay = backoffDelay(this.failures - 1, this.retry.minMs, this.retry.maxMs, this.opts.random)
        this.opts.log.warn(
          `${this.kind}: capture failed (${this.failures} in a row), retrying in ${delay} ms: ${err.message}`,
        )
        if (this.failures >= this.retry.reopenAfter) await this.reopen()
        this.waking = new AbortController()
        await sleep(delay, signal, this.closing.signal, this.waking.signal)
      }
    }
  }

  /** One try: opens the source if needed; a timed-out try rejects with a plain Error (a failure, not an abort). */
  private async attempt(signal?: AbortSignal): Promise<RawImage> {
    this.inner ??= this.openSource()
    const limit = this.opts.attemptTimeoutMs
    if (limit === undefined) return this.inner.capture(signal)
    const timer = new AbortController()
    const t = setTimeout(() => timer.abort(), limit)
    try {
      return await this.inner.capture(signal ? AbortSignal.any([signal, timer.signal]) : timer.signal)
    } catch (err) {
      if (timer.signal.aborted && !signal?.aborted) throw new Error(`${this.kind}: capture timed out after ${limit} ms`)
      throw err
    } finally {
      clearTimeout(t)
    }
  }

  private async reopen(): Promise<void> {
    const old = this.inner
    this.inner = undefined
    this.opts.log.info(`${this.kind}: ${this.failures} failures in a row: the source is opened anew for the next try`)
    await old
      ?.close()
      .catch((err) => this.opts.log.warn(`${this.kind}: closing the failed source: ${(err as Error).message}`))
  }

  release(image: RawImage): void {
    this.inner?.release?.(image)
  }

  async close(): Promise<void> {
    this.closed = true
    this.closing.abort()
    await this.inner?.close()
  }
}

function sleep(ms: number, ...signals: (AbortSignal | undefined)[]): Promise<void> {
  return new Promise((resolve) => {
    const live = signals.filter((s): s is AbortSignal => s !== undefined)
    if (live.some((s) => s.aborted)) return resolve()
    const wake = (): void => {
      clearTimeout(timer)
      for (const s of live) s.removeEventListener('abort', wake)
      resolve()
    }
    const timer = setTimeout(wake, ms)
    for (const s of live) s.addEventListener('abort', wake, { once: true })
  })
}
