/**
 * The seq high-water mark outside the database, in a tiny sidecar file `<db>.seq`, so a fresh database (after
 * a corrupt one was moved aside, or the file was deleted) never hands out a seq the backend has already seen.
 *
 * Written as a lease, not per frame: the file holds a ceiling at or above every seq ever used, raised by a block
 * (default 1024) before the first seq past it is committed. One atomic write (temp file, fsync, rename, fsync
 * of the directory) per block keeps the SD card free of a per-frame fsync storm; the cost is a gap of up to one
 * block in the seqs after a recovery, which the backend sees as a gap, never as a reused number.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'

export class SeqLease {
  private ceilingValue: number

  constructor(
    readonly file: string,
    log: (msg: string) => void,
  ) {
    this.ceilingValue = readCeiling(file, log)
  }

  /** Every seq ever used is <= this (0 = nothing leased yet). */
  get ceiling(): number {
    return this.ceilingValue
  }

  /** Makes sure `seq` is covered, raising the ceiling to at least `seq - 1 + block`. Throws on I/O failure. */
  cover(seq: number, block: number): void {
    if (seq <= this.ceilingValue) return
    this.raiseTo(seq - 1 + block)
  }

  /** Raises the ceiling durably to `ceiling` (never lowers it). */
  raiseTo(ceiling: number): void {
    if (ceiling <= this.ceilingValue) return
    writeAtomically(this.file, `${JSON.stringify({ ceiling })}\n`)
    this.ceilingValue = ceiling
  }
}

function readCeiling(file: string, log: (msg: string) => void): number {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      log(`frame buffer: cannot read seq sidecar ${file}: ${(err as Error).message}`)
    return 0
  }
  try {
    const ceiling = (JSON.parse(text) as { ceiling?: unknown }).ceiling
    if (typeof ceiling === 'number' && Number.isSafeInteger(ceiling) && ceiling >= 0) return ceiling
  } catch {
    /* reported below */
  }
  log(`frame buffer: ignoring malformed seq sidecar ${file}`)
  return 0
}

function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`
  try {
    const fd = fs.openSync(tmp, 'w', 0o644)
    try {
      fs.writeSync(fd, text)
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(tmp, file)
  } catch (err) {
    fs.rmSync(tmp, { force: true })
    throw err
  }
  // The rename itself must survive a power cut, so sync the directory entry too.
  const dirFd = fs.openSync(path.dirname(file), 'r')
  try {
    fs.fsyncSync(dirFd)
  } finally {
    fs.closeSync(dirFd)
  }
}
