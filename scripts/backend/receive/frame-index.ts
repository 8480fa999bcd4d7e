/**
 * The per-device append-only index `<out>/<deviceId>/index.jsonl`: one JSON line per stored frame, in arrival
 * order, so a training script can list a device's frames without walking folders. The JPEG files are the
 * truth; a line is appended (and synced, in batches: group-commit.ts) after its file is durable, before the frame
 * is acknowledged, and the index is repaired from the files on start-up.
 */
import { promises as fsp } from 'node:fs'

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
  /** Path relative to the device folder, e.g. `2026-11-25/42.jpg`. */
  file: string
}

/**
 * Seqs listed in an index file, and the byte length of its complete lines: a crash mid-append can leave a torn
 * last line, which `FrameIndex.open` cuts off (the frame it described is re-indexed from its file).
 */
export async function readIndexedSeqs(file: string): Promise<{ seqs: Set<number>; completeBytes: number }> {
  let buf: Buffer
  try {
    buf = await fsp.readFile(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { seqs: new Set(), completeBytes: 0 }
    throw err
  }
  const completeBytes = buf.lastIndexOf(0x0a) + 1
  const seqs = new Set<number>()
  for (const line of buf.subarray(0, completeBytes).toString('utf8').split('\n')) {
    if (!line) continue
    try {
      const e = JSON.parse(line) as Partial<IndexEntry>
      if (typeof e.seq === 'number') seqs.add(e.seq)
    } catch {
      // a line damaged some other way: its frame is re-indexed from its file
    }
  }
  return { seqs, completeBytes }
}

/** An entry's line in the index file, newline included. */
export function indexLine(e: IndexEntry): string {
  return `${JSON.stringify(e)}\n`
}

export class FrameIndex {
  private constructor(private readonly fh: fsp.FileHandle) {}

  /** Opens for appending, first cutting the file back to `completeBytes` (drops a torn last line). */
  static async open(file: string, completeBytes: number): Promise<FrameIndex> {
    const fh = await fsp.open(file, 'a')
    if ((await fh.stat()).size > completeBytes) await fh.truncate(completeBytes)
    return new FrameIndex(fh)
  }

  /** Appends the entries' lines and syncs them (one fdatasync for the lot). */
  async append(entries: IndexEntry[]): Promise<void> {
    await this.appendDurable(entries.map(indexLine))
  }

  async appendDurable(lines: string[]): Promise<void> {
    if (lines.length === 0) return
    await this.fh.write(lines.join(''))
    await this.fh.datasync()
  }

  async close(): Promise<void> {
    await this.fh.sync().catch(() => undefined)
    await this.fh.close()
  }
}
