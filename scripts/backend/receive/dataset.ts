/**
 * The dataset folder a training script reads directly: `<out>/<deviceId>/<YYYY-MM-DD>/<seq>.jpg` (UTC date of
 * capture) plus `<out>/<deviceId>/index.jsonl`. Delivery is at-least-once, so frames are de-duplicated by
 * (device, seq); which seqs are stored is rebuilt from the files on disk at start-up, never from memory alone.
 * Frames are written concurrently and made durable in groups through a write-ahead journal (group-commit.ts,
 * journal.ts): after a power cut, start-up rewrites from the journal any acknowledged frame or index line the disk
 * lost.
 *
 * Shared (`deepn receive --group`): several receiver processes write one folder. A frame file is claimed with
 * link(2), which fails if it exists, so each (device, seq) is stored once whichever member got it; its index line
 * is appended by whoever takes the frame's claim token (line-claim.ts), so once; lines are appended whole with
 * O_APPEND (frame-index.ts), and each member reads the others' lines as they come (`refreshShared`), so its
 * stored-seq ranges, gaps and acks cover the whole folder.
 */
import { closeSync, promises as fsp, openSync, renameSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { readJpegMetadata } from '../../../shared/codec/metadata'
import { quantDigest } from '../../../shared/codec/quant-digest'
import type { FrameMetadata } from '../../../shared/contract/topics'
import { ensureDirDurable, isTempFile, linkNoClobber, TEMP_PREFIX, writeFileAtomic } from '../../../agent/atomic-file'
import {
  entryForFrame,
  FrameIndex,
  INDEX_FILE,
  indexLine,
  readIndexFrom,
  readIndexedSeqs,
  type IndexEntry,
} from './frame-index'
import { GroupCommit } from './group-commit'
import { FrameJournal, fsyncEach, type Flush, type JournalRecord } from './journal'
import { claimedFrameName, claimTokenPath, holdClaim, takeClaim, takeClaimSync, takeLine } from './line-claim'
import { SeqRanges } from './seq-ranges'
import { checkJpegStructure } from './jpeg-structure'
import { deviceIdProblem } from '../../../shared/contract/ids'
import { claimLayout, DeviceSeqs, deviceFolders, type FrameStore, type StoreResult } from './frame-store'

const DAY_DIR = /^\d{4}-\d{2}-\d{2}$/
const FRAME_FILE = /^(\d+)\.jpg$/
/** A journal record's path relative to its device folder. */
const FRAME_REL = /^\d{4}-\d{2}-\d{2}\/(\d+)\.jpg$/
/** Receivers' journals, `<out>/.deepn-journal/<name>/` (not a device folder: a device id cannot start with '.'). */
export const JOURNAL_DIR = '.deepn-journal'
/**
 * Shared folder: a frame file younger than this without an index line may be another member's, between its link
 * and its line; older, its writer died there, and whoever meets the frame (start-up scan, a redelivery) indexes it.
 */
export const SHARED_GRACE_MS = 5000

/** Per device only the seq ranges stay in memory (not a path per frame): a long-running receiver stays small. */
interface DeviceState {
  seqs: SeqRanges
  index: FrameIndex
  /** Shared folder: seqs with an index line seen (read or appended), and how far the index has been read. */
  indexed: SeqRanges
  indexOffset: number
}

export interface DatasetOptions {
  /** Other receivers write this folder too (`--group`). */
  shared?: boolean
  /**
   * This writer's journal (`<root>/.deepn-journal/<journal>/`); receivers sharing the folder need distinct names,
   * and a restarted receiver must use its old one to replay it. Default 'receiver'.
   */
  journal?: string
  /** Journal segment size before a checkpoint (tests); default journal.ts DEFAULT_SEGMENT_BYTES. */
  journalSegmentBytes?: number
  /** How a checkpoint makes written files durable (tests); default syncfs of the dataset's filesystem. */
  flush?: Flush
  /** Shared folder: the grace period (tests); default SHARED_GRACE_MS. */
  graceMs?: number
}

/** A journal name as a folder name: anything but letters, digits, '.', '_' and '-' becomes '_'. */
export function journalFolderName(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_')
  return safe.length > 0 ? safe.slice(0, 200) : '_'
}

/** The folders layout: one JPEG file per frame (frame-store.ts). */
export class Dataset extends DeviceSeqs<DeviceState> implements FrameStore {
  readonly layout = 'folders'
  /** Devices being opened (first frame of a new device): concurrent frames share one open. */
  /** Folders known to exist durably, or being created. */
  private readonly dirs = new Map<string, Promise<void>>()
  private journal!: FrameJournal
  private commits!: GroupCommit

  private constructor(
    readonly root: string,
    private readonly shared: boolean,
    private readonly graceMs: number,
  ) {
    super()
  }

  /**
   * Opens (creating) `root`, replays the journal a crash left (frames and index lines the disk lost), removes temp
   * files and re-indexes files the index lacks (shared: only those older than the grace period, younger ones may be
   * another member's, mid-write; a claim token stays while its frame has no line, and the line is appended only by
   * who takes it: line-claim.ts).
   */
  static async open(root: string, opts: DatasetOptions = {}): Promise<Dataset> {
    const ds = new Dataset(path.resolve(root), opts.shared ?? false, opts.graceMs ?? SHARED_GRACE_MS)
    await ensureDirDurable(ds.root)
    await claimLayout(ds.root, 'folders')
    ds.journal = await FrameJournal.open(
      path.join(ds.root, JOURNAL_DIR, journalFolderName(opts.journal ?? 'receiver')),
      ds.root,
      { segmentBytes: opts.journalSegmentBytes, flush: opts.flush, replay: (records) => ds.replay(records) },
    )
    ds.commits = new GroupCommit(ds.journal)
    for (const id of await deviceFolders(ds.root)) ds.devices.set(id, await ds.load(id))
    return ds
  }

  /** Relative path (from root) a frame is stored at. */
  static framePath(deviceId: string, meta: Pick<FrameMetadata, 'seq' | 'capturedAt'>): string {
    const day = new Date(meta.capturedAt).toISOString().slice(0, 10)
    return path.join(deviceId, day, `${meta.seq}.jpg`)
  }

  folderOf(deviceId: string, meta: Pick<FrameMetadata, 'seq' | 'capturedAt'>): string {
    return path.dirname(path.join(this.root, Dataset.framePath(deviceId, meta)))
  }

  /**
   * Writes the frame durably: temp file + rename (not synced), then (shared with the frames written meanwhile:
   * group-commit.ts) the frame appended to the journal and synced, and its index line appended. Resolves only
   * then. Its commit slot is taken before anything is awaited: the index lists frames in the order `store` was
   * called.
   */
  protected async write(
    deviceId: string,
    meta: FrameMetadata,
    jpeg: Uint8Array,
    receivedAt: Date,
  ): Promise<StoreResult> {
    const slot = this.commits.reserve()
    try {
      const dev = await this.device(deviceId)
      if (dev.seqs.has(meta.seq)) {
        slot.cancel()
        return this.duplicate(deviceId, dev, meta)
      }
      const rel = Dataset.framePath(deviceId, meta)
      const file = path.join(this.root, rel)
      const dir = path.dirname(file)
      await this.ensureDir(dir)
      try {
        // durable through the journal; shared, link(2) claims the file: another member may have stored it
        await writeFrameFile(file, jpeg, this.shared)
      } catch (err) {
        if (!this.shared || (err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
        slot.cancel()
        // The file may be this member's own from a batch whose journal append failed (this is its retry), so
        // in no journal: acknowledged as a duplicate, it must be durable itself. Rare, so synced right here.
        await fsyncEach([file], this.root)
        dev.seqs.add(meta.seq)
        return this.duplicate(deviceId, dev, meta)
      }
      const relToDevice = path.relative(path.join(this.root, deviceId), file)
      const line = indexLine(entryForFrame(meta, jpeg.length, receivedAt, relToDevice))
      await slot.commit({
        record: { deviceId, file: relToDevice.split(path.sep).join('/'), line, jpeg },
        file,
        index: dev.index,
        ...(this.shared && { claim: () => takeClaimSync(file) }),
        onDurable: () => {
          dev.seqs.add(meta.seq)
          dev.indexed.add(meta.seq)
        },
      })
      return { stored: true, file }
    } catch (err) {
      slot.cancel()
      throw err
    }
  }

  /**
   * A frame already stored. Shared, its index line is made sure of: the member that stored it may have died
   * between its link and its line (the broker then redelivers the frame); after the grace period without the line
   * appearing, this member appends it if it takes the claim (line-claim.ts).
   */
  private async duplicate(deviceId: string, dev: DeviceState, meta: FrameMetadata): Promise<StoreResult> {
    const conflict = await this.differsFromStored(deviceId, meta)
    if (this.shared && !conflict && !dev.indexed.has(meta.seq)) {
      const rel = Dataset.framePath(deviceId, meta)
      const file = path.join(this.root, rel)
      const lineSeen = async (): Promise<boolean> => {
        await this.refreshDevice(deviceId, dev)
        return dev.indexed.has(meta.seq)
      }
      if (!(await lineSeen())) {
        const wait = (await fsp.stat(file)).ctimeMs + this.graceMs - Date.now()
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
      }
      if (!(await lineSeen())) {
        const relToDevice = path.relative(path.join(this.root, deviceId), file)
        const { entry } = await entryFromFile(file, meta.seq, relToDevice)
        if (await takeLine(file, this.graceMs, lineSeen)) {
          await dev.index.append([entry])
          dev.indexed.add(meta.seq)
        }
      }
    }
    return { stored: false, conflict }
  }

  /**
   * Shared folder: takes in what the other members stored since the last call (their index lines, and devices
   * new to this member). Returns the devices whose stored seqs grew.
   */
  async refreshShared(): Promise<string[]> {
    const grown: string[] = []
    for (const id of await deviceFolders(this.root)) {
      const known = this.devices.get(id)
      if (!known) {
        const dev = await this.device(id)
        if (dev.seqs.size > 0) grown.push(id)
        continue
      }
      if (await this.refreshDevice(id, known)) grown.push(id)
    }
    return grown
  }

  /** Reads the device's index lines appended since the last read; true when new seqs came in. */
  private async refreshDevice(deviceId: string, dev: DeviceState): Promise<boolean> {
    const { seqs, next } = await readIndexFrom(path.join(this.root, deviceId, INDEX_FILE), dev.indexOffset)
    dev.indexOffset = Math.max(dev.indexOffset, next)
    let grew = false
    for (const seq of seqs) {
      if (!Number.isSafeInteger(seq) || seq < 0) continue
      dev.indexed.add(seq)
      if (dev.seqs.add(seq)) grew = true
    }
    return grew
  }

  /**
   * A day's folder, created once (concurrent first frames of a day share the work). Not synced: like the frame
   * files, the journal's replay recreates it after a power cut, and its checkpoint makes it durable.
   */
  private ensureDir(dir: string): Promise<void> {
    let ready = this.dirs.get(dir)
    if (!ready) {
      ready = fsp.mkdir(dir, { recursive: true }).then(() => undefined)
      this.dirs.set(dir, ready)
      ready.catch(() => this.dirs.delete(dir)) // retried by the next frame
    }
    return ready
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

  /** Finishes the commits, then syncs the indexes and checkpoints the journal (a clean stop leaves it empty). */
  async close(): Promise<void> {
    await this.commits.idle()
    for (const dev of this.devices.values()) await dev.index.close()
    this.devices.clear()
    await this.journal.close()
  }

  /**
   * Start-up after a crash: the journal's frames (each acknowledged once synced there) whose file is missing or
   * not byte-identical are rewritten, and index lines the index lacks are appended (shared: if this member takes the
   * claim, line-claim.ts; a file it rewrote no other member can have met). Returns every file the journal
   * covers (the journal flushes them before deleting itself: after a kill, a file that reads back right may still
   * be only in the page cache). Runs before the devices are loaded, so the scan that follows sees the repaired
   * folder.
   */
  private async replay(records: JournalRecord[]): Promise<string[]> {
    const byDevice = new Map<string, Map<number, JournalRecord>>()
    for (const r of records) {
      const m = FRAME_REL.exec(r.file)
      if (!m || deviceIdProblem(r.deviceId)) continue // not written by this code: nothing to restore
      let recs = byDevice.get(r.deviceId)
      if (!recs) byDevice.set(r.deviceId, (recs = new Map()))
      if (!recs.has(Number(m[1]))) recs.set(Number(m[1]), r) // a retried batch may hold a frame twice
    }
    const covered: string[] = []
    for (const [deviceId, recs] of byDevice) {
      const devDir = path.join(this.root, deviceId)
      const rewritten = new Set<number>()
      for (const [seq, r] of recs) {
        const file = path.join(devDir, ...r.file.split('/'))
        covered.push(file)
        if (await sameBytes(file, r.jpeg)) continue
        await ensureDirDurable(path.dirname(file))
        await writeFileAtomic(file, r.jpeg) // synced with its folder
        rewritten.add(seq)
      }
      const indexFile = path.join(devDir, INDEX_FILE)
      covered.push(indexFile)
      const { seqs, completeBytes } = await readIndexedSeqs(indexFile)
      const lineSeen = this.indexReader(indexFile, seqs, completeBytes)
      const lines: string[] = []
      for (const [seq, r] of recs) {
        if (seqs.has(seq)) continue
        if (this.shared) {
          const file = path.join(devDir, ...r.file.split('/'))
          if (rewritten.has(seq))
            await takeClaim(file) // a token left from before the rewrite would be stale
          else if (!(await takeLine(file, this.graceMs, () => lineSeen(seq)))) continue
        }
        lines.push(r.line)
      }
      const index = await FrameIndex.open(indexFile, completeBytes, this.shared)
      try {
        await index.appendDurable(lines)
      } finally {
        await index.close()
      }
    }
    return covered
  }

  /**
   * `lineSeen(seq)` for line-claim.ts `takeLine`: whether `seq` is in `seqs` (the index read up to `offset`) or
   * in a line appended since, read incrementally.
   */
  private indexReader(indexFile: string, seqs: Set<number>, offset: number): (seq: number) => Promise<boolean> {
    let next = offset
    return async (seq) => {
      const more = await readIndexFrom(indexFile, next)
      next = Math.max(next, more.next)
      for (const s of more.seqs) seqs.add(s)
      return seqs.has(seq)
    }
  }

  protected async load(deviceId: string): Promise<DeviceState> {
    const devDir = path.join(this.root, deviceId)
    await fsp.mkdir(devDir, { recursive: true }) // not synced either (see ensureDir)
    const indexFile = path.join(devDir, INDEX_FILE)
    const { seqs: indexed, completeBytes } = await readIndexedSeqs(indexFile)
    const seqs = new SeqRanges()
    const unindexed: Array<[number, string]> = []
    for (const day of await fsp.readdir(devDir, { withFileTypes: true })) {
      if (!day.isDirectory() || !DAY_DIR.test(day.name)) continue
      const dayDir = path.join(devDir, day.name)
      this.dirs.set(dayDir, Promise.resolve())
      const names = await fsp.readdir(dayDir)
      const present = new Set(names)
      for (const name of names) {
        if (isTempFile(name)) {
          if (this.shared && isOpenClaim(name, present, indexed)) continue // taken below, or by its writer
          if (!this.shared || (await isOlderThan(path.join(dayDir, name), this.graceMs)))
            await fsp.rm(path.join(dayDir, name), { force: true }) // shared: a young one is another member's
          continue
        }
        const m = FRAME_FILE.exec(name)
        if (!m) continue
        const seq = Number(m[1])
        if (!Number.isSafeInteger(seq) || seqs.has(seq)) continue
        if (indexed.has(seq)) seqs.add(seq)
        else unindexed.push([seq, path.join(day.name, name)])
      }
    }
    const index = await FrameIndex.open(indexFile, completeBytes, this.shared)
    const indexedRanges = new SeqRanges()
    for (const seq of indexed) if (Number.isSafeInteger(seq) && seq >= 0) indexedRanges.add(seq)
    const found: Array<{ seq: number; file: string; entry: IndexEntry }> = []
    const now = Date.now()
    for (const [seq, rel] of unindexed.sort((a, b) => a[0] - b[0])) {
      const file = path.join(devDir, rel)
      if (this.shared && (await fsp.stat(file)).ctimeMs > now - this.graceMs) {
        seqs.add(seq) // maybe mid-write elsewhere
        continue
      }
      // Neither indexed nor in the journal (replayed by now): a frame never acknowledged, its file written but
      // not synced. After a power cut it may be empty or cut short: such a file goes, and the broker's
      // redelivery stores the frame, rather than being refused as a conflict with the remains.
      const entry = await entryFromFile(file, seq, rel)
      if (!entry.intact) {
        await fsp.rm(file, { force: true })
        if (this.shared) await fsp.rm(claimTokenPath(file), { force: true })
        continue
      }
      found.push({ seq, file, entry: entry.entry })
    }
    // Indexed now, a redelivery of one of these is acknowledged as a duplicate: it must be on disk, not only in
    // the page cache of a killed receiver. Synced before the claims, so a claim is followed by its line at once.
    await fsyncEach(
      found.map((f) => f.file),
      this.root,
    )
    const lineSeen = this.indexReader(indexFile, indexed, completeBytes)
    const missing: IndexEntry[] = []
    for (const { seq, file, entry } of found) {
      seqs.add(seq)
      if (this.shared && !(await takeLine(file, this.graceMs, () => lineSeen(seq)))) continue // another's line
      missing.push(entry)
      indexedRanges.add(seq)
    }
    await index.append(missing)
    return { seqs, index, indexed: indexedRanges, indexOffset: completeBytes }
  }
}

/**
 * The frame file, not synced (the journal makes it durable): temp file, then rename, or `shared` link(2), which
 * fails with EEXIST when the frame is there already, and the temp file stays as the frame's claim token
 * (line-claim.ts). A reader never sees a partly written frame.
 *
 * Not shared, with synchronous calls: open, write, close and rename of a small file on the event loop cost less
 * than four trips through libuv's thread pool (bench:receive live, interleaved with the promise calls: 362 -> 234
 * us of CPU per frame, 2,370 -> 2,912 frames/s).
 */
async function writeFrameFile(file: string, jpeg: Uint8Array, shared: boolean): Promise<void> {
  const tmp = path.join(path.dirname(file), `${TEMP_PREFIX}${process.pid}-${++tempCounter}-${path.basename(file)}`)
  let placed = false
  try {
    if (!shared) {
      const fd = openSync(tmp, 'wx')
      try {
        writeFileSync(fd, jpeg)
      } finally {
        closeSync(fd)
      }
      renameSync(tmp, file)
    } else {
      await fsp.writeFile(tmp, jpeg, { flag: 'wx' })
      await linkNoClobber(tmp, file)
      await holdClaim(tmp, file)
    }
    placed = true
  } finally {
    if (!placed) await fsp.unlink(tmp).catch(() => undefined) // failed, or the frame was there: the temp name goes
  }
}
let tempCounter = 0

async function sameBytes(file: string, bytes: Uint8Array): Promise<boolean> {
  try {
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).equals(await fsp.readFile(file))
  } catch {
    return false
  }
}

/**
 * Shared folder: `name` is the claim token of a frame in the same folder (`present`) that has no index line: not
 * a temp file to sweep, the right to append that line (line-claim.ts).
 */
function isOpenClaim(name: string, present: Set<string>, indexed: Set<number>): boolean {
  const frame = claimedFrameName(name)
  const m = frame === undefined ? null : FRAME_FILE.exec(frame)
  return m !== null && present.has(frame!) && !indexed.has(Number(m[1]))
}

async function isOlderThan(file: string, ms: number): Promise<boolean> {
  const st = await fsp.stat(file).catch(() => undefined)
  return st !== undefined && st.ctimeMs < Date.now() - ms
}

/**
 * Index line for a file stored before a crash cut off its index append; receive time = file mtime. `intact`: the
 * file is a whole JPEG (structure check) with its metadata, as every frame was when it was written.
 */
async function entryFromFile(file: string, seq: number, rel: string): Promise<{ entry: IndexEntry; intact: boolean }> {
  const [bytes, st] = await Promise.all([fsp.readFile(file), fsp.stat(file)])
  let meta: Record<string, unknown> = {}
  let digest = ''
  let intact = false
  try {
    checkJpegStructure(bytes)
    meta = readJpegMetadata(bytes) ?? {}
    digest = quantDigest(bytes)
    intact = typeof meta.capturedAt === 'string'
  } catch {
    // stored files were validated before writing: damage came later (a power cut before the file was synced)
  }
  const entry = {
    seq,
    capturedAt: typeof meta.capturedAt === 'string' ? meta.capturedAt : '',
    tableId: typeof meta.tableId === 'string' ? meta.tableId : '',
    quantDigest: digest,
    bytes: bytes.length,
    receivedAt: st.mtime.toISOString(),
    width: typeof meta.width === 'number' ? meta.width : 0,
    height: typeof meta.height === 'number' ? meta.height : 0,
    file: rel,
    ...(typeof meta.keepMap === 'string' && { keepMap: meta.keepMap }),
  }
  return { entry, intact }
}
