/** Counters and timing samples behind the telemetry message. */
import { isoTime } from '../../shared/contract/time'

/** Encode times kept for the frame rate: a minute at 17 frames/s; faster, the window shrinks to these. */
const RATE_SAMPLES = 1024

const rate = (frames: number, ms: number): number => (ms > 0 ? Math.round((frames / ms) * 100000) / 100 : 0)

export class AgentStats {
  captured = 0
  captureErrors = 0
  published = 0
  /** Frames set aside unpublished: too big for the payload limit even re-encoded, or failing to publish repeatedly. */
  setAside = 0
  /** Publishes that failed while the link stayed up. */
  publishErrors = 0
  /** Buffer database files found corrupt while running, moved aside and replaced. */
  bufferRecoveries = 0
  /** Frames known lost with a damaged buffer (corrupt file moved aside); also announced on `events/loss`. */
  lostFrames = 0
  bytesEncoded = 0
  lastError?: { at: string; message: string }
  readonly startedAt = Date.now()
  private readonly encodeMs: number[] = []
  private next = 0
  /** When the last frames were encoded (ring, oldest at `nextAt`): the frame rate without a timer. */
  private readonly encodedAt: number[] = []
  private nextAt = 0
  /** The keep map of the last frame and its full-cell shares over the recent frames encoded with it (ring). */
  private keep?: { id: string; shares: number[]; next: number }

  constructor(private readonly window = 256) {}

  recordEncode(ms: number, bytes: number, now = Date.now()): void {
    this.bytesEncoded += bytes
    if (this.encodedAt.length < RATE_SAMPLES) this.encodedAt.push(now)
    else this.encodedAt[this.nextAt] = now
    this.nextAt = (this.nextAt + 1) % RATE_SAMPLES
    if (this.encodeMs.length < this.window) this.encodeMs.push(ms)
    else this.encodeMs[this.next] = ms
    this.next = (this.next + 1) % this.window
  }

  /** One encoded frame's keep map id (undefined: none) and the share of its cells kept in full. */
  recordKeepMap(id: string | undefined, share: number): void {
    if (id === undefined) {
      this.keep = undefined
      return
    }
    if (this.keep?.id !== id) this.keep = { id, shares: [], next: 0 }
    const k = this.keep
    if (k.shares.length < this.window) k.shares.push(share)
    else k.shares[k.next] = share
    k.next = (k.next + 1) % this.window
  }

  /** The keep map in use and the mean share (0..1, 3 decimals) of cells kept in full over its recent frames. */
  keepMapReport(): { id: string; fullShare: number } | undefined {
    const k = this.keep
    if (!k?.shares.length) return undefined
    const mean = k.shares.reduce((a, b) => a + b, 0) / k.shares.length
    return { id: k.id, fullShare: Math.round(mean * 1000) / 1000 }
  }

  error(message: string): void {
    this.lastError = { at: isoTime(Date.now()), message }
  }

  /** Nearest-rank percentile of the recent encode times, in ms (undefined before the first frame). */
  encodePercentile(p: number): number | undefined {
    if (!this.encodeMs.length) return undefined
    const sorted = [...this.encodeMs].sort((a, b) => a - b)
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]
  }

  /**
   * Frames encoded per second over the last `windowMs` (less since the start, or since the oldest sample kept when
   * more than RATE_SAMPLES frames fell in the window), 2 decimals. Computed when asked: no timer.
   */
  framesPerSec(now = Date.now(), windowMs = 60000): number {
    const from = now - windowMs
    let count = 0
    let oldest = Infinity
    for (const at of this.encodedAt) {
      if (at > from && at <= now) {
        count++
        oldest = Math.min(oldest, at)
      }
    }
    // Every sample kept is in the window: frames were dropped from the ring, so count intervals since the oldest.
    if (this.encodedAt.length === RATE_SAMPLES && count === RATE_SAMPLES) return rate(count - 1, now - oldest)
    return rate(count, Math.min(windowMs, now - this.startedAt))
  }

  meanBytesPerFrame(): number | undefined {
    return this.captured ? Math.round(this.bytesEncoded / this.captured) : undefined
  }
}
