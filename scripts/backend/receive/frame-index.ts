/**
 * The per-device append-only index `<out>/<deviceId>/index.jsonl`: one JSON line per stored frame, in arrival
 * order, so a training script can list a device's frames without walking folders. The JPEG files are the
 * truth; a line is appended (in batches: group-commit.ts) once its frame is durable in the receiver's journal,
 * before the frame is acknowledged, and the index is repaired from the journal and the files on start-up.
 */
import { promises as fsp } from 'node:fs'
import type { FrameMetadata } from '../../../shared/contract/topics'

/** A device's index, `<out>/<deviceId>/index.jsonl`. */
export const INDEX_FILE = 'index.jsonl'

export interface IndexEntry {
  seq: number
  capturedAt: string
  tableId: string
  /** quantDigest() of the stored file: equal digests, the same quantization steps and sampling per component. */
  quantDigest: string
  bytes: number
  receivedAt: string
  width: number
  height: number
  /** Path relative to the device folder: `2026-11-25/42.jpg`, or the shard holding it, `shards/000003.tar`. */
  file: string
  /** Shards layout: where the JPEG's `bytes` start in `file`. */
  offset?: number
  /** The keep map the frame was encoded with (frame metadata `keepMap`): absent when none applied. */
  keepMap?: string
}

/**
 * Seqs listed in an index file, and the byte length of its complete lines: a crash mid-append can leave a torn
 * last line, which `FrameIndex.open` cuts off (the frame it described is re-indexed from its file).
 */
export async function readIndexedSeqs(file: string): Promise<{ seqs: Set<number>; completeBytes: number }> {
  const { seqs, next } = await readIndexFrom(file, 0)
  return { seqs: new Set(seqs), completeBytes: next }
}

/**
 * The seqs of the complete lines from byte `offset` on, and the offset after the last complete line: a receiver
 * sharing the folder with others (`--group`) reads their lines as they are appended, without re-reading the file.
 */
export async function readIndexFrom(file: string, offset: number): Promise<{ seqs: number[]; next: number }> {
  let fh: fsp.FileHandle
  try {
    fh = await fsp.open(file, 'r')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { seqs: [], next: offset }
    throw err
  }
  let buf: Buffer
  try {
    const size = (await fh.stat()).size
    if (size <= offset) return { seqs: [], next: offset }
    buf = Buffer.alloc(size - offset)
    const { bytesRead } = await fh.read(buf, 0, buf.length, offset)
    buf = buf.subarray(0, bytesRead)
  } finally {
    await fh.close()
  }
  const complete = buf.lastIndexOf(0x0a) + 1
  const seqs: number[] = []
  for (const line of buf.subarray(0, complete).toString('utf8').split('\n')) {
    if (!line) continue
    try {
      const e = JSON.parse(line) as Partial<IndexEntry>
      if (typeof e.seq === 'number') seqs.push(e.seq)
    } catch {
      // a line damaged some other way: its frame is re-indexed from its file
    }
  }
  return { seqs, next: offset + complete }
}

/** The index entry of a frame as it arrives; `file` relative to the device folder. */
export function entryForFrame(meta: FrameMetadata, bytes: number, receivedAt: Date, file: string): IndexEntry {
  return {
    seq: meta.seq,
    capturedAt: meta.capturedAt,
    tableId: meta.tableId,
    quantDigest: meta.quantDigest ?? '',
    bytes,
    receivedAt: receivedAt.toISOString(),
    width: meta.width,
    height: meta.height,
    file,
    ...(meta.keepMap !== undefined && { keepMap: meta.keepMap }),
  }
}

const FIND_CHUNK = 256 * 1024

/**
 * The last line for `seq` (any seq when undefined) in an index file, read backwards from its end (a redelivery is
 * of a recent frame, so this reads little of a long index); undefined when there is none.
 */
export async function findIndexEntry(file: string, seq?: number): Promise<IndexEntry | undefined> {
  const needle = seq === undefined ? '{"seq":' : `{"seq":${seq},`
  let fh: fsp.FileHandle
  try {
    fh = await fsp.open(file, 'r')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  try {
    let end = (await fh.stat()).size
    let carry = Buffer.alloc(0) // the start of a line cut by the previous chunk
    while (end > 0) {
      const start = Math.max(0, end - FIND_CHUNK)
      const buf = Buffer.alloc(end - start)
      await fh.read(buf, 0, buf.length, start)
      const text = Buffer.concat([buf, carry])
      const from = start === 0 ? 0 : text.indexOf(0x0a) + 1 // the first line may begin in an earlier chunk
      for (let at = text.lastIndexOf(needle); at >= from; at = text.lastIndexOf(needle, at - 1)) {
        if (at > 0 && text[at - 1] !== 0x0a) continue
        const nl = text.indexOf(0x0a, at)
        try {
          return JSON.parse(text.toString('utf8', at, nl < 0 ? text.length : nl)) as IndexEntry
        } catch {
          // a damaged line: look further back
        }
        if (at === 0) break
      }
      carry = text.subarray(0, from)
      end = start
    }
    return undefined
  } finally {
    await fh.close()
  }
}

/** An entry's line in the index file, newline included. */
export function indexLine(e: IndexEntry): string {
  return `${JSON.stringify(e)}\n`
}

export class FrameIndex {
  private constructor(
    private readonly fh: fsp.FileHandle,
    readonly file: string,
  ) {}

  /**
   * Opens for appending (O_APPEND), first cutting the file back to `completeBytes` (drops a torn last line).
   * `shared`: other receivers append to the file too (`--group`), so nothing is cut (it could be their lines);
   * a torn last line is ended with a newline instead, leaving one damaged line that readers skip.
   */
  static async open(file: string, completeBytes: number, shared = false): Promise<FrameIndex> {
    const fh = await fsp.open(file, 'a')
    try {
      const size = (await fh.stat()).size
      if (!shared) {
        if (size > completeBytes) await fh.truncate(completeBytes)
      } else if (size > 0) {
        const last = Buffer.alloc(1)
        const r = await fsp.open(file, 'r')
        try {
          await r.read(last, 0, 1, size - 1)
        } finally {
          await r.close()
        }
        // another member appending meanwhile writes whole lines, so at worst this adds an empty line
        if (last[0] !== 0x0a) await fh.write('\n')
      }
    } catch (err) {
      await fh.close().catch(() => undefined) // not left for garbage collection to close
      throw err
    }
    return new FrameIndex(fh, file)
  }

  /** Appends the entries' lines and syncs them (one fdatasync for the lot). */
  async append(entries: IndexEntry[]): Promise<void> {
    await this.appendDurable(entries.map(indexLine))
  }

  async appendDurable(lines: string[]): Promise<void> {
    if (lines.length === 0) return
    await this.appendLines(lines)
    await this.fh.datasync()
  }

  /**
   * Appends without syncing: the receiver's frames are durable through its journal, whose checkpoint syncs the
   * index too. One write(2) per batch: with O_APPEND on a local filesystem, Linux appends it whole, never
   * interleaved with another receiver's batch (--group); a short write (disk full) fails the batch, which is retried.
   */
  async appendLines(lines: string[]): Promise<void> {
    if (lines.length === 0) return
    const text = lines.join('')
    const { bytesWritten } = await this.fh.write(text)
    if (bytesWritten !== Buffer.byteLength(text)) throw new Error(`short write to the index (${bytesWritten} bytes)`)
  }

  /** Makes the lines appended so far durable. */
  async sync(): Promise<void> {
    await this.fh.datasync()
  }

  async close(): Promise<void> {
    await this.fh.sync().catch(() => undefined)
    await this.fh.close()
  }
}
