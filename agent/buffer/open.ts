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
import { MemoryFrameStore } from './memory-store'
import { SeqLease } from './seq-lease'
import { readHeaderStatus } from './sqlite-header'
import { SqliteFrameStore, type SqliteFrameStoreOptions } from './sqlite-store'
import type { FrameStore } from './store'

export interface OpenedFrameStore {
  store: FrameStore
  /** Present when a corrupt database was moved aside: where to, and why. */
  recovered?: { movedTo: string[]; reason: string; salvagedSeq: number }
}

export function openFrameStore(options: SqliteFrameStoreOptions): OpenedFrameStore {
  if (options?.path === ':memory:') return { store: new MemoryFrameStore({ limits: options.limits }) }
  const log = options.log ?? (() => {})
  if (typeof options?.path === 'string' && options.path !== '') fs.mkdirSync(path.dirname(path.resolve(options.path)), { recursive: true })
  try {
    return { store: new SqliteFrameStore(options) }
  } catch (err) {
    if (!(err instanceof CorruptDatabaseError)) throw err
    const salvagedSeq = salvageSeq(options.path)
    new SeqLease(`${options.path}.seq`, log).raiseTo(salvagedSeq)
    const movedTo = moveAside(options.path, new Date())
    log(`${err.message}; moved the damaged database aside to ${movedTo.join(', ')} (not deleted) and started a fresh one`)
    return { store: new SqliteFrameStore(options), recovered: { movedTo, reason: err.message, salvagedSeq } }
  }
}

/** The highest seq still readable from a damaged file, or 0: worth a try, since damage is often partial. */
function salvageSeq(file: string): number {
  let best = 0
  let db: Database.Database | undefined
  try {
    if (readHeaderStatus(file) !== 'ok') return 0
    db = new Database(file, { readonly: true, fileMustExist: true })
    for (const sql of ["SELECT value AS v FROM meta WHERE key = 'last_seq'", 'SELECT max(seq) AS v FROM frames']) {
      try {
        const v = (db.prepare(sql).get() as { v: unknown } | undefined)?.v
        if (typeof v === 'number' && Number.isSafeInteger(v)) best = Math.max(best, v)
      } catch { /* this part is unreadable; try the next */ }
    }
  } catch { /* not openable at all */ } finally {
    try { db?.close() } catch { /* nothing more to lose */ }
  }
  return best
}

/** Renames the database and its -wal/-shm companions; returns the new names of the files that existed. */
function moveAside(file: string, when: Date): string[] {
  const stamp = when.toISOString().replace(/[:.]/g, '-')
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
