/** Classifies a database file by its 100-byte header without letting SQLite touch (or create) anything. */
import * as fs from 'node:fs'

export type HeaderStatus = 'absent' | 'empty' | 'bad' | 'ok'

export function readHeaderStatus(file: string): HeaderStatus {
  let fd: number
  try {
    fd = fs.openSync(file, 'r')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent'
    throw err
  }
  try {
    const header = Buffer.alloc(100)
    const n = fs.readSync(fd, header, 0, 100, 0)
    if (n === 0) return 'empty' // SQLite treats an empty file as a new database
    return n === 100 && header.toString('latin1', 0, 16) === 'SQLite format 3\0' ? 'ok' : 'bad'
  } finally {
    fs.closeSync(fd)
  }
}
