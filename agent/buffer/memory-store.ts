/**
 * In-memory FrameStore: same semantics as SqliteFrameStore minus durability (for tests and a `:memory:` buffer
 * path). Seqs restart at `firstSeq` with every new instance, so it cannot keep the never-reused promise across
 * restarts; use SqliteFrameStore on a device.
 */
import { StorageError } from './errors'
import { appendReason, expiryCutoff, isOversize, needsRoom } from './room'
import type { BufferLoss } from './loss'
import type { AppendResult, BufferLimits, BufferStats, FrameStore, NewFrame, StoredFrame } from './store'
import { UNBOUNDED, validateFrame, validateLimits, validateSeq } from './validate'

export interface MemoryFrameStoreOptions {
  limits?: BufferLimits
  /** First seq handed out (default 1). */
  firstSeq?: number
}

export class MemoryFrameStore implements FrameStore {
  /** Ordered by seq (appends only ever add a higher seq). */
  private frames: StoredFrame[] = []
  private bytes = 0
  private nextSeq: number
  private limits: BufferLimits
  private counters = { dropped: 0, rejected: 0, expired: 0 }
  private closed = false

  constructor(options: MemoryFrameStoreOptions = {}) {
    this.limits = validateLimits(options.limits ?? UNBOUNDED)
    this.nextSeq = options.firstSeq ?? 1
    validateSeq(this.nextSeq, 'firstSeq')
  }

  append(frame: NewFrame): AppendResult {
    this.assertOpen()
    validateFrame(frame)
    const size = frame.jpeg.length
    const dropped = this.expire(Date.now())
    const expired = dropped.length
    const why = (refused: boolean, oversize = false): string | undefined =>
      appendReason({ refused, oversize, droppedForRoom: dropped.length - expired, expired }, this.limits)
    if (isOversize(size, this.limits)) {
      this.counters.rejected++
      return { dropped, reason: why(true, true) }
    }
    if (needsRoom(this.occupancy(), size, this.limits)) {
      if (this.limits.policy === 'reject-new') {
        this.counters.rejected++
        return { dropped, reason: why(true) }
      }
      while (this.frames.length > 0 && needsRoom(this.occupancy(), size, this.limits)) {
        const oldest = this.frames.shift()!
        this.bytes -= oldest.jpeg.length
        this.counters.dropped++
        dropped.push(oldest.seq)
      }
    }
    const seq = this.nextSeq++
    // Copy: the caller may reuse its buffer, and a store must hand back what was appended.
    const stored: StoredFrame = {
      seq,
      jpeg: Uint8Array.from(frame.jpeg),
      capturedAt: frame.capturedAt,
      tableId: frame.tableId,
      width: frame.width,
      height: frame.height,
    }
    if (frame.quantDigest !== undefined) stored.quantDigest = frame.quantDigest
    if (frame.keepMapId !== undefined) stored.keepMapId = frame.keepMapId
    this.frames.push(stored)
    this.bytes += size
    const reason = why(false)
    return reason ? { seq, dropped, reason } : { seq, dropped }
  }

  peek(limit: number, afterSeq?: number): StoredFrame[] {
    this.assertOpen()
    if (!Number.isInteger(limit) || limit < 0)
      throw new RangeError(`frame buffer: peek limit must be an integer >= 0, got ${String(limit)}`)
    if (afterSeq !== undefined) validateSeq(afterSeq, 'peek afterSeq')
    const out: StoredFrame[] = []
    for (const f of this.frames) {
      if (out.length >= limit) break
      if (afterSeq === undefined || f.seq > afterSeq) out.push({ ...f })
    }
    return out
  }

  remove(seq: number): void {
    this.assertOpen()
    validateSeq(seq, 'remove')
    const i = this.frames.findIndex((f) => f.seq === seq)
    if (i < 0) return
    this.bytes -= this.frames[i].jpeg.length
    this.frames.splice(i, 1)
  }

  removeThrough(seq: number): number {
    this.assertOpen()
    validateSeq(seq, 'removeThrough')
    let n = 0
    while (n < this.frames.length && this.frames[n].seq <= seq) {
      this.bytes -= this.frames[n].jpeg.length
      n++
    }
    this.frames.splice(0, n)
    return n
  }

  expire(now: number): number[] {
    this.assertOpen()
    if (!Number.isFinite(now)) throw new TypeError(`frame buffer: expire needs a finite time, got ${String(now)}`)
    const cutoff = expiryCutoff(now, this.limits)
    if (cutoff === undefined) return []
    const gone: number[] = []
    this.frames = this.frames.filter((f) => {
      if (f.capturedAt >= cutoff) return true
      gone.push(f.seq)
      this.bytes -= f.jpeg.length
      return false
    })
    this.counters.expired += gone.length
    return gone
  }

  setLimits(limits: BufferLimits): void {
    this.assertOpen()
    this.limits = validateLimits(limits)
  }

  stats(): BufferStats {
    this.assertOpen()
    return { frames: this.frames.length, bytes: this.bytes, ...this.counters }
  }

  /** None: nothing survives to be found damaged. */
  pendingLosses(): BufferLoss[] {
    this.assertOpen()
    return []
  }

  settleLoss(_loss: BufferLoss): void {
    this.assertOpen()
  }

  close(): void {
    this.closed = true
  }

  private occupancy(): { frames: number; bytes: number } {
    return { frames: this.frames.length, bytes: this.bytes }
  }

  private assertOpen(): void {
    if (this.closed) throw new StorageError('frame buffer: store is closed')
  }
}
