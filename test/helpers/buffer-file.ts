/**
 * Reading an agent's buffer file from a test, beside the agent or after it stopped. Read-only on purpose: a
 * read-write connection would checkpoint and delete the -wal when it closes after the agent died, changing the very
 * file a test is about to damage or recover.
 */
import Database from 'better-sqlite3'

export function readBuffer<T>(file: string, read: (db: Database.Database) => T): T {
  const db = new Database(file, { readonly: true, fileMustExist: true, timeout: 5000 })
  try {
    return read(db)
  } finally {
    db.close()
  }
}

/** Seqs still in the buffer (committed, not yet delivered), oldest first. */
export const bufferedSeqs = (file: string): number[] =>
  readBuffer(file, (db) =>
    (db.prepare('SELECT seq FROM frames ORDER BY seq').all() as { seq: number }[]).map((r) => r.seq),
  )

/** Frames in the buffer now. */
export const backlog = (file: string): number =>
  readBuffer(file, (db) => (db.prepare('SELECT COUNT(*) AS n FROM frames').get() as { n: number }).n)

/** A number from the buffer's meta table (last_seq, dropped, expired, ...). */
export const bufferMeta = (file: string, key: string): number =>
  readBuffer(file, (db) =>
    Number(
      (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value?: unknown } | undefined)?.value ?? 0,
    ),
  )
