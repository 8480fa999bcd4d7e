/**
 * The shards layout (`deepn receive --layout shards`, frame-store.ts): each device's frames appended to tar
 * shards, `<out>/<deviceId>/shards/000001.tar`, ..., which `tar`, Python's tarfile and WebDataset read as they
 * are, beside the same `<out>/<deviceId>/index.jsonl` as the folders layout, whose lines also give each frame's
 * `offset` in its shard. A frame is two members, `<seq>.jpg` and `<seq>.json` (its index line): a shard describes
 * itself.
 *
 * Durability without a file per frame: the frames that arrive together are appended to their device's shard with
 * one write and one fdatasync (the shard is its own write-ahead log), then their index lines are appended, not
 * synced. A batch's fdatasync overlaps the next batch's write (on a busy machine each takes several ms, and
 * waiting for both in turn halved the frames per second), and batches written during a sync share the next one.
 * After a crash only the shard that was being written can hold frames the index lacks, or a torn batch at its end
 * (never acknowledged): opening cuts the torn tail, indexes the missing frames from their `.json` members and ends
 * that shard; frames go on in a new one. A shard is ended (end-of-archive marker, synced, index synced)
 * once it reaches `shardBytes`, and at close.
 */
import { promises as fsp } from 'node:fs'
import * as path from 'node:path'
import type { FrameMetadata } from '../../../shared/contract/topics'
import { ensureDirDurable, fsyncDir } from '../../../agent/atomic-file'
import { claimLayout, DeviceSeqs, deviceFolders, type FrameStore, type StoreResult } from './frame-store'
import {
  entryForFrame,
  findIndexEntry,
  FrameIndex,
  INDEX_FILE,
  indexLine,
  readIndexedSeqs,
  type IndexEntry,
} from './frame-index'
import { CoalescedSync } from './coalesced-sync'
import { SeqRanges } from './seq-ranges'
import { BLOCK, END_OF_ARCHIVE, memberBytes, readTarHeader, type TarInput, tarMembers } from './tar'

export const SHARD_DIR = 'shards'
/** A shard is ended once it holds this much: WebDataset's advice is shards of a few hundred MB. */
export const DEFAULT_SHARD_BYTES = 128 * 1024 * 1024
const SHARD_FILE = /^(\d{6,})\.tar$/
const SHARD_REL = /^shards\/(\d{6,})\.tar$/

/** A shard's path relative to its device folder, as index lines name it. */
function shardRel(n: number): string {
  return `${SHARD_DIR}/${String(n).padStart(6, '0')}.tar`
}

export interface ShardStoreOptions {
  /** Size at which a shard is ended and the next begun (tests); default DEFAULT_SHARD_BYTES. */
  shardBytes?: number
}

interface Shard {
  fh: fsp.FileHandle
  file: string
  /** Relative to the device folder, as index lines name it. */
  rel: string
  /** Bytes of whole frames in it: the next batch goes here. */
  size: number
  frames: number
  /** A write or sync failed: the bytes after `size` are cut before the next write. */
  torn: boolean
  /** Its fdatasyncs: batches written while one runs share the next. */
  syncs: CoalescedSync
}

interface ShardDevice {
  dir: string
  seqs: SeqRanges
  index: FrameIndex
  /** The shard being appended to; opened by the first frame after start-up or after the previous one ended. */
  shard?: Shard
  /** Highest shard number in the folder. */
  lastShard: number
  /** Lines of durable frames whose append to the index failed: written before the next batch's. */
  unwritten: string[]
  /**
   * The last batch written: settles once it and every earlier batch have settled; resolves when all of them are
   * durable, rejects when one of them failed.
   */
  synced: Promise<void>
}

interface Pending {
  dev: ShardDevice
  meta: FrameMetadata
  jpeg: Uint8Array
  receivedAt: Date
  resolve: (res: StoreResult) => void
  reject: (err: unknown) => void
}

export class ShardStore extends DeviceSeqs<ShardDevice> implements FrameStore {
  readonly layout = 'shards'
  /** Frames waiting for the next batch; one batch is written at a time, the next gathers meanwhile. */
  private queue: Pending[] = []
  private running: Promise<void> | undefined

  private constructor(
    readonly root: string,
    private readonly shardBytes: number,
  ) {
    super()
  }

  /** Opens (creating) `root`; each device's last shard is repaired and ended if a crash left it open. */
  static async open(root: string, opts: ShardStoreOptions = {}): Promise<ShardStore> {
    const store = new ShardStore(path.resolve(root), opts.shardBytes ?? DEFAULT_SHARD_BYTES)
    await ensureDirDurable(store.root)
    await claimLayout(store.root, 'shards')
    for (const id of await deviceFolders(store.root)) store.devices.set(id, await store.load(id))
    return store
  }

  folderOf(deviceId: string): string {
    return path.join(this.root, deviceId, SHARD_DIR)
  }

  /** Members of a shared folder are not supported by this layout: nothing to take in. */
  async refreshShared(): Promise<string[]> {
    return []
  }

  protected async write(
    deviceId: string,
    meta: FrameMetadata,
    jpeg: Uint8Array,
    receivedAt: Date,
  ): Promise<StoreResult> {
    const dev = await this.device(deviceId)
    if (dev.seqs.has(meta.seq)) return this.duplicate(dev, meta)
    return new Promise<StoreResult>((resolve, reject) => {
      this.queue.push({ dev, meta, jpeg, receivedAt, resolve, reject })
      this.kick()
    })
  }

  /** A stored seq again: a redelivery, or a conflict when the stored frame was captured at another time. */
  private async duplicate(dev: ShardDevice, meta: FrameMetadata): Promise<StoreResult> {
    const stored: Pick<IndexEntry, 'capturedAt'> | undefined =
      (await findIndexEntry(dev.index.file, meta.seq)) ??
      dev.unwritten.map((l) => JSON.parse(l) as IndexEntry).find((e) => e.seq === meta.seq)
    return { stored: false, conflict: stored?.capturedAt !== meta.capturedAt }
  }

  private kick(): void {
    if (this.running || this.queue.length === 0) return
    const batch = this.queue
    this.queue = []
    this.running = this.commit(batch).finally(() => {
      this.running = undefined
      this.kick()
    })
  }

  /** Each device's frames of the batch, in call order: one write per device, synced while the next is written. */
  private async commit(batch: Pending[]): Promise<void> {
    const byDevice = new Map<ShardDevice, Pending[]>()
    for (const p of batch) {
      const list = byDevice.get(p.dev)
      if (list) list.push(p)
      else byDevice.set(p.dev, [p])
    }
    await Promise.all(
      [...byDevice].map(([dev, items]) =>
        this.append(dev, items).catch((err: unknown) => {
          for (const p of items) p.reject(err) // not acknowledged: the broker redelivers, the retry stores them
        }),
      ),
    )
  }

  /**
   * Writes the device's frames of a batch and returns: they are synced, indexed and resolved by `settle` while the
   * next batch is written.
   */
  private async append(dev: ShardDevice, items: Pending[]): Promise<void> {
    let shard = dev.shard
    if (shard?.torn) {
      await dev.synced.catch(() => undefined) // every batch written after the one that failed fails too
      await shard.fh.truncate(shard.size)
      shard.torn = false
      dev.synced = Promise.resolve()
    }
    if (shard && shard.size >= this.shardBytes) {
      await this.endShard(dev)
      shard = undefined
    }
    shard ??= dev.shard = await this.newShard(dev)
    const mtime = Math.floor(Date.now() / 1000)
    const members: TarInput[] = []
    const lines: string[] = []
    const offsets: number[] = []
    let at = shard.size
    for (const { meta, jpeg, receivedAt } of items) {
      const key = String(meta.seq).padStart(12, '0')
      const offset = at + BLOCK
      const line = indexLine({ ...entryForFrame(meta, jpeg.length, receivedAt, shard.rel), offset })
      at += memberBytes(jpeg.length) + memberBytes(Buffer.byteLength(line))
      members.push({ name: `${key}.jpg`, data: jpeg }, { name: `${key}.json`, data: line })
      lines.push(line)
      offsets.push(offset)
    }
    const buffers = tarMembers(members, mtime)
    const start = shard.size
    try {
      const { bytesWritten } = await shard.fh.writev(buffers, start)
      if (bytesWritten !== at - start)
        throw new Error(`short write to ${shard.file} (${bytesWritten} of ${at - start} bytes)`)
    } catch (err) {
      shard.torn = true
      throw err
    }
    shard.size = at
    const synced = this.settle(dev, shard, start, items, lines, offsets)
    synced.catch(() => undefined) // its frames are rejected by settle; the next batch and endShard see the failure
    dev.synced = synced
  }

  /**
   * A written batch: durable once an fdatasync started after its write has completed and every earlier batch is
   * durable, then indexed and resolved. If either fails, its frames are rejected (never acknowledged: the broker
   * redelivers them) and the shard is cut back to where the first failed batch began.
   */
  private async settle(
    dev: ShardDevice,
    shard: Shard,
    start: number,
    items: Pending[],
    lines: string[],
    offsets: number[],
  ): Promise<void> {
    const earlier = dev.synced
    let failure: { err: unknown } | undefined
    try {
      await shard.syncs.request()
    } catch (err) {
      failure = { err }
    }
    try {
      await earlier // also after a failure: a batch settles only after the ones before it
    } catch (err) {
      failure ??= { err }
    }
    if (failure) {
      shard.torn = true
      shard.size = Math.min(shard.size, start)
      for (const p of items) p.reject(failure.err)
      throw failure.err
    }
    shard.frames += items.length
    // Durable now, whatever happens to the index lines: opening rebuilds missing ones from the shard.
    dev.unwritten.push(...lines)
    await this.writeLines(dev).catch(() => undefined) // retried with the next batch, and at close
    items.forEach((p, i) => {
      dev.seqs.add(p.meta.seq)
      p.resolve({ stored: true, file: shard.file, offset: offsets[i] })
    })
  }

  private async writeLines(dev: ShardDevice): Promise<void> {
    if (dev.unwritten.length === 0) return
    const lines = dev.unwritten
    await dev.index.appendLines(lines)
    dev.unwritten = dev.unwritten.slice(lines.length)
  }

  private async newShard(dev: ShardDevice): Promise<Shard> {
    for (;;) {
      const rel = shardRel(++dev.lastShard)
      const file = path.join(dev.dir, ...rel.split('/'))
      let fh: fsp.FileHandle
      try {
        fh = await fsp.open(file, 'wx')
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue // another process's: take the next number
        throw err
      }
      await fsyncDir(path.dirname(file)) // its name must survive a power cut along with the frames in it
      return { fh, file, rel, size: 0, frames: 0, torn: false, syncs: new CoalescedSync(() => fh.datasync()) }
    }
  }

  /**
   * Ends the device's shard: its index lines synced first (after a crash, only the last shard is scanned for
   * frames the index lacks), then the end-of-archive marker. A shard that got no frame is removed.
   */
  private async endShard(dev: ShardDevice): Promise<void> {
    const shard = dev.shard
    if (!shard) return
    await dev.synced.catch(() => undefined) // a failed batch has marked the shard torn
    await this.writeLines(dev)
    await dev.index.sync()
    if (shard.frames === 0) {
      await shard.fh.close()
      await fsp.rm(shard.file, { force: true })
    } else {
      if (shard.torn) await shard.fh.truncate(shard.size)
      await shard.fh.write(END_OF_ARCHIVE, 0, END_OF_ARCHIVE.length, shard.size)
      await shard.fh.datasync()
      await shard.fh.close()
    }
    dev.shard = undefined
  }

  async close(): Promise<void> {
    while (this.running) await this.running
    for (const dev of this.devices.values()) {
      await this.endShard(dev)
      await dev.index.close()
    }
    this.devices.clear()
  }

  /** A device's state from its index and its last shard, repaired and ended when a crash left it open. */
  protected async load(deviceId: string): Promise<ShardDevice> {
    const dir = path.join(this.root, deviceId)
    const shardDir = path.join(dir, SHARD_DIR)
    await ensureDirDurable(shardDir)
    const indexFile = path.join(dir, INDEX_FILE)
    const { seqs: indexed, completeBytes } = await readIndexedSeqs(indexFile)
    const index = await FrameIndex.open(indexFile, completeBytes)
    const seqs = new SeqRanges()
    for (const seq of indexed) if (Number.isSafeInteger(seq) && seq >= 0) seqs.add(seq)
    const numbers = (await fsp.readdir(shardDir))
      .map((n) => SHARD_FILE.exec(n))
      .filter((m) => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b)
    // Lines are synced when their shard ends, so only the shard of the last line and later ones can hold frames
    // the index lacks (all of them when the index is gone).
    const covered = SHARD_REL.exec((await findIndexEntry(indexFile))?.file ?? '')
    for (const n of numbers.filter((n) => n >= (covered ? Number(covered[1]) : 0))) {
      const rel = shardRel(n)
      const missing = (await repairShard(path.join(dir, ...rel.split('/')))).filter((e) => !indexed.has(e.seq))
      await index.appendDurable(missing.map((e) => indexLine({ ...e, file: rel })))
      for (const e of missing) seqs.add(e.seq)
    }
    return {
      dir,
      seqs,
      index,
      lastShard: numbers.length > 0 ? numbers[numbers.length - 1] : 0,
      unwritten: [],
      synced: Promise.resolve(),
    }
  }
}

/**
 * Reads a shard's frames (their `.json` members) up to the first torn or damaged member, cuts the file there
 * and ends it with the end-of-archive marker if it has none; a shard with no whole frame is removed.
 */
async function repairShard(file: string): Promise<IndexEntry[]> {
  const fh = await fsp.open(file, 'r+')
  const entries: IndexEntry[] = []
  let whole = 0
  let ended = false
  try {
    const size = (await fh.stat()).size
    const head = Buffer.alloc(BLOCK)
    let at = 0
    let jpg: { key: string; size: number } | undefined
    while (at + BLOCK <= size) {
      await fh.read(head, 0, BLOCK, at)
      const member = readTarHeader(head)
      if (member === 'end') {
        ended = !jpg
        break
      }
      if (!member || at + memberBytes(member.size) > size) break
      const dot = member.name.lastIndexOf('.')
      const key = member.name.slice(0, dot)
      const ext = member.name.slice(dot + 1)
      if (ext === 'jpg' && !jpg) jpg = { key, size: member.size }
      else if (ext === 'json' && jpg?.key === key) {
        const text = Buffer.alloc(member.size)
        await fh.read(text, 0, member.size, at + BLOCK)
        let entry: IndexEntry
        try {
          entry = JSON.parse(text.toString('utf8')) as IndexEntry
        } catch {
          break
        }
        if (typeof entry.seq !== 'number' || entry.bytes !== jpg.size) break
        entries.push(entry)
        whole = at + memberBytes(member.size)
        jpg = undefined
      } else break
      at += memberBytes(member.size)
    }
    if (whole === 0) {
      await fh.close()
      await fsp.rm(file, { force: true })
      return []
    }
    if (!ended) {
      await fh.truncate(whole)
      await fh.write(END_OF_ARCHIVE, 0, END_OF_ARCHIVE.length, whole)
      await fh.datasync()
    }
    await fh.close()
  } catch (err) {
    await fh.close().catch(() => undefined)
    throw err
  }
  return entries
}
