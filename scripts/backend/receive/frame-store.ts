/**
 * Where the receiver keeps frames, behind one narrow interface with two layouts (one test suite both pass:
 * test/backend/receive/frame-store-suite.ts):
 * - `folders` (dataset.ts, the default): one JPEG file per frame, `<out>/<deviceId>/<YYYY-MM-DD>/<seq>.jpg`.
 * - `shards` (shard-store.ts): frames appended to tar shards, `<out>/<deviceId>/shards/<n>.tar`, the WebDataset
 *   layout; no file is created per frame, so a receiver stores several times more frames per second.
 * Both keep `<out>/<deviceId>/index.jsonl`, one line per frame. A dataset keeps the layout it was started with:
 * the shards layout marks its folder, and opening a folder with the other layout is refused.
 */
import { promises as fsp } from 'node:fs'
import * as path from 'node:path'
import type { FrameMetadata } from '../../../shared/contract/topics'
import { writeFileAtomic } from '../../../agent/atomic-file'
import { SeqRanges } from './seq-ranges'
import { deviceIdProblem } from '../../../shared/contract/ids'
import { checkDeviceId } from './validate'

export const LAYOUTS = ['folders', 'shards'] as const
export type Layout = (typeof LAYOUTS)[number]
/** Names the layout of a shards dataset (a device id cannot start with '.'). */
export const LAYOUT_FILE = '.deepn-layout'

export interface StoreResult {
  /** False when (device, seq) was already stored: a duplicate delivery, nothing written. */
  stored: boolean
  /** Absolute path of the file holding the frame; undefined for a duplicate. */
  file?: string
  /** Shards: where the JPEG starts in `file` (it is `jpeg.length` bytes long); undefined: the whole file. */
  offset?: number
  /**
   * A refused seq whose stored frame has a different capture time (or is not where that time puts it): not a
   * redelivery but a reused seq — typically an agent whose buffer database was wiped. Worth a loud warning.
   */
  conflict?: boolean
}

export interface FrameStore {
  readonly root: string
  readonly layout: Layout
  deviceIds(): string[]
  /** The stored seqs of a device (empty ranges for an unknown device). */
  seqs(deviceId: string): SeqRanges
  has(deviceId: string, seq: number): boolean
  /**
   * Stores the frame durably: resolves once it survives a power cut and its index line is written. Calls may
   * overlap; a redelivery of a seq being written waits for it and is then a duplicate. Call in arrival order: the
   * index lists frames in the order `store` was called.
   */
  store(deviceId: string, meta: FrameMetadata, jpeg: Uint8Array, receivedAt: Date): Promise<StoreResult>
  /** The folder a frame goes to, for messages about a failed write. */
  folderOf(deviceId: string, meta: Pick<FrameMetadata, 'seq' | 'capturedAt'>): string
  /** Shared folders (`--group`): takes in what the other members stored; returns the devices whose seqs grew. */
  refreshShared(): Promise<string[]>
  /** Finishes the stores under way and leaves everything durable. */
  close(): Promise<void>
}

/** The folders under a dataset's `root` named as device ids: anything else there is not the receiver's. */
export async function deviceFolders(root: string): Promise<string[]> {
  const entries = await fsp.readdir(root, { withFileTypes: true })
  return entries.filter((e) => e.isDirectory() && deviceIdProblem(e.name) === undefined).map((e) => e.name)
}

/**
 * What both layouts share: each device's state kept in memory (its stored seqs as ranges, whatever else they add),
 * loaded once, and `store`'s checks before the layout's own `write`.
 */
export abstract class DeviceSeqs<D extends { seqs: SeqRanges }> {
  protected readonly devices = new Map<string, D>()
  private readonly opening = new Map<string, Promise<D>>()
  private readonly inFlight = new WritesInFlight()

  /** Writes a frame, durably (FrameStore.store); no other call is writing the same device and seq meanwhile. */
  protected abstract write(
    deviceId: string,
    meta: FrameMetadata,
    jpeg: Uint8Array,
    receivedAt: Date,
  ): Promise<StoreResult>

  /** FrameStore.store: the device id is checked first; a seq whose first copy is being written waits for it. */
  store(deviceId: string, meta: FrameMetadata, jpeg: Uint8Array, receivedAt: Date): Promise<StoreResult> {
    try {
      checkDeviceId(deviceId)
    } catch (err) {
      return Promise.reject(err)
    }
    return this.inFlight.run(
      deviceId,
      meta.seq,
      () => this.write(deviceId, meta, jpeg, receivedAt),
      () => this.store(deviceId, meta, jpeg, receivedAt),
    )
  }

  /** Loads a device's state from disk; the store's devices are loaded once, by `device()`. */
  protected abstract load(deviceId: string): Promise<D>

  /** The device's state, loaded once: concurrent frames share one load, and a failed load is retried by the next. */
  protected device(deviceId: string): Promise<D> {
    const dev = this.devices.get(deviceId)
    if (dev) return Promise.resolve(dev)
    let opening = this.opening.get(deviceId)
    if (!opening) {
      opening = this.load(deviceId).then((d) => {
        this.devices.set(deviceId, d)
        return d
      })
      this.opening.set(deviceId, opening)
      const forget = (): void => {
        this.opening.delete(deviceId)
      }
      opening.then(forget, forget)
    }
    return opening
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
}

/**
 * The stores under way, per (device, seq): a store of a seq whose first copy is still being written waits for it,
 * then runs again (a duplicate by then) rather than two writers racing; if the first write fails, so does the
 * wait (the caller retries).
 */
class WritesInFlight {
  private readonly writing = new Map<string, Map<number, Promise<StoreResult>>>()

  /** `write()` now, or `again()` once the write of the same seq under way has settled. */
  run(
    deviceId: string,
    seq: number,
    write: () => Promise<StoreResult>,
    again: () => Promise<StoreResult>,
  ): Promise<StoreResult> {
    let writing = this.writing.get(deviceId)
    if (!writing) this.writing.set(deviceId, (writing = new Map()))
    const first = writing.get(seq)
    if (first) return first.then(again)
    const done = write()
    writing.set(seq, done)
    const forget = (): void => {
      if (writing.get(seq) === done) writing.delete(seq)
    }
    done.then(forget, forget)
    return done
  }
}

/**
 * The layout `root` holds: the marker's, else `folders` when it holds anything (datasets from before the
 * marker), else undefined (a new dataset).
 */
export async function storedLayout(root: string): Promise<Layout | undefined> {
  let marker: string
  try {
    marker = (await fsp.readFile(path.join(root, LAYOUT_FILE), 'utf8')).trim()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    const names = await fsp.readdir(root).catch(() => [] as string[])
    return names.some((n) => !n.startsWith('.')) ? 'folders' : undefined
  }
  if (!(LAYOUTS as readonly string[]).includes(marker))
    throw new Error(`${path.join(root, LAYOUT_FILE)} names layout '${marker}'; expected one of ${LAYOUTS.join(', ')}`)
  return marker as Layout
}

/** Refuses to open `root` with another layout than its frames have; marks a new shards dataset. */
export async function claimLayout(root: string, layout: Layout): Promise<void> {
  const found = await storedLayout(root)
  if (found !== undefined && found !== layout)
    throw new Error(
      `dataset ${root} holds frames in the '${found}' layout; run with --layout ${found}, or give another --out for '${layout}'`,
    )
  if (found === undefined && layout === 'shards') await writeFileAtomic(path.join(root, LAYOUT_FILE), 'shards\n')
}

/** The bytes of a stored frame, wherever its layout put them. */
export async function readStoredFrame(file: string, offset: number | undefined, bytes: number): Promise<Buffer> {
  if (offset === undefined) return fsp.readFile(file)
  const fh = await fsp.open(file, 'r')
  try {
    const buf = Buffer.alloc(bytes)
    const { bytesRead } = await fh.read(buf, 0, bytes, offset)
    if (bytesRead !== bytes) throw new Error(`${file} ends before the frame at ${offset} (+${bytes} bytes)`)
    return buf
  } finally {
    await fh.close()
  }
}
