/**
 * fdatasync calls on one file, coalesced: each caller waits for a sync that started after its call. While one
 * runs, the callers that come meanwhile share the next one, started when it ends. A file appended to in quick
 * batches then pays about one sync per sync's duration, not one per batch: concurrent fdatasyncs of one file
 * queue in the filesystem anyway, and each costs CPU of its own.
 */
export class CoalescedSync {
  private running: Promise<void> | undefined
  private queued: Promise<void> | undefined

  constructor(private readonly sync: () => Promise<void>) {}

  /** Resolves once what was written before this call is durable; rejects if the sync covering it failed. */
  request(): Promise<void> {
    if (!this.running) return this.start()
    this.queued ??= this.running.then(
      () => this.startQueued(),
      () => this.startQueued(),
    )
    return this.queued
  }

  private startQueued(): Promise<void> {
    this.queued = undefined
    return this.start()
  }

  private start(): Promise<void> {
    const sync = this.sync()
    this.running = sync
    const clear = (): void => {
      if (this.running === sync) this.running = undefined
    }
    sync.then(clear, clear)
    return sync
  }
}
