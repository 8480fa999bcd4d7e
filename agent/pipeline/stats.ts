/** Counters and timing samples behind the telemetry message. */
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

  constructor(private readonly window = 256) {}

  recordEncode(ms: number, bytes: number): void {
    this.bytesEncoded += bytes
    if (this.encodeMs.length < this.window) this.encodeMs.push(ms)
    else this.encodeMs[this.next] = ms
    this.next = (this.next + 1) % this.window
  }

  error(message: string): void {
    this.lastError = { at: new Date().toISOString(), message }
  }

  /** Nearest-rank percentile of the recent encode times, in ms (undefined before the first frame). */
  encodePercentile(p: number): number | undefined {
    if (!this.encodeMs.length) return undefined
    const sorted = [...this.encodeMs].sort((a, b) => a - b)
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]
  }

  meanBytesPerFrame(): number | undefined {
    return this.captured ? Math.round(this.bytesEncoded / this.captured) : undefined
  }
}
