/**
 * The receiver's write-ahead journal: what makes a frame durable before its PUBACK. Each group commit appends its
 * frames (index line, path, JPEG bytes) to one segment file with one write and one fdatasync, instead of fsyncing
 * every frame file, its folder and the index (a few ms each on a real disk, and they queue in libuv's 4-thread pool).
 * The frame files and index lines are still written before the PUBACK, just not synced: a killed process leaves
 * them in the page cache, and after a power cut `replayJournal` rewrites from the journal whatever did not reach the
 * disk. A full segment is sealed, everything written so far is flushed with one syncfs(2) (`sync -f`), and only
 * then is the segment deleted, so at any moment every acknowledged frame is in a synced file or in the journal.
 *
 * Record: magic "DJR1", u32 header length, u32 body length, u32 CRC-32 of header + body, header (JSON: device id,
 * path relative to the device folder, index line), body (the JPEG). Replay reads a segment up to its first
 * incomplete or damaged record: only a batch that was never synced (never acknowledged) can be torn.
 */
import { spawn } from 'node:child_process'
import { promises as fsp } from 'node:fs'
import * as path from 'node:path'
import { crc32 } from 'node:zlib'
import { ensureDirDurable, fsyncDir } from '../../../agent/atomic-file'

const MAGIC = 0x44_4a_52_31 // "DJR1"
const HEAD = 16
/** A segment is sealed and checkpointed once it holds this much (a few thousand frames; replay reads it whole). */
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024
const SEGMENT = /^(\d{8})\.wal$/

export interface JournalRecord {
  deviceId: string
  /** Frame path relative to the device folder (`2026-11-25/42.jpg`). */
  file: string
  /** The frame's index line, newline included. */
  line: string
  jpeg: Uint8Array
}

/**
 * Makes what a sealed segment covers durable: the frame files, their folders and the index lines written before the
 * call. Default: syncfs(2) on the dataset's filesystem through coreutils `sync -f` (one writeback and one
 * filesystem-journal commit for thousands of files), falling back to fsync of each file when that is unavailable.
 */
export type Flush = (files: string[]) => Promise<void>

export interface JournalOptions {
  segmentBytes?: number
  flush?: Flush
  /**
   * Called at open with the records a crash left in the journal (oldest first): must rewrite whatever of them is
   * missing or damaged on disk, and return every file they cover; those are flushed, then the old segments deleted.
   */
  replay?: (records: JournalRecord[]) => Promise<string[]>
}

interface Segment {
  fh: fsp.FileHandle
  file: string
  size: number
  /** Absolute paths written under this segment: the fallback flush fsyncs them one by one. */
  written: Set<string>
  /** Set when an append failed midway: nothing more goes into this segment. */
  broken: boolean
}

export class FrameJournal {
  private current!: Segment
  private next: number
  /** The checkpoint of the sealed segments; the next one waits for it. */
  private checkpointing: Promise<void> = Promise.resolve()
  private checkpointError: unknown
  /** Segments sealed and not yet checkpointed (a failed checkpoint puts them back). */
  private readonly sealed: Array<{ segments: string[]; written: Set<string> }> = []

  private constructor(
    readonly dir: string,
    private readonly segmentBytes: number,
    private readonly flush: Flush,
    next: number,
  ) {
    this.next = next
  }

  /**
   * Opens the journal `dir` of a dataset at `root` for appending, in a new segment. Segments a crash left are
   * handed to `opts.replay` first, then deleted.
   */
  static async open(dir: string, root: string, opts: JournalOptions = {}): Promise<FrameJournal> {
    await ensureDirDurable(dir)
    const old = await segmentFiles(dir)
    const flush = opts.flush ?? ((files) => syncFilesystem(root, files))
    if (old.length > 0) {
      const records: JournalRecord[] = []
      for (const file of old) records.push(...decodeSegment(await fsp.readFile(file)))
      if (records.length > 0) {
        if (!opts.replay) throw new Error(`journal ${dir} holds ${records.length} frames and nothing replays them`)
        await flush(await opts.replay(records))
      }
      for (const file of old) await fsp.rm(file, { force: true })
    }
    const last = old.length > 0 ? Number(SEGMENT.exec(path.basename(old[old.length - 1]))![1]) : 0
    const j = new FrameJournal(dir, opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES, flush, last + 1)
    j.current = await j.newSegment()
    return j
  }

  /**
   * Appends the records with one write and syncs them (fdatasync): once this resolves they survive a power cut.
   * Calls must not overlap (the group commit runs one batch at a time). `written` are the files the records
   * describe, already written (not synced) by the caller.
   */
  async append(records: JournalRecord[], written: string[]): Promise<void> {
    if (records.length === 0) return
    if (this.checkpointError !== undefined) {
      const err = this.checkpointError
      this.checkpointError = undefined
      throw err
    }
    if (this.current.broken || this.current.size >= this.segmentBytes) await this.rotate()
    const seg = this.current
    const buffers = records.flatMap(encodeRecord)
    const bytes = buffers.reduce((n, b) => n + b.length, 0)
    try {
      const { bytesWritten } = await seg.fh.writev(buffers)
      if (bytesWritten !== bytes) throw new Error(`short write to the journal ${seg.file} (${bytesWritten} bytes)`)
      await seg.fh.datasync()
    } catch (err) {
      seg.broken = true // replay stops at the torn record; later batches go to a new segment
      throw err
    }
    seg.size += bytes
    for (const f of written) seg.written.add(f)
  }

  /** Flushes everything and deletes the segments: a clean shutdown leaves an empty journal. */
  async close(): Promise<void> {
    const seg = this.current
    await seg.fh.close()
    this.checkpoint([seg.file], seg.written)
    await this.checkpointing
    if (this.checkpointError !== undefined) throw this.checkpointError
  }

  /** Seals the current segment (checkpointed in the background) and starts the next. */
  private async rotate(): Promise<void> {
    const sealed = this.current
    this.current = await this.newSegment()
    await sealed.fh.close().catch(() => undefined)
    this.checkpoint([sealed.file], sealed.written)
  }

  private async newSegment(): Promise<Segment> {
    const file = path.join(this.dir, `${String(this.next++).padStart(8, '0')}.wal`)
    const fh = await fsp.open(file, 'wx')
    await fsyncDir(this.dir) // the segment's name must survive a power cut along with its records
    return { fh, file, size: 0, written: new Set(), broken: false }
  }

  /**
   * Makes the files written under the sealed segments durable, then deletes those segments. Runs after any earlier
   * checkpoint. A failure keeps the segments (retried by the next checkpoint, else replayed at the next start) and
   * fails the next append, so frames stop being acknowledged while the disk refuses.
   */
  private checkpoint(segments: string[], written: Set<string>): void {
    this.sealed.push({ segments, written })
    this.checkpointing = this.checkpointing.then(async () => {
      const batch = this.sealed.splice(0)
      if (batch.length === 0) return
      try {
        const files = batch.flatMap((b) => [...b.written])
        if (files.length > 0) await this.flush(files) // an empty segment has nothing to make durable
        for (const b of batch) for (const s of b.segments) await fsp.rm(s, { force: true })
      } catch (err) {
        this.sealed.unshift(...batch)
        this.checkpointError = err
      }
    })
  }
}

/** One record's buffers: head, header, body. */
function encodeRecord(r: JournalRecord): Buffer[] {
  const header = Buffer.from(JSON.stringify({ d: r.deviceId, f: r.file, l: r.line }))
  const body = Buffer.from(r.jpeg.buffer, r.jpeg.byteOffset, r.jpeg.byteLength)
  const head = Buffer.allocUnsafe(HEAD)
  head.writeUInt32BE(MAGIC, 0)
  head.writeUInt32BE(header.length, 4)
  head.writeUInt32BE(body.length, 8)
  head.writeUInt32BE(crc32(body, crc32(header)), 12)
  return [head, header, body]
}

/** The records of one segment, up to the first incomplete or damaged one. */
export function decodeSegment(buf: Buffer): JournalRecord[] {
  const out: JournalRecord[] = []
  let at = 0
  while (at + HEAD <= buf.length) {
    if (buf.readUInt32BE(at) !== MAGIC) break
    const hLen = buf.readUInt32BE(at + 4)
    const bLen = buf.readUInt32BE(at + 8)
    const end = at + HEAD + hLen + bLen
    if (end > buf.length) break
    const header = buf.subarray(at + HEAD, at + HEAD + hLen)
    const body = buf.subarray(at + HEAD + hLen, end)
    if (crc32(body, crc32(header)) !== buf.readUInt32BE(at + 12)) break
    let h: { d?: unknown; f?: unknown; l?: unknown }
    try {
      h = JSON.parse(header.toString('utf8'))
    } catch {
      break
    }
    if (typeof h.d !== 'string' || typeof h.f !== 'string' || typeof h.l !== 'string') break
    out.push({ deviceId: h.d, file: h.f, line: h.l, jpeg: body })
    at = end
  }
  return out
}

/** Segment files in `dir`, oldest first (none when `dir` does not exist). */
export async function segmentFiles(dir: string): Promise<string[]> {
  let names: string[]
  try {
    names = await fsp.readdir(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  return names
    .filter((n) => SEGMENT.test(n))
    .sort()
    .map((n) => path.join(dir, n))
}

/**
 * syncfs(2) of the filesystem holding `root` (coreutils `sync -f`); where that is missing or fails, fsync of each
 * file written and of their folders.
 */
export async function syncFilesystem(root: string, files: string[]): Promise<void> {
  if (await runSyncF(root)) return
  await fsyncEach(files, root)
}

let syncFUsable = process.platform === 'linux'

function runSyncF(root: string): Promise<boolean> {
  if (!syncFUsable) return Promise.resolve(false)
  return new Promise((resolve) => {
    const child = spawn('sync', ['-f', root], { stdio: 'ignore' })
    child.once('error', () => {
      syncFUsable = false // no coreutils sync: fsync each file from now on
      resolve(false)
    })
    child.once('exit', (code) => resolve(code === 0))
  })
}

/**
 * fsync of each file, then of each folder from the one holding it up to `root` (folders a frame created are not
 * synced when created), a few at a time.
 */
export async function fsyncEach(list: string[], root: string): Promise<void> {
  const dirs = new Set<string>()
  for (const f of list) {
    for (let d = path.dirname(f); !dirs.has(d); d = path.dirname(d)) {
      dirs.add(d)
      if (d === root || path.dirname(d) === d) break
    }
  }
  for (const group of [list, [...dirs]]) {
    for (let i = 0; i < group.length; i += 8) {
      await Promise.all(
        group.slice(i, i + 8).map(async (f) => {
          const fh = await fsp.open(f, 'r')
          try {
            await fh.sync()
          } finally {
            await fh.close()
          }
        }),
      )
    }
  }
}
