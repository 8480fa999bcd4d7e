/**
 * RecoveringFrameStore: keeps the queue moving when the buffer file goes bad while the agent runs. A damaged file
 * makes every call of the SqliteFrameStore throw CorruptDatabaseError forever; this decorator then closes it, calls
 * openFrameStore again with the same options (which moves the file aside, never deleting it, and starts a fresh
 * database above every seq used so far), re-applies the last setLimits, reports the recovery and retries the call
 * once on the fresh store, so an append does not lose its frame. Every other error passes through unchanged.
 */
import { CorruptDatabaseError } from './errors'
import type { BufferLoss } from './loss'
import { openFrameStore } from './open'
import type { SqliteFrameStoreOptions } from './sqlite-store'
import type { AppendResult, BufferLimits, BufferStats, FrameStore, NewFrame, StoredFrame } from './store'

export interface RecoveryInfo {
  /** Recoveries by this store so far, this one included. */
  count: number
  /** The call that met the corruption (`append`, `peek`, ...). */
  during: string
  /** The CorruptDatabaseError's message. */
  reason: string
  /** Where the damaged files went (empty when the reopened file passed its integrity check and was kept). */
  movedTo: string[]
  /** The highest seq still readable from the damaged file (0 if none). */
  salvagedSeq: number
  /** The frames lost with it and the seqs skipped (pending in the fresh store for `events/loss`). */
  loss?: BufferLoss
}

export interface RecoveringFrameStoreOptions {
  /** The store openFrameStore returned for `open`. */
  store: FrameStore
  /** The options that store was opened with; used again to reopen. */
  open: SqliteFrameStoreOptions
  /** Called after each recovery (telemetry). */
  onRecovered?: (info: RecoveryInfo) => void
  /** One line per recovery; default `open.log`. */
  log?: (message: string) => void
}

export class RecoveringFrameStore implements FrameStore {
  private inner: FrameStore
  private limits?: BufferLimits
  /** Set while the store is closed after a corruption and reopening has failed: the next call tries again. */
  private pending?: { during: string; err: CorruptDatabaseError }
  private count = 0
  private readonly log: (message: string) => void

  constructor(private readonly options: RecoveringFrameStoreOptions) {
    this.inner = options.store
    this.log = options.log ?? options.open.log ?? (() => {})
  }

  /** Recoveries so far. */
  get recoveries(): number {
    return this.count
  }

  append(frame: NewFrame): AppendResult {
    return this.call('append', (s) => s.append(frame))
  }
  peek(limit: number, afterSeq?: number): StoredFrame[] {
    return this.call('peek', (s) => s.peek(limit, afterSeq))
  }
  remove(seq: number): void {
    this.call('remove', (s) => s.remove(seq))
  }
  removeThrough(seq: number): number {
    return this.call('removeThrough', (s) => s.removeThrough(seq))
  }
  expire(now: number): number[] {
    return this.call('expire', (s) => s.expire(now))
  }
  stats(): BufferStats {
    return this.call('stats', (s) => s.stats())
  }
  pendingLosses(): BufferLoss[] {
    return this.call('pendingLosses', (s) => s.pendingLosses())
  }
  settleLoss(loss: BufferLoss): void {
    this.call('settleLoss', (s) => s.settleLoss(loss))
  }

  setLimits(limits: BufferLimits): void {
    this.call('setLimits', (s) => s.setLimits(limits))
    this.limits = limits // only once the store accepted them
  }

  /** Closes the current store; no recovery (a store closed after a failed reopen is already closed). */
  close(): void {
    this.pending = undefined
    this.inner.close()
  }

  private call<T>(during: string, fn: (store: FrameStore) => T): T {
    if (this.pending) this.reopen(this.pending.during, this.pending.err)
    try {
      return fn(this.inner)
    } catch (err) {
      if (!(err instanceof CorruptDatabaseError)) throw err
      try {
        this.inner.close()
      } catch (closeErr) {
        this.log(`frame buffer: closing the damaged store failed too: ${(closeErr as Error).message}`)
      }
      this.pending = { during, err }
      this.reopen(during, err)
      return fn(this.inner) // once: a second corruption right away is reported to the caller
    }
  }

  /** Throws (leaving `pending` set) if openFrameStore fails, e.g. the directory became unwritable. */
  private reopen(during: string, err: CorruptDatabaseError): void {
    const opened = openFrameStore(this.options.open)
    if (this.limits) opened.store.setLimits(this.limits)
    this.inner = opened.store
    this.pending = undefined
    const info: RecoveryInfo = {
      count: ++this.count,
      during,
      reason: err.message,
      movedTo: opened.recovered?.movedTo ?? [],
      salvagedSeq: opened.recovered?.salvagedSeq ?? 0,
    }
    if (opened.loss) info.loss = opened.loss
    this.log(
      `frame buffer: database went bad during ${during} (${err.message}); ` +
        (info.movedTo.length > 0
          ? `moved aside to ${info.movedTo.join(', ')} and started a fresh one`
          : 'reopened it (it passed the integrity check)') +
        ` (recovery #${info.count})`,
    )
    this.options.onRecovered?.(info)
  }
}
