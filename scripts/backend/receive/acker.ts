/**
 * End-to-end acknowledgments: tells each agent the highest seq through which every frame is durably on disk,
 * so it can drop them from its buffer. Throttled (at most one ack per device per interval, or sooner after
 * `everyFrames` frames) because the agent only needs the latest value.
 *
 * Not retained, on purpose: a retained ack would outlive the dataset it speaks for (a receiver started on a new
 * folder, or a second receiver) and make an agent delete frames nobody stored. Duplicates re-trigger the ack
 * instead, so an agent that missed one (offline, restarted) resends, gets its duplicates refused and the ack
 * repeated, and then deletes.
 */
export interface AckerOptions {
  publish: (deviceId: string, seq: number) => void
  /** Longest an ack waits after the frame that earned it. */
  intervalMs: number
  /** Ack at once after this many frames since the last ack. */
  everyFrames: number
}

export class Acker {
  private readonly pending = new Map<string, { seq: number; frames: number }>()
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly opts: AckerOptions) {}

  /** Records that every seq of `deviceId` through `seq` is durable (called after each stored or duplicate frame). */
  update(deviceId: string, seq: number | undefined): void {
    if (seq === undefined) return
    const p = this.pending.get(deviceId)
    const next = { seq: Math.max(seq, p?.seq ?? seq), frames: (p?.frames ?? 0) + 1 }
    this.pending.set(deviceId, next)
    if (next.frames >= this.opts.everyFrames) {
      this.send(deviceId)
      return
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined
      this.flush()
    }, this.opts.intervalMs)
  }

  /** Publishes every pending ack now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    for (const deviceId of [...this.pending.keys()]) this.send(deviceId)
  }

  private send(deviceId: string): void {
    const p = this.pending.get(deviceId)
    if (!p) return
    this.pending.delete(deviceId)
    this.opts.publish(deviceId, p.seq)
  }
}
