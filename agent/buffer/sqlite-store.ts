/**
 * The durable frame buffer: one SQLite file (better-sqlite3, WAL) holding the encoded frames until they are
 * acknowledged, the seq high-water mark, the drop/reject/expire counters and the loss records (state table).
 *
 * Every append is one committed transaction before it returns, bounds (frames, bytes, TTL) are enforced inside
 * that same transaction, and prepared statements are reused. synchronous=NORMAL (default) survives a process
 * crash or kill -9 with no loss and fsyncs only at checkpoints (about every 4 MB of WAL), which spares SD cards;
 * FULL also survives power loss at one fsync per frame.
 *
 * Seqs are never reused, even after a power cut rolled back the tail of the WAL (NORMAL): each session records
 * the OS boot id and marks itself clean on close; when the previous session ended uncleanly on an earlier boot,
 * the next seq starts above the ceiling of the sidecar lease (see seq-lease.ts), because its last commits may be
 * gone although their frames may already have been published.
 */
import Database from 'better-sqlite3'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { CorruptDatabaseError, DiskFullError, StorageError, isFullCode, toStorageError } from './errors'
import { appendReason, expiryCutoff, isOversize, needsRoom, type Occupancy } from './room'
import { SeqLease } from './seq-lease'
import { describeLoss, lossSummary, parsePending, PENDING_LOSS_KEY, type BufferLoss, type DamageFindings } from './loss'
import { readHeaderStatus } from './sqlite-header'
import type { AppendResult, BufferLimits, BufferStats, FrameStore, NewFrame, StoredFrame } from './store'
import { UNBOUNDED, validateFrame, validateLimits, validateSeq } from './validate'
import { isoTime } from '../../shared/contract/time'

export type SyncMode = 'NORMAL' | 'FULL'

export interface SqliteFrameStoreOptions {
  /** Database file; its directory must exist (openFrameStore creates it). */
  path: string
  limits?: BufferLimits
  /** NORMAL (default): durable against process crash; FULL: also against power loss, one fsync per frame. */
  synchronous?: SyncMode
  log?: (message: string) => void
  /** Hard cap on the database file size in bytes (PRAGMA max_page_count); 0/absent = only the disk limits it. */
  maxFileBytes?: number
  /**
   * Free space to keep on the filesystem, in bytes; when absent, `minFreePercent` of the filesystem's size. Below
   * it the policy applies as if the buffer were full (drop-oldest recycles the oldest frames' pages, reject-new
   * refuses), so SQLite never meets a really full disk: there a checkpoint cannot grow the file, the WAL cannot
   * grow either, and only errors are left. 0 = off.
   */
  minFreeBytes?: number
  /** The floor as a percentage of the filesystem's size when `minFreeBytes` is absent (default 5, see the schema). */
  minFreePercent?: number
  /** Seqs reserved per write of the `<path>.seq` sidecar (default 1024). */
  seqBlock?: number
  /** Identifies the current OS boot (default: /proc/sys/kernel/random/boot_id). */
  bootId?: string
  /** Run PRAGMA quick_check when opening (default true): reads the whole file once, finds corruption early. */
  integrityCheck?: boolean
  /** Set by openFrameStore when this fresh database replaces a damaged one: what was found in it. */
  damage?: DamageFindings
}

interface SessionPlan {
  lastSeq: number
  /** Frames lost to damage found while opening; recorded with the session mark. */
  loss?: BufferLoss
}

/** 2 added frames.quant_digest, 3 frames.keep_map (see migrate). */
const SCHEMA_VERSION = 3
/** SQLite page cache per connection, in KiB (see configure). */
export const CACHE_KIB = 1024
const DEFAULT_SEQ_BLOCK = 1024
/** WAL bound: 1/32 of the filesystem, between 64 KB and SQLite's default 4 MB (see walBoundFor). */
const WAL_BOUND_MIN = 64 * 1024
const WAL_BOUND_MAX = 4 * 1024 * 1024
const DEFAULT_MIN_FREE_PERCENT = 5
const WAL_HEADER = 32
const WAL_FRAME_HEADER = 24
/** Retries of an append that hit SQLITE_FULL under drop-oldest, freeing 2, 4, 8 times the frame's size. */
const FULL_RETRIES = 3

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS frames (
    seq INTEGER PRIMARY KEY,
    captured_at INTEGER NOT NULL,
    table_id TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    quant_digest TEXT, -- NULL for frames a schema-1 agent stored
    keep_map TEXT, -- the encoder.keepMap id the frame was encoded with; NULL for none
    jpeg BLOB NOT NULL -- last, so scans of the other columns never touch the blob's overflow pages
  );
  CREATE INDEX IF NOT EXISTS frames_by_capture ON frames (captured_at);
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
`

interface Counters {
  dropped: number
  rejected: number
  expired: number
}

interface Row {
  seq: number
  capturedAt: number
  tableId: string
  quantDigest?: string | null
  keepMapId?: string | null
  width: number
  height: number
  jpeg: Buffer
}

export class SqliteFrameStore implements FrameStore {
  readonly path: string
  readonly synchronous: SyncMode
  private readonly db: Database.Database
  private readonly log: (message: string) => void
  private readonly lease: SeqLease
  private readonly seqBlock: number
  private readonly minFreeBytes: number
  /** Most bytes the WAL may hold before a checkpoint; also the size of the reserve file (see makeRoom). */
  readonly walBoundBytes: number
  private readonly reserveFile: string
  private reserveHeld = false
  /** The session mark could not be written at open (disk full): appends wait for it, delivery does not. */
  private sessionPending?: { plan: SessionPlan; bootId: string | undefined }
  /** Frames lost to damage found when this store was opened (also pending in the state table until published). */
  startupLoss?: BufferLoss
  private lowSpace = false
  private leaseFailing = false
  private limits: BufferLimits
  private lastSeq = 0
  private occ: Occupancy = { frames: 0, bytes: 0 }
  private counters: Counters = { dropped: 0, rejected: 0, expired: 0 }
  private closed = false
  private readonly stmt: ReturnType<typeof prepare>

  /** Opens (or creates) the store. Throws CorruptDatabaseError for a damaged file: see openFrameStore. */
  constructor(options: SqliteFrameStoreOptions) {
    if (typeof options?.path !== 'string' || options.path === '' || options.path === ':memory:') {
      throw new TypeError('frame buffer: path must be a database file path (use MemoryFrameStore for :memory:)')
    }
    const sync = options.synchronous ?? 'NORMAL'
    if (sync !== 'NORMAL' && sync !== 'FULL')
      throw new RangeError(`frame buffer: synchronous must be NORMAL or FULL, got ${String(sync)}`)
    this.seqBlock = options.seqBlock ?? DEFAULT_SEQ_BLOCK
    if (!Number.isSafeInteger(this.seqBlock) || this.seqBlock < 1)
      throw new RangeError(`frame buffer: seqBlock must be an integer >= 1, got ${String(options.seqBlock)}`)
    const maxFileBytes = options.maxFileBytes ?? 0
    if (!Number.isSafeInteger(maxFileBytes) || maxFileBytes < 0)
      throw new RangeError(`frame buffer: maxFileBytes must be an integer >= 0, got ${String(options.maxFileBytes)}`)
    const percent = options.minFreePercent ?? DEFAULT_MIN_FREE_PERCENT
    if (!(typeof percent === 'number' && percent >= 0 && percent <= 100))
      throw new RangeError(
        `frame buffer: minFreePercent must be a number in 0..100, got ${String(options.minFreePercent)}`,
      )
    const fsBytes = diskSpace(options.path)?.total
    this.minFreeBytes = options.minFreeBytes ?? Math.floor(((fsBytes ?? 0) * percent) / 100)
    if (!Number.isSafeInteger(this.minFreeBytes) || this.minFreeBytes < 0)
      throw new RangeError(`frame buffer: minFreeBytes must be an integer >= 0, got ${String(options.minFreeBytes)}`)
    this.path = options.path
    this.synchronous = sync
    this.log = options.log ?? (() => {})
    this.limits = validateLimits(options.limits ?? UNBOUNDED)
    this.lease = new SeqLease(`${this.path}.seq`, this.log)
    this.walBoundBytes = walBoundFor(fsBytes)
    this.reserveFile = `${this.path}.reserve`

    // Checked read-only first: closing a read-write connection on a damaged file can delete its -wal.
    // Both need room for the -shm (and the WAL) on a disk that may be full: the reserve file is for that.
    if (options.integrityCheck ?? true) this.withReserve(() => checkIntegrity(this.path))
    // Before SQLite touches it: SQLite itself silently ignores a WAL cut short, with the commits in the cut part.
    const torn = tornWal(`${this.path}-wal`)
    let db: Database.Database | undefined
    try {
      db = this.withReserve(() => {
        const opened = new Database(this.path)
        try {
          configure(opened, sync, maxFileBytes, this.walBoundBytes)
        } catch (err) {
          try {
            opened.close()
          } catch {
            /* report the original error */
          }
          throw err
        }
        return opened
      })
      this.db = db
      this.stmt = prepare(db)
      const bootId = options.bootId ?? readBootId()
      const plan = this.planSession(this.load(), bootId, options.damage, torn)
      this.lastSeq = plan.lastSeq
      try {
        this.withRoom('marking the session open', () => this.beginSession(plan, bootId))
      } catch (err) {
        // A disk full to the last byte must not stop the agent from starting (systemd would restart it in a
        // loop): the buffered frames can still be published and, once removals free pages, new ones stored.
        if (!isFullCode(String((err as { code?: unknown }).code))) throw err
        this.log(
          `frame buffer: the disk is full; starting anyway: buffered frames are delivered, new ones are stored once there is room (${(err as Error).message})`,
        )
        this.sessionPending = { plan, bootId }
      }
      this.holdReserve()
    } catch (err) {
      try {
        db?.close()
      } catch {
        /* already failing; report the original error */
      }
      throw toStorageError(`opening ${this.path}`, err)
    }
  }

  append(frame: NewFrame): AppendResult {
    this.assertOpen()
    validateFrame(frame)
    const seq = this.lastSeq + 1
    try {
      this.lease.cover(seq, this.seqBlock)
      this.leaseFailing = false
    } catch (err) {
      // Only a recovery from a corrupt file relies on the sidecar; losing frames would be worse. Logged once.
      if (!this.leaseFailing)
        this.log(`frame buffer: cannot update seq sidecar ${this.lease.file}: ${(err as Error).message}`)
      this.leaseFailing = true
    }
    const lowSpace = this.checkFreeSpace()
    let lastErr: unknown
    let roomMade = false
    for (let attempt = 0; attempt <= FULL_RETRIES; attempt++) {
      const freeBytes = attempt === 0 ? (lowSpace ? frame.jpeg.length : 0) : frame.jpeg.length * 2 ** attempt
      try {
        if (this.sessionPending) this.resumeSession()
        return this.appendTx(frame, seq, freeBytes, lowSpace)
      } catch (err) {
        lastErr = err
        const code = (err as { code?: string }).code
        if (!code || !isFullCode(code)) break
        // First the reserve and the WAL's dead pages; dropping frames only if that was not enough.
        if (!roomMade) {
          roomMade = true
          if (this.makeRoom(code)) {
            attempt--
            continue
          }
        }
        if (this.limits.policy !== 'drop-oldest' || this.occ.frames === 0) break
        this.log(`frame buffer: storage full (${code}); dropping the oldest frames to store the new one`)
      }
    }
    const wrapped = toStorageError(`appending a ${frame.jpeg.length}-byte frame`, lastErr)
    if (wrapped instanceof DiskFullError) {
      this.counters.rejected++ // persisted with the next successful write
      throw new DiskFullError(
        `${wrapped.message}; the frame was not stored, the ${this.occ.frames} buffered frames (${this.occ.bytes} bytes) are intact`,
        { code: wrapped.code, cause: lastErr },
      )
    }
    throw wrapped
  }

  peek(limit: number, afterSeq?: number): StoredFrame[] {
    this.assertOpen()
    if (!Number.isInteger(limit) || limit < 0)
      throw new RangeError(`frame buffer: peek limit must be an integer >= 0, got ${String(limit)}`)
    if (afterSeq !== undefined) validateSeq(afterSeq, 'peek afterSeq')
    const rows = this.guard('peek', () => this.stmt.peek.all(afterSeq ?? Number.MIN_SAFE_INTEGER, limit) as Row[])
    for (const r of rows) {
      if (r.quantDigest === null) delete r.quantDigest
      if (r.keepMapId === null) delete r.keepMapId
    }
    return rows as StoredFrame[]
  }

  remove(seq: number): void {
    this.assertOpen()
    validateSeq(seq, 'remove')
    const rows = this.guard('remove', () =>
      this.withRoom('remove', () => this.stmt.deleteOne.all(seq) as { bytes: number }[]),
    )
    for (const r of rows) this.forget(r.bytes)
    if (rows.length) this.afterDrain()
  }

  removeThrough(seq: number): number {
    this.assertOpen()
    validateSeq(seq, 'removeThrough')
    const rows = this.guard('removeThrough', () =>
      this.withRoom('removeThrough', () => this.stmt.deleteThrough.all(seq) as { seq: number; bytes: number }[]),
    )
    for (const r of rows) this.forget(r.bytes)
    if (rows.length) this.afterDrain()
    return rows.length
  }

  expire(now: number): number[] {
    this.assertOpen()
    if (!Number.isFinite(now)) throw new TypeError(`frame buffer: expire needs a finite time, got ${String(now)}`)
    const cutoff = expiryCutoff(now, this.limits)
    if (cutoff === undefined) return []
    return this.guard('expire', () => {
      const occ = { ...this.occ }
      const counters = { ...this.counters }
      const gone = this.withRoom('expire', () =>
        this.db.transaction(() => {
          const seqs = this.expireInTx(cutoff, occ, counters)
          if (seqs.length > 0) this.writeCounters(counters)
          return seqs
        })(),
      )
      this.occ = occ
      this.counters = counters
      return gone
    })
  }

  setLimits(limits: BufferLimits): void {
    this.assertOpen()
    // Enforced by the next append, so every frame dropped is reported in an AppendResult.
    this.limits = validateLimits(limits)
  }

  stats(): BufferStats {
    this.assertOpen()
    return { frames: this.occ.frames, bytes: this.occ.bytes, ...this.counters }
  }

  pendingLosses(): BufferLoss[] {
    this.assertOpen()
    return this.guard('pendingLosses', () => this.readPending())
  }

  settleLoss(loss: BufferLoss): void {
    this.assertOpen()
    const key = JSON.stringify(loss)
    this.guard('settleLoss', () =>
      this.withRoom('settleLoss', () =>
        this.db.transaction(() => {
          const pending = this.readPending()
          const rest = pending.filter((l) => JSON.stringify(l) !== key)
          if (rest.length !== pending.length) this.stmt.setState.run(PENDING_LOSS_KEY, JSON.stringify(rest))
        })(),
      ),
    )
  }

  /**
   * A row a schema-1 agent kept in the state table for itself (its remote configuration, `config.*`), for
   * agent/saved-config/open.ts to move out; undefined once moved.
   */
  legacyState(key: string): string | undefined {
    this.assertOpen()
    if (!key.startsWith('config.')) throw new RangeError(`frame buffer: '${key}' is not a legacy configuration key`)
    return this.guard('legacyState', () => (this.stmt.getState.get(key) as { value: string } | undefined)?.value)
  }

  dropLegacyState(keys: string[]): void {
    this.assertOpen()
    for (const key of keys)
      if (!key.startsWith('config.')) throw new RangeError(`frame buffer: '${key}' is not a legacy configuration key`)
    this.guard('dropLegacyState', () =>
      this.withRoom('dropLegacyState', () =>
        this.db.transaction(() => {
          for (const key of keys) this.stmt.deleteState.run(key)
        })(),
      ),
    )
  }

  /** Marks the session clean (so the next start keeps seqs contiguous) and closes the file. Idempotent. */
  close(): void {
    if (this.closed) return
    this.closed = true
    try {
      if (!this.sessionPending) {
        this.withRoom('close', () =>
          this.db.transaction(() => {
            this.writeCounters(this.counters)
            this.stmt.setMeta.run('clean', 1)
          })(),
        )
      }
    } catch (err) {
      this.log(`frame buffer: could not mark the session clean: ${(err as Error).message}`)
    }
    this.db.close() // the last connection checkpoints and removes the WAL
  }

  /**
   * One append as one transaction; `freeBytes` > 0 drops at least that many bytes of the oldest frames first;
   * `lowSpace` makes reject-new refuse.
   */
  private appendTx(frame: NewFrame, seq: number, freeBytes: number, lowSpace: boolean): AppendResult {
    const size = frame.jpeg.length
    const occ = { ...this.occ }
    const counters = { ...this.counters }
    const result = this.db.transaction((): AppendResult => {
      const cutoff = expiryCutoff(Date.now(), this.limits)
      const dropped = cutoff === undefined ? [] : this.expireInTx(cutoff, occ, counters)
      const expired = dropped.length
      const boundsFull = needsRoom(occ, size, this.limits)
      const full = lowSpace || boundsFull
      const oversize = isOversize(size, this.limits)
      const refuse = oversize || (full && this.limits.policy === 'reject-new')
      const why = (refused: boolean): string | undefined =>
        appendReason(
          {
            refused,
            oversize,
            expired,
            droppedForRoom: dropped.length - expired,
            lowSpaceFloor: lowSpace && !boundsFull ? this.minFreeBytes : undefined,
            diskFull: !lowSpace && !boundsFull && freeBytes > 0,
          },
          this.limits,
        )
      if (refuse) {
        counters.rejected++
        // Short of disk space, a write per refused frame takes the WAL pages a removal needs (removals are what
        // free the disk) and cycles the WAL through SQLITE_FULL and checkpoints: then the count stays in memory
        // (telemetry reads it there) and is persisted with the next write that stores or drops a frame, or at close.
        if (!lowSpace || dropped.length > 0) this.writeCounters(counters)
        return { dropped, reason: why(true) }
      }
      // Make room; with the disk short (low free space, or a retry after SQLITE_FULL) also free `freeBytes`.
      const before = occ.bytes
      dropped.push(
        ...this.dropOldestWhile(
          occ,
          counters,
          () => needsRoom(occ, size, this.limits) || before - occ.bytes < freeBytes,
        ),
      )
      this.stmt.insert.run(
        seq,
        frame.capturedAt,
        frame.tableId,
        frame.width,
        frame.height,
        size,
        frame.quantDigest ?? null,
        frame.keepMapId ?? null,
        frame.jpeg,
      )
      occ.frames++
      occ.bytes += size
      this.stmt.setMeta.run('last_seq', seq)
      this.writeCounters(counters)
      const reason = why(false)
      return reason ? { seq, dropped, reason } : { seq, dropped }
    })()
    // Only a committed transaction changes what this object believes is on disk.
    this.occ = occ
    this.counters = counters
    if (result.seq !== undefined) this.lastSeq = result.seq
    return result
  }

  /** True while the filesystem has less than minFreeBytes free; logs each change of that state. */
  private checkFreeSpace(): boolean {
    const free = diskSpace(this.path)?.free
    if (free === undefined) return false // cannot tell: SQLITE_FULL handling remains
    if (!this.reserveHeld && free > this.minFreeBytes + 2 * this.walBoundBytes) this.holdReserve()
    if (this.minFreeBytes === 0) return false
    const low = free < this.minFreeBytes
    if (low !== this.lowSpace) {
      this.log(
        low
          ? `frame buffer: only ${free} bytes free on the buffer's filesystem (< minFreeBytes ${this.minFreeBytes}); applying ${this.limits.policy} as if full`
          : `frame buffer: free space on the buffer's filesystem is back above ${this.minFreeBytes} bytes`,
      )
      this.lowSpace = low
    }
    return low
  }

  /** At open: on a full disk (no room for the -shm or the WAL), releases the reserve file and tries once more. */
  private withReserve<T>(fn: () => T): T {
    try {
      return fn()
    } catch (err) {
      const code = String((err as { code?: unknown }).code ?? '')
      if (!(isFullCode(code) || code === 'SQLITE_IOERR_SHMSIZE') || fileBytes(this.reserveFile) === 0) throw err
      fs.rmSync(this.reserveFile, { force: true })
      this.reserveHeld = false
      this.log(
        `frame buffer: no room to open ${this.path} (${code}); released the reserve file ${this.reserveFile} and trying again`,
      )
      return fn()
    }
  }

  /**
   * Runs a write; on SQLITE_FULL makes room (makeRoom) and runs it once more. A removal must never be stuck
   * behind a full disk: it is what frees the pages new frames need.
   */
  private withRoom<T>(what: string, fn: () => T): T {
    try {
      return fn()
    } catch (err) {
      const code = (err as { code?: unknown }).code
      if (typeof code !== 'string' || !isFullCode(code) || !this.makeRoom(code, what)) throw err
      return fn()
    }
  }

  /**
   * The way out of a full disk: delete the reserve file (walBoundBytes, kept since the last time there was room),
   * then checkpoint and truncate the WAL, so its pages move into the database file (needing at most the WAL's
   * size there, which the reserve just freed) and the WAL's disk space is returned. True if anything was freed.
   */
  private makeRoom(code: string, what = 'append'): boolean {
    let freed = false
    if (this.reserveHeld) {
      try {
        fs.rmSync(this.reserveFile, { force: true })
        freed = true
      } catch (err) {
        this.log(`frame buffer: cannot delete the reserve file ${this.reserveFile}: ${(err as Error).message}`)
      }
      this.reserveHeld = false
    }
    const walBefore = fileBytes(`${this.path}-wal`)
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)')
    } catch (err) {
      this.log(`frame buffer: checkpoint on a full disk failed: ${(err as Error).message}`)
    }
    const walAfter = fileBytes(`${this.path}-wal`)
    freed ||= walAfter < walBefore
    this.log(
      `frame buffer: storage full (${code}) during ${what}: ${freed ? `released the reserve and checkpointed the WAL (${walBefore} -> ${walAfter} bytes); retrying` : 'nothing left to free'}`,
    )
    return freed
  }

  /**
   * The backlog drained: checkpoint and truncate a WAL past a quarter of its bound, so a small disk gets the
   * space back between bursts (wal_autocheckpoint alone only recycles the WAL, it never shrinks the file).
   */
  private afterDrain(): void {
    if (this.occ.frames !== 0 || fileBytes(`${this.path}-wal`) <= this.walBoundBytes / 4) return
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)')
    } catch (err) {
      this.log(`frame buffer: checkpoint after the backlog drained failed: ${(err as Error).message}`)
    }
  }

  /** Creates the reserve file if missing (best effort: no room, no reserve; it is tried again later). */
  private holdReserve(): void {
    if (fileBytes(this.reserveFile) >= this.walBoundBytes) {
      this.reserveHeld = true
      return
    }
    try {
      const fd = fs.openSync(this.reserveFile, 'w', 0o644)
      try {
        const chunk = Buffer.alloc(Math.min(this.walBoundBytes, 64 * 1024))
        for (let n = 0; n < this.walBoundBytes; n += chunk.length)
          fs.writeSync(fd, chunk, 0, Math.min(chunk.length, this.walBoundBytes - n))
      } finally {
        fs.closeSync(fd)
      }
      this.reserveHeld = true
    } catch {
      fs.rmSync(this.reserveFile, { force: true })
      this.reserveHeld = false
    }
  }

  /** Writes the session mark that could not be written at open; throws (SQLITE_FULL) while there is no room. */
  private resumeSession(): void {
    const pending = this.sessionPending!
    this.withRoom('marking the session open', () => this.beginSession(pending.plan, pending.bootId))
    this.sessionPending = undefined
    this.log('frame buffer: there is room again; storing new frames')
  }

  private expireInTx(cutoff: number, occ: Occupancy, counters: Counters): number[] {
    const rows = this.stmt.expire.all(cutoff) as { seq: number; bytes: number }[]
    for (const r of rows) {
      occ.frames--
      occ.bytes -= r.bytes
    }
    counters.expired += rows.length
    return rows.map((r) => r.seq).sort((a, b) => a - b)
  }

  /** Deletes oldest frames while `more()` says so (it sees `occ` updated frame by frame); returns their seqs. */
  private dropOldestWhile(occ: Occupancy, counters: Counters, more: () => boolean): number[] {
    const seqs: number[] = []
    let after = Number.MIN_SAFE_INTEGER
    while (occ.frames > 0 && more()) {
      // Chunked: better-sqlite3 allows no other statement while an iterator is open.
      const chunk = this.stmt.oldest.all(after, 64) as { seq: number; bytes: number }[]
      if (chunk.length === 0) break
      let cut = after
      for (const r of chunk) {
        cut = r.seq
        seqs.push(r.seq)
        occ.frames--
        occ.bytes -= r.bytes
        if (occ.frames === 0 || !more()) break
      }
      this.stmt.deleteRange.run(after, cut)
      after = cut
    }
    counters.dropped += seqs.length
    return seqs
  }

  private writeCounters(c: Counters): void {
    this.stmt.setMeta.run('dropped', c.dropped)
    this.stmt.setMeta.run('rejected', c.rejected)
    this.stmt.setMeta.run('expired', c.expired)
  }

  private forget(bytes: number): void {
    this.occ.frames--
    this.occ.bytes -= bytes
  }

  /** Reads counters, occupancy and the seq high-water mark; returns the meta table. */
  private load(): Map<string, unknown> {
    const meta = new Map(
      (this.db.prepare('SELECT key, value FROM meta').all() as { key: string; value: unknown }[]).map((r) => [
        r.key,
        r.value,
      ]),
    )
    this.counters = {
      dropped: num(meta.get('dropped')),
      rejected: num(meta.get('rejected')),
      expired: num(meta.get('expired')),
    }
    const totals = this.db
      .prepare(
        'SELECT count(*) AS frames, coalesce(sum(bytes), 0) AS bytes, coalesce(max(seq), 0) AS maxSeq FROM frames',
      )
      .get() as Occupancy & { maxSeq: number }
    this.occ = { frames: totals.frames, bytes: totals.bytes }
    this.lastSeq = Math.max(num(meta.get('last_seq')), totals.maxSeq)
    return meta
  }

  /** Chooses where seqs continue (see the file comment) and records this session durably before any append. */
  private planSession(
    meta: Map<string, unknown>,
    bootId: string | undefined,
    damage: DamageFindings | undefined,
    torn: string | undefined,
  ): SessionPlan {
    const ceiling = this.lease.ceiling
    const loaded = this.lastSeq
    if (!meta.has('last_seq')) {
      if (ceiling <= loaded) return { lastSeq: loaded }
      this.log(
        `frame buffer: new database ${this.path}; seqs continue after ${ceiling}, the high-water mark in ${this.lease.file}`,
      )
      // A fresh file where the sidecar says seqs were used: either it replaces a damaged one (openFrameStore
      // says what it found there) or the old one vanished (deleted, or its -wal truncated): say so on MQTT.
      const findings: DamageFindings = damage ?? {
        cause: 'database-lost',
        framesReadable: false,
        usedThrough: 0,
        detail: `${this.path} has no record of the seqs up to ${ceiling} that ${this.lease.file} says were used: deleted, replaced, or its -wal truncated`,
      }
      const loss = describeLoss(findings, ceiling + 1)
      this.log(`frame buffer: ${lossSummary(loss)}`)
      return { lastSeq: ceiling, loss }
    }
    const clean = num(meta.get('clean')) === 1
    if (!clean && torn && ceiling > loaded) {
      // The commits in the missing part of the WAL may have handed out seqs after `loaded` (and been
      // published): never reuse them, and say which ones the backend will not get. (A kill during a WAL write
      // can end the file inside a frame too; then those seqs were simply never used, which the range allows.)
      const loss: BufferLoss = {
        at: isoTime(Date.now()),
        cause: 'database-lost',
        resumesAt: ceiling + 1,
        unknown: { from: loaded + 1, to: ceiling },
        detail: `${this.path}-wal ${torn}: the commits in its missing part are lost`,
      }
      this.log(`frame buffer: ${lossSummary(loss)}`)
      return { lastSeq: ceiling, loss }
    }
    const sameBoot = bootId !== undefined && meta.get('boot_id') === bootId
    if (!clean && !sameBoot && meta.get('synchronous') !== 'FULL' && ceiling > loaded) {
      this.log(
        `frame buffer: the previous session did not close cleanly and the machine rebooted since (power loss?); its last commits may be lost, so seqs skip ${loaded + 1}..${ceiling} to never reuse one`,
      )
      const loss: BufferLoss = {
        at: isoTime(Date.now()),
        cause: 'power-loss',
        resumesAt: ceiling + 1,
        unknown: { from: loaded + 1, to: ceiling },
        detail:
          'the previous session did not close cleanly and the machine rebooted since: with synchronous=NORMAL its last commits may be lost',
      }
      return { lastSeq: ceiling, loss }
    }
    return { lastSeq: loaded }
  }

  private beginSession(plan: SessionPlan, bootId: string | undefined): void {
    this.lastSeq = plan.lastSeq
    // FULL for this one write: the "session open, not clean" mark must not be lost to a power cut.
    this.db.pragma('synchronous = FULL')
    try {
      this.db.transaction(() => {
        if (plan.loss) {
          // in the same transaction: a crash right after must not forget the loss
          this.stmt.setState.run(PENDING_LOSS_KEY, JSON.stringify([...this.readPending(), plan.loss]))
        }
        this.stmt.setMeta.run('last_seq', this.lastSeq)
        this.stmt.setMeta.run('clean', 0)
        this.stmt.setMeta.run('boot_id', bootId ?? null)
        this.stmt.setMeta.run('synchronous', this.synchronous)
        this.writeCounters(this.counters)
      })()
    } finally {
      this.db.pragma(`synchronous = ${this.synchronous}`)
    }
    this.startupLoss = plan.loss
  }

  private readPending(): BufferLoss[] {
    return parsePending((this.stmt.getState.get(PENDING_LOSS_KEY) as { value: string } | undefined)?.value)
  }

  private guard<T>(what: string, fn: () => T): T {
    try {
      return fn()
    } catch (err) {
      throw toStorageError(what, err)
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StorageError(`frame buffer: store ${this.path} is closed`)
  }
}

/** Throws CorruptDatabaseError unless `file` is absent, empty, or an SQLite database passing quick_check. */
function checkIntegrity(file: string): void {
  let status
  try {
    status = readHeaderStatus(file)
  } catch (err) {
    throw toStorageError(`reading ${file}`, err)
  }
  if (status === 'absent' || status === 'empty') return
  if (status === 'bad') {
    throw new CorruptDatabaseError(`frame buffer: ${file} is not an SQLite database (bad or truncated header)`, {
      code: 'SQLITE_NOTADB',
    })
  }
  let db: Database.Database | undefined
  let verdict: unknown
  try {
    db = new Database(file, { readonly: true, fileMustExist: true })
    verdict = db.pragma('quick_check', { simple: true })
  } catch (err) {
    throw toStorageError(`checking ${file}`, err)
  } finally {
    try {
      db?.close()
    } catch {
      /* the verdict matters, not the close */
    }
  }
  if (verdict !== 'ok')
    throw new CorruptDatabaseError(`frame buffer: ${file} is corrupt (quick_check: ${String(verdict)})`, {
      code: 'SQLITE_CORRUPT',
    })
}

/**
 * How much WAL to let accumulate before a checkpoint: 1/32 of the filesystem, 64 KB..4 MB. SQLite's fixed
 * ~4 MB never came on a 3 MB disk, so the WAL grew with every delivered frame until the disk was full; a bigger
 * WAL only saves fsyncs (one checkpoint per bound), so large disks keep the default.
 */
export function walBoundFor(filesystemSize: number | undefined): number {
  if (filesystemSize === undefined || !(filesystemSize > 0)) return WAL_BOUND_MAX
  return Math.min(WAL_BOUND_MAX, Math.max(WAL_BOUND_MIN, Math.floor(filesystemSize / 32)))
}

function configure(db: Database.Database, sync: SyncMode, maxFileBytes: number, walBound: number): void {
  const mode = db.pragma('journal_mode = WAL', { simple: true })
  if (mode !== 'wal') throw new StorageError(`frame buffer: cannot use WAL mode on ${db.name} (got ${String(mode)})`)
  db.pragma(`synchronous = ${sync}`)
  db.pragma('busy_timeout = 2000')
  // better-sqlite3 builds SQLite with a 16 MB page cache. Frames are written once and read back once, soon after,
  // so a big cache buys nothing but RSS: it fills while a backlog grows and never empties. 1 MB holds the tree
  // pages and a few frames' worth of blob pages; the rest is the OS page cache's job.
  db.pragma(`cache_size = -${CACHE_KIB}`)
  // A checkpoint per `walBound` of WAL, and the file cut back to that size after one (walBoundFor).
  const pageSize = db.pragma('page_size', { simple: true }) as number
  db.pragma(`wal_autocheckpoint = ${Math.max(16, Math.floor(walBound / pageSize))}`)
  // On a whole frame: SQLite cuts the WAL to exactly this size, and a WAL ending inside a frame means damage (tornWal).
  db.pragma(
    `journal_size_limit = ${WAL_HEADER + Math.ceil((walBound - WAL_HEADER) / (pageSize + WAL_FRAME_HEADER)) * (pageSize + WAL_FRAME_HEADER)}`,
  )
  const version = db.pragma('user_version', { simple: true }) as number
  if (version > SCHEMA_VERSION)
    throw new StorageError(
      `frame buffer: ${db.name} has schema version ${version}, newer than this agent's ${SCHEMA_VERSION}`,
    )
  db.transaction(() => {
    db.exec(SCHEMA)
    migrate(db)
    if (version < SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`)
  })()
  if (maxFileBytes > 0) {
    db.pragma(`max_page_count = ${Math.max(1, Math.floor(maxFileBytes / pageSize))}`)
  }
}

/**
 * Brings a file an older agent wrote up to SCHEMA_VERSION, in place, keeping its frames. Schema 1 -> 2: frames gets
 * quant_digest, NULL for the frames already there (the publisher computes theirs from the JPEG). Schema 2 -> 3:
 * frames gets keep_map, NULL (no keep map) for the frames already there, which is what they were encoded with.
 * ALTER TABLE appends a column after the blob, which only a read of the whole row (peek) crosses; it reads the blob
 * anyway.
 */
function migrate(db: Database.Database): void {
  const columns = (db.prepare('PRAGMA table_info(frames)').all() as { name: string }[]).map((c) => c.name)
  if (!columns.includes('quant_digest')) db.exec('ALTER TABLE frames ADD COLUMN quant_digest TEXT')
  if (!columns.includes('keep_map')) db.exec('ALTER TABLE frames ADD COLUMN keep_map TEXT')
}

function prepare(db: Database.Database) {
  return {
    insert: db.prepare(
      'INSERT INTO frames (seq, captured_at, table_id, width, height, bytes, quant_digest, keep_map, jpeg) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    peek: db.prepare(
      'SELECT seq, captured_at AS capturedAt, table_id AS tableId, quant_digest AS quantDigest, keep_map AS keepMapId, width, height, jpeg FROM frames WHERE seq > ? ORDER BY seq LIMIT ?',
    ),
    oldest: db.prepare('SELECT seq, bytes FROM frames WHERE seq > ? ORDER BY seq LIMIT ?'),
    deleteRange: db.prepare('DELETE FROM frames WHERE seq > ? AND seq <= ?'),
    deleteOne: db.prepare('DELETE FROM frames WHERE seq = ? RETURNING bytes'),
    deleteThrough: db.prepare('DELETE FROM frames WHERE seq <= ? RETURNING seq, bytes'),
    expire: db.prepare('DELETE FROM frames WHERE captured_at < ? RETURNING seq, bytes'),
    setMeta: db.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
    getState: db.prepare('SELECT value FROM state WHERE key = ?'),
    setState: db.prepare(
      'INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
    deleteState: db.prepare('DELETE FROM state WHERE key = ?'),
  }
}

/**
 * Why a WAL file looks cut short (ends inside a frame, or inside its header), or undefined. SQLite only ever
 * writes whole frames and truncates to 0 or to journal_size_limit, which configure() puts on a frame boundary.
 */
function tornWal(file: string): string | undefined {
  let fd: number
  try {
    fd = fs.openSync(file, 'r')
  } catch {
    return undefined
  }
  try {
    const size = fs.fstatSync(fd).size
    if (size === 0) return undefined
    if (size < WAL_HEADER) return `is ${size} bytes, shorter than its header`
    const header = Buffer.alloc(WAL_HEADER)
    fs.readSync(fd, header, 0, WAL_HEADER, 0)
    const magic = header.readUInt32BE(0)
    if (magic !== 0x377f0682 && magic !== 0x377f0683) return undefined // not a WAL SQLite would read: nothing in it counts
    const pageSize = header.readUInt32BE(8) === 1 ? 65536 : header.readUInt32BE(8)
    const rest = (size - WAL_HEADER) % (pageSize + WAL_FRAME_HEADER)
    return rest === 0 ? undefined : `ends ${rest} bytes into a frame (${size} bytes, ${pageSize}-byte pages): cut short`
  } catch {
    return undefined
  } finally {
    fs.closeSync(fd)
  }
}

/** Size and free space (for unprivileged writers) of the filesystem holding `file`; undefined if it cannot tell. */
function diskSpace(file: string): { total: number; free: number } | undefined {
  try {
    const st = fs.statfsSync(path.dirname(path.resolve(file)))
    return { total: st.blocks * st.bsize, free: st.bavail * st.bsize }
  } catch {
    return undefined
  }
}

function fileBytes(file: string): number {
  try {
    return fs.statSync(file).size
  } catch {
    return 0
  }
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : 0
}

function readBootId(): string | undefined {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined
  } catch {
    return undefined // not Linux: every unclean end counts as a possible power loss
  }
}
