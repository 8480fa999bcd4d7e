/**
 * Classification of stored frames, off the acknowledgement path: a frame is PUBACKed once durable, whatever the
 * model is doing. A few frames are classified at once (decoding runs in libuv's threadpool while the model runs
 * another frame); results are delivered in the order the frames were queued. `size` bounds the backlog: the
 * receiver stops reading from the broker while it is full, so a slow model cannot grow memory without bound.
 */

/** A classification: runs, then resolves with what to do with its result (publish, count, or log its failure); never rejects. */
export type ClassifyTask = () => Promise<() => void>

/** Frames decoded/classified at once: one on the model, the next ones decoding. */
const CONCURRENCY = 3

export class ClassifyQueue {
  private readonly queue: Array<{ task: ClassifyTask; result?: Promise<() => void> }> = []
  private running = 0
  private delivering = false
  private idle: Array<() => void> = []

  /** `onProgress` runs each time a result is delivered (the backlog shrank). */
  constructor(private readonly onProgress: () => void) {}

  /** Queued and not yet delivered. */
  get size(): number {
    return this.queue.length
  }

  push(task: ClassifyTask): void {
    this.queue.push({ task })
    this.start()
  }

  /** Resolves once every queued classification has been delivered. */
  drained(): Promise<void> {
    if (this.queue.length === 0) return Promise.resolve()
    return new Promise((resolve) => this.idle.push(resolve))
  }

  private start(): void {
    for (const item of this.queue) {
      if (this.running >= CONCURRENCY) break
      if (item.result) continue
      this.running++
      item.result = item.task()
      void item.result.finally(() => {
        this.running--
        this.start()
      })
    }
    void this.deliver()
  }

  private async deliver(): Promise<void> {
    if (this.delivering) return
    this.delivering = true
    try {
      while (this.queue.length > 0 && this.queue[0].result) {
        const finish = await this.queue[0].result
        this.queue.shift()
        finish()
        this.onProgress()
      }
    } finally {
      this.delivering = false
    }
    if (this.queue.length === 0) for (const resolve of this.idle.splice(0)) resolve()
  }
}
