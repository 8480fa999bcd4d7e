/**
 * The dataset folder a training script reads directly: `<out>/<deviceId>/<YYYY-MM-DD>/<seq>.jpg` (UTC date of
 * capture) plus `<out>/<deviceId>/index.jsonl`. Delivery is at-least-once, so frames are de-duplicated by
 * (device, seq); which seqs are stored is rebuilt from the files on disk at start-up, never from memory alone.
 */
import { promises as fsp } from 'node:fs'
import * as path from 'node:path'
import { readJpegMetadata } from '../../../shared/codec/metadata'
import { quantDigest } from '../../../shared/codec/quant-digest'
import type { FrameMetadata } from '../../../shared/contract/topics'
import { ensureDirDurable, isTempFile, writeFileAtomic } from '../../../agent/atomic-file'
import { FrameIndex, readIndexedSeqs, type IndexEntry } from './frame-index'
import { SeqRanges } from './seq-ranges'
import { checkDeviceId } from './validate'

const DAY_DIR = /^\d{4}-\d{2}-\d{2}$/
const FRAME_FILE = /^(\d+)\.jpg$/
export const INDEX_FILE = 'index.jsonl'

export interface StoreResult {
  /** False when (device, seq) was already stored: a duplicate delivery, nothing written. */
  stored: boolean
  /** Absolute path of the file written; undefined for a duplicate. */
  file?: string
  /**
   * A refused seq whose stored frame has a different capture time (or is not where that time puts it): not a
   * redelivery but a reused seq — typically an agent whose buffer database was wiped. Worth a loud warning.
   */
  conflict?: boolean
}

/** Per device only the seq ranges stay in memory (not a path per frame): a long-running receiver stays small. */
interface DeviceState {
  seqs: SeqRanges
  index: FrameIndex
}

export class Dataset {
  private readonly devices = new Map<string, DeviceState>()
  private readonly knownDirs = new Set<string>()

  private constructor(readonly root: string) {}

  /** Opens (creating) `root`, removes temp files left by a crash and re-indexes files the index lacks. */
  static async open(root: string): Promise<Dataset> {
    const ds = new Dataset(path.resolve(root))
    await ensureDirDurable(ds.root)
    for (const entry of await fsp.readdir(ds.root, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue
      try {
        checkDeviceId(entry.name)
      } catch {
        continue // not ours
      }
      await ds.loadDevice(entry.name)
    }
    return ds
  }

  deviceIds(): string[] {
    return [...this.devices.keys()]
  }

  /** The stored seqs of a device (empty ranges for an unknown device). */
  seqs(deviceId: string): SeqRanges {
    return this.devices.get(deviceId)?.seqs ?? new SeqRanges()
  }

  has(deviceId: string, seq: number): boolean {
    return this.devices.get(deviceId)?.seqs.has(seq) ?? false
  }

  /** Relative path (from root) a frame is stored at. */
  static framePath(deviceId: string, meta: Pick<FrameMetadata, 'seq' | 'capturedAt'>): string {
    const day = new Date(meta.capturedAt).toISOString().slice(0, 10)
    return path.join(deviceId, day, `${meta.seq}.jpg`)
  }

  /** Writes the frame durably (temp + fsync + rename + directory fsync), then appends its index line. */
  async store(deviceId: string, meta: FrameMetadata, jpeg: Uint8Array, receivedAt: Date): Promise<StoreResult> {
    const dev = await this.device(deviceId)
    if (dev.seqs.has(meta.seq)) return { stored: false, conflict: await this.differsFromStored(deviceId, meta) }
    const rel = Dataset.framePath(deviceId, meta)
    const file = path.join(this.root, rel)
    const dir = path.dirname(file)
    if (!this.knownDirs.has(dir)) {
      await ensureDirDurable(dir)
      this.knownDirs.add(dir)
    }
    await writeFileAtomic(file, jpeg)
    const relToDevice = path.relative(path.join(this.root, deviceId), file)
    dev.seqs.add(meta.seq)
    await dev.index.append([entryFor(meta, jpeg.length, receivedAt, relToDevice)])
    return { stored: true, file }
  }

  /** Reads the stored copy a redelivery of `meta` would have (duplicates are rare, so the read is affordable). */
  private async differsFromStored(deviceId: string, meta: FrameMetadata): Promise<boolean> {
    try {
      const stored = readJpegMetadata(await fsp.readFile(path.join(this.root, Dataset.framePath(deviceId, meta))))
      return stored?.capturedAt !== meta.capturedAt
    } catch {
      return true
    }
  }

  async close(): Promise<void> {
    for (const dev of this.devices.values()) await dev.index.close()
    this.devices.clear()
  }

  private async device(deviceId: string): Promise<DeviceState> {
    const dev = this.devices.get(deviceId)
    if (dev) return dev
    checkDeviceId(deviceId)
    await ensureDirDurable(path.join(this.root, deviceId))
    return this.loadDevice(deviceId)
  }

  private async loadDevice(deviceId: string): Promise<DeviceState> {
    const devDir = path.join(this.root, deviceId)
    const indexFile = path.join(devDir, INDEX_FILE)
    const { seqs: indexed, completeBytes } = await readIndexedSeqs(indexFile)
    const seqs = new SeqRanges()
    const unindexed: Array<[number, string]> = []
    for (const day of await fsp.readdir(devDir, { withFileTypes: true })) {
      if (!day.isDirectory() || !DAY_DIR.test(day.name)) continue
      const dayDir = path.join(devDir, day.name)
      this.knownDirs.add(dayDir)
      for (const name of await fsp.readdir(dayDir)) {
        if (isTempFile(name)) {
          await fsp.rm(path.join(dayDir, name), { force: true })
          continue
        }
        const m = FRAME_FILE.exec(name)
        if (!m) continue
        const seq = Number(m[1])
        if (!Number.isSafeInteger(seq) || !seqs.add(seq)) continue
        if (!indexed.has(seq)) unindexed.push([seq, path.join(day.name, name)])
      }
    }
    const index = await FrameIndex.open(indexFile, completeBytes)
    const missing: IndexEntry[] = []
    for (const [seq, rel] of unindexed.sort((a, b) => a[0] - b[0]))
      missing.push(await entryFromFile(path.join(devDir, rel), seq, rel))
    await index.append(missing)
    const dev = { seqs, index }
    this.devices.set(deviceId, dev)
    return dev
  }
}

function entryFor(meta: FrameMetadata, bytes: number, receivedAt: Date, file: string): IndexEntry {
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
  }
}

/** Index line for a file stored before a crash cut off its index append; receive time = file mtime. */
async function entryFromFile(file: string, seq: number, rel: string): Promise<IndexEntry> {
  const [bytes, st] = await Promise.all([fsp.readFile(file), fsp.stat(file)])
  let meta: Record<string, unknown> = {}
  let digest = ''
  try {
    meta = readJpegMetadata(bytes) ?? {}
    digest = quantDigest(bytes)
  } catch {
    // stored files were validated before writing; a damaged one still gets an index line
  }
  return {
    seq,
    capturedAt: typeof meta.capturedAt === 'string' ? meta.capturedAt : '',
    tableId: typeof meta.tableId === 'string' ? meta.tableId : '',
    quantDigest: digest,
    bytes: bytes.length,
    receivedAt: st.mtime.toISOString(),
    width: typeof meta.width === 'number' ? meta.width : 0,
    height: typeof meta.height === 'number' ? meta.height : 0,
    file: rel,
  }
}
