/**
 * openFrameStore: the one way the agent opens its buffer. A path of ':memory:' gives a MemoryFrameStore. A
 * corrupt database file is never deleted: it is moved aside as `<name>.corrupt-<timestamp>` (its -wal/-shm as
 * `<name>.corrupt-<timestamp>-wal`/`-shm`, so SQLite tools still open the pair), reported, and a fresh database
 * starts. Seqs do not go backwards across that: the fresh database continues after the `<path>.seq` sidecar's
 * ceiling, raised first to whatever high-water mark can still be read from the damaged file.
 */
import Database from 'better-sqlite3'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { CorruptDatabaseError } from './errors'
import type { BufferLoss, DamageFindings } from './loss'
import { MemoryFrameStore } from './memory-store'
import { SeqLease } from './seq-lease'
import { readHeaderStatus } from './sqlite-header'
import { SqliteFrameStore, type SqliteFrameStoreOptions } from './sqlite-store'
import type { FrameStore } from './store'
import { isoTime } from '../../shared/contract/time'

export interface OpenedFrameStore {
  store: FrameStore
  /** Present when a corrupt database was moved aside: where to, and why. */
  recovered?: { movedTo: string[]; reason: string; salvagedSeq: number }
  /** Frames lost to damage found while opening (also recorded in the store for the `events/loss` topic). */
  loss?: BufferLoss
}

export function openFrameStore(options: SqliteFrameStoreOptions): OpenedFrameStore {
  if (options?.path === ':memory:') return { store: new MemoryFrameStore({ limits: options.limits }) }
  const log = options.log ?? (() => {})
  if (typeof options?.path === 'string' && options.path !== '')
    fs.mkdirSync(path.dirname(path.resolve(options.path)), { recursive: true })
  try {
    const store = new SqliteFrameStore(options)
    return store.startupLoss ? { store, loss: store.startupLoss } : { store }
  } catch (err) {
    if (!(err instanceof CorruptDatabaseError)) throw err
    const found = inspectDamaged(options.path)
    new SeqLease(`${options.path}.seq`, log).raiseTo(found.usedThrough)
    const movedTo = moveAside(options.path, new Date())
    log(
      `${err.message}; moved the damaged database aside to ${movedTo.join(', ')} (not deleted) and started a fresh one`,
    )
    const damage: DamageFindings = { cause: 'corrupt-database', detail: err.message, ...found, movedTo }
    const store = new SqliteFrameStore({ ...options, damage })
    return {
      store,
      recovered: { movedTo, reason: err.message, salvagedSeq: found.usedThrough },
      loss: store.startupLoss,
    }
  }
}

/**
 * What is still readable in a damaged file: its seq high-water mark and the frames it held (every one of them
 * unacknowledged). Worth a try, since damage is often partial; the table is scanned NOT INDEXED, so a broken
 * index does not hide the rows.
 */
function inspectDamaged(file: string): Pick<DamageFindings, 'usedThrough' | 'lost' | 'framesReadable'> {
  let usedThrough = 0
  let lost: DamageFindings['lost']
  let framesReadable = false
  let db: Database.Database | undefined
  const isSeq = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v)
  try {
    if (readHeaderStatus(file) !== 'ok') return { usedThrough, framesReadable }
    db = new Database(file, { readonly: true, fileMustExist: true })
    try {
      const v = (db.prepare("SELECT value AS v FROM meta WHERE key = 'last_seq'").get() as { v: unknown } | undefined)
        ?.v
      if (isSeq(v)) usedThrough = v
    } catch {
      /* the meta table is unreadable; the frames may not be */
    }
    try {
      const r = db.prepare('SELECT min(seq) AS lo, max(seq) AS hi, count(*) AS n FROM frames NOT INDEXED').get() as {
        lo: unknown
        hi: unknown
        n: number
      }
      framesReadable = true
      if (isSeq(r.lo) && isSeq(r.hi) && r.n > 0) {
        lost = { from: r.lo, to: r.hi, frames: r.n }
        usedThrough = Math.max(usedThrough, r.hi)
      }
    } catch {
      /* unreadable frames: the loss is reported as unknown */
    }
  } catch {
    /* not openable at all */
  } finally {
    try {
      db?.close()
    } catch {
      /* nothing more to lose */
    }
  }
  return { usedThrough, lost, framesReadable }
}

/** Renames the database and its -wal/-shm companions; returns the new names of the files that existed. */
function moveAside(file: string, when: Date): string[] {
  const stamp = isoTime(when.getTime()).replace(/[:.]/g, '-')
  const target = `${file}.corrupt-${stamp}`
  const moved: string[] = []
  for (const suffix of ['', '-wal', '-shm']) {
    try {
      fs.renameSync(file + suffix, target + suffix)
      moved.push(target + suffix)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
  }
  return moved
}
