/**
 * The reference backend: MQTT frames → validated JPEGs in a dataset folder, with gap tracking, optional
 * classification (results topic) and optional end-to-end acks. `startReceiver` is used in-process by the demo
 * and by `deepn receive`.
 */
import { EventEmitter } from 'node:events'
import * as os from 'node:os'
import { buildAck } from '../../../shared/contract/ack'
import type { FrameMetadata } from '../../../shared/contract/frame-metadata'
import type { BufferLossMessage } from '../../../shared/contract/loss'
import { buildResult, type ResultMessage } from '../../../shared/contract/results'
import { DEFAULT_PREFIX, Leaf, parseTopic, topic } from '../../../shared/contract/topics'
import { Acker } from './acker'
import { loadClassifier, type Classifier } from './classifier'
import { describeFsError } from '../../../agent/output-file'
import { Dataset } from './dataset'
import type { FrameStore, Layout, StoreResult } from './frame-store'
import { ShardStore } from './shard-store'
import { MqttSession } from './mqtt-session'
import { emptyCounters, formatSummary, type DeviceCounters, type SummarySnapshot } from './summary'
import { LossBook, parseLossMessage } from './losses'
import { validateFrame } from './validate'
import { ClassifyQueue } from './classify-queue'
import { checkDecodes } from './image-input'
import { deviceIdProblem, isDeviceId } from '../../../shared/contract/ids'
import { parseStatus } from '../../../shared/contract/status'
import { parseTelemetry } from '../../../shared/contract/telemetry'
import { LiveBook, type DeviceLive } from './live-state'

/**
 * Frames handed on by the session and not yet durable (MQTT 5 Receive Maximum; with 3.1.1 the session stops reading
 * at this many). Large, because frames become durable a batch at a time (one journal sync, a few ms whatever its
 * size up to megabytes): the more frames arrive while one batch syncs, the larger the next. 32 gave batches of ~12
 * frames and a third of the throughput.
 */
const MAX_PENDING = 1024
/** ... and their payloads' bytes: the memory bound whatever the frame size. */
const MAX_PENDING_BYTES = 16 * 1024 * 1024
/** Stored frames waiting for the classifier: a slow model stops the session reading rather than growing memory. */
const MAX_CLASSIFY_BACKLOG = 32

export interface ReceiverOptions {
  url: string
  prefix?: string
  /** Dataset root. */
  out: string
  /**
   * `folders` (default): a JPEG file per frame; `shards`: frames appended to tar shards (WebDataset), several
   * times the frames per second (frame-store.ts). A dataset keeps the layout it was started with.
   */
  layout?: Layout
  /** ONNX classifier; results are published on `<prefix>/<deviceId>/results`. */
  model?: string
  /** Class names (JSON array or one per line); default `<model>.labels.json|txt` when present. */
  labels?: string
  /** Publish end-to-end acks on `<prefix>/<deviceId>/ack`. */
  ack?: boolean
  ackIntervalMs?: number
  ackEveryFrames?: number
  /** Fixed id of the persistent session; default `deepn-receiver-<hostname>`. */
  clientId?: string
  protocol?: 'auto' | '5' | '3.1.1'
  username?: string
  password?: string
  tls?: { ca?: string; cert?: string; key?: string; rejectUnauthorized?: boolean }
  /** How long the broker queues frames for a stopped receiver (MQTT 5). Default 7 days. */
  sessionExpirySec?: number
  /** Fully decode each frame (libjpeg-turbo through sharp, else jpeg-js) besides the structure check. */
  decode?: boolean
  /** Summary period on the log; 0 = only at shutdown. Default 10 s. */
  summaryIntervalMs?: number
  /** Log sink; default stderr. */
  log?: (line: string) => void
  /** MQTT keepalive in seconds (default 30). */
  keepaliveSec?: number
  /** Longest wait between attempts to store a frame the disk refused (default 10000 ms; the first is 500 ms). */
  storeRetryMaxMs?: number
  /**
   * Shared-subscription group (`$share/<group>/…`, MQTT 5 and Mosquitto's 3.1.1 too): the broker hands each frame
   * to one member, so receivers with one group, distinct client ids and one `out` folder share a fleet's frames.
   */
  group?: string
  /** Shared folder: how often the other members' index lines are read in (gaps, acks). Default 1000 ms. */
  groupSyncMs?: number
  /**
   * Also subscribe to every device's `status` and `telemetry` and keep the latest of each with the last stored
   * frame (see `live()`): what the dashboard shows. Off by default: a plain receiver needs neither.
   */
  live?: boolean
}

/** Why `group` cannot name a shared subscription, or undefined when it can (MQTT 5 §4.8.2: no '/', '+', '#'). */
export function groupNameProblem(group: string): string | undefined {
  if (group.length === 0) return 'is empty'
  if (/[/+#]/.test(group)) return `'${group}' contains '/', '+' or '#', which a shared subscription's name may not`
  if (Buffer.byteLength(group) > 256) return 'is longer than 256 bytes'
  return undefined
}

/** `file` is the path written, absent for a duplicate; shards: the frame starts at `offset` in it. */
export interface FrameEvent {
  deviceId: string
  seq: number
  file?: string
  offset?: number
  duplicate: boolean
}
export interface BadEvent {
  topic: string
  deviceId?: string
  reason: string
}
/** An `events/loss` announcement recorded (emitted as 'loss'). */
export interface LossEvent {
  deviceId: string
  message: BufferLossMessage
}

export interface Receiver extends EventEmitter {
  /** Resolves once the frames subscription is active at the broker; rejects if the broker refuses the login. */
  readonly subscribed: Promise<void>
  /** Resolves with the reason when the receiver cannot go on (the broker refused the login); call close(). */
  readonly failed: Promise<Error>
  readonly out: string
  snapshot(): SummarySnapshot
  /** Latest status, telemetry and stored frame per device (status and telemetry only with `live`). */
  live(deviceId: string): DeviceLive | undefined
  /** Finishes the frames being written and classified, sends pending acks, disconnects. Idempotent. */
  close(): Promise<void>
}

export async function startReceiver(opts: ReceiverOptions): Promise<Receiver> {
  const r = new ReceiverImpl(opts)
  await r.init()
  return r
}

class ReceiverImpl extends EventEmitter implements Receiver {
  readonly out: string
  private readonly prefix: string
  private readonly log: (line: string) => void
  private dataset!: FrameStore
  private classifier: Classifier | undefined
  private session!: MqttSession
  private acker: Acker | undefined
  private readonly counters = new Map<string, DeviceCounters>()
  private readonly losses = new Map<string, LossBook>()
  private readonly badByReason: Record<string, number> = {}
  private badPayloads = 0
  private writeErrors = 0
  private classifyErrors = 0
  /** Bookkeeping of the last message handed on; the next one's runs after it (arrival order). */
  private inflight: Promise<unknown> = Promise.resolve()
  /** Resolves once the last message's store has been called. */
  private storeGate: Promise<void> = Promise.resolve()
  /** Messages handed on and not yet handled, and their payloads' bytes. */
  private pending = 0
  private pendingBytes = 0
  /** Session callbacks waiting for room (backpressure). */
  private readonly waiting: Array<() => void> = []
  private readonly classifications = new ClassifyQueue(() => this.wake())
  /** Highest seq stored per device, in arrival order: a lower one stored later fills a gap. */
  private readonly highest = new Map<string, number>()
  private summaryTimer: NodeJS.Timeout | undefined
  private groupTimer: NodeJS.Timeout | undefined
  private syncing: Promise<void> = Promise.resolve()
  private lastTick = { at: Date.now(), frames: new Map<string, number>() }
  private closed: Promise<void> | undefined
  private readonly closing = new AbortController()
  private lastStoreError = { message: '', at: 0 }
  private readonly liveBook = new LiveBook()

  constructor(private readonly opts: ReceiverOptions) {
    super()
    this.out = opts.out
    this.prefix = opts.prefix ?? DEFAULT_PREFIX
    this.log = opts.log ?? ((line) => process.stderr.write(`${line}\n`))
  }

  get subscribed(): Promise<void> {
    return this.session.subscribed
  }

  get failed(): Promise<Error> {
    return this.session.failed
  }

  async init(): Promise<void> {
    if (this.opts.model) {
      this.classifier = await loadClassifier(this.opts.model, this.opts.labels)
      const i = this.classifier.input
      this.log(`[receive] model ${this.classifier.model}: input ${i.channels}x${i.height}x${i.width}`)
    }
    const group = this.opts.group
    if (group !== undefined) {
      const problem = groupNameProblem(group)
      if (problem) throw new Error(`group name ${problem}`)
    }
    const clientId = this.opts.clientId ?? `deepn-receiver-${os.hostname()}${group !== undefined ? `-${group}` : ''}`
    // the journal is per client id: a restarted receiver resumes its session and replays its own journal
    this.dataset = await openStore(this.opts.out, this.opts.layout ?? 'folders', group, clientId)
    for (const id of this.dataset.deviceIds()) {
      this.counter(id)
      const last = this.dataset.seqs(id).last
      if (last !== undefined) this.highest.set(id, last)
    }
    this.session = new MqttSession({
      url: this.opts.url,
      clientId,
      protocol: this.opts.protocol ?? 'auto',
      username: this.opts.username,
      password: this.opts.password,
      tls: this.opts.tls,
      sessionExpirySec: this.opts.sessionExpirySec ?? 7 * 24 * 3600,
      // Loss events are not shared: every member needs every device's (they settle gaps and let acks pass), and
      // they are retained, which a broker does not send to a shared subscription.
      subscriptions: [
        `${group !== undefined ? `$share/${group}/` : ''}${this.prefix}/+/${Leaf.frames}`,
        `${this.prefix}/+/${Leaf.loss}`,
        ...(this.opts.live ? [`${this.prefix}/+/${Leaf.status}`, `${this.prefix}/+/${Leaf.telemetry}`] : []),
      ],
      onMessage: (t, payload) => this.handleMessage(t, payload),
      admit: () => this.admit(),
      receiveMaximum: MAX_PENDING,
      log: (level, msg) => this.log(`[receive] ${level}: ${msg}`),
      keepaliveSec: this.opts.keepaliveSec,
    })
    if (this.opts.ack) {
      this.acker = new Acker({
        intervalMs: this.opts.ackIntervalMs ?? 500,
        everyFrames: this.opts.ackEveryFrames ?? 50,
        publish: (deviceId, seq) => {
          this.session.publish(topic(this.prefix, deviceId, Leaf.ack), buildAck(seq))
          this.notify('ack', { deviceId, seq })
        },
      })
    }
    if (group !== undefined) {
      this.groupTimer = setInterval(() => void this.syncGroup(), this.opts.groupSyncMs ?? 1000)
      this.groupTimer.unref()
    }
    const every = this.opts.summaryIntervalMs ?? 10000
    if (every > 0) {
      this.summaryTimer = setInterval(() => this.printSummary(), every)
      this.summaryTimer.unref()
    }
    this.log(
      `[receive] writing ${this.prefix}/+/frames to ${this.dataset.root}${group !== undefined ? ` as a member of group '${group}' (frames shared with its other members)` : ''}${this.opts.ack ? ' (end-to-end acks on)' : ''}`,
    )
    this.session.start()
  }

  /** Counters now; frames/s are over the time since the previous periodic summary (or the start). */
  snapshot(): SummarySnapshot {
    const secs = Math.max((Date.now() - this.lastTick.at) / 1000, 1e-3)
    const devices = [...this.counters]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([deviceId, c]) => {
        const seqs = this.dataset.seqs(deviceId)
        const fps = (c.frames - (this.lastTick.frames.get(deviceId) ?? 0)) / secs
        const book = this.losses.get(deviceId) ?? new LossBook()
        const gaps = book.openGaps(seqs)
        return {
          deviceId,
          ...c,
          fps,
          firstSeq: seqs.first,
          lastSeq: seqs.last,
          contiguousThrough: book.contiguousThrough(seqs),
          gaps,
          missing: gaps.reduce((n, g) => n + g.to - g.from + 1, 0),
          lost: book.lostForGood(seqs),
          skipped: book.skipped(),
        }
      })
    return {
      devices,
      badPayloads: this.badPayloads,
      badByReason: { ...this.badByReason },
      writeErrors: this.writeErrors,
      classifyErrors: this.classifyErrors,
    }
  }

  live(deviceId: string): DeviceLive | undefined {
    return this.liveBook.get(deviceId)
  }

  /** Prints the summary and starts the next frames/s window. */
  private printSummary(): void {
    this.log(formatSummary(this.snapshot()))
    this.lastTick = { at: Date.now(), frames: new Map([...this.counters].map(([id, c]) => [id, c.frames])) }
  }

  /**
   * Group mode: reads in what the other members stored, so gaps are the folder's, not this member's share, and
   * acks pass over seqs stored by any member (the last frames of a burst may be stored by another member: without
   * this, no member would ack past them).
   */
  private syncGroup(): Promise<void> {
    this.syncing = this.syncing.then(async () => {
      try {
        for (const deviceId of await this.dataset.refreshShared()) {
          this.counter(deviceId)
          this.acker?.update(deviceId, this.ackable(deviceId))
        }
      } catch (err) {
        this.log(`[receive] warn: reading the other members' index lines failed: ${(err as Error).message}`)
      }
    })
    return this.syncing
  }

  close(): Promise<void> {
    this.closed ??= this.shutdown()
    return this.closed
  }

  private async shutdown(): Promise<void> {
    if (this.summaryTimer) clearInterval(this.summaryTimer)
    if (this.groupTimer) clearInterval(this.groupTimer)
    this.closing.abort() // a write being retried gives up: its frame stays unacknowledged, redelivered next session
    this.session.stopAccepting()
    await this.inflight.catch(() => undefined)
    await this.classifications.drained()
    if (this.groupTimer) await this.syncGroup()
    this.acker?.flush()
    await this.session.close()
    await this.classifier?.close()
    if (!this.session.hasFailed) this.printSummary() // nothing was received: the failure says it all
    await this.dataset.close()
  }

  /**
   * One message through the pipeline: checked and written concurrently with the messages around it, its
   * bookkeeping (counters, acks, events, classification) in arrival order once it is durable. Resolves when the
   * broker may be told it is handled (PUBACK).
   */
  private handleMessage(t: string, payload: Buffer): Promise<void> {
    this.notify('received', t) // before any work: lets a benchmark time from a message's arrival
    this.pending++
    this.pendingBytes += payload.length
    const gate = this.storeGate
    let opened!: () => void
    this.storeGate = new Promise<void>((resolve) => {
      opened = resolve
    })
    const work = this.work(t, payload, gate, opened)
    const finished = Promise.all([work, this.inflight]).then(([finish]) => finish())
    this.inflight = finished.catch(() => undefined)
    const settle = (): void => {
      this.pending--
      this.pendingBytes -= payload.length
      this.wake()
    }
    finished.then(settle, settle)
    return finished
  }

  /**
   * The concurrent part; returns the bookkeeping to run in arrival order. `gate` resolves once the previous
   * message's store has been called: stores start in arrival order, so the first copy of a redelivered seq is
   * the one written and the index keeps arrival order. Calls `opened` once this message's store has started.
   */
  private async work(t: string, payload: Buffer, gate: Promise<void>, opened: () => void): Promise<() => void> {
    try {
      const parsed = parseTopic(this.prefix, t)
      if (parsed?.leaf === Leaf.loss) return () => this.handleLoss(t, parsed.deviceId, payload)
      if (parsed?.leaf === Leaf.status || parsed?.leaf === Leaf.telemetry)
        return () => this.handleHealth(t, parsed.deviceId, parsed.leaf, payload)
      if (!parsed || parsed.leaf !== Leaf.frames) return () => this.bad(t, undefined, 'topic outside the contract')
      const { deviceId } = parsed
      let meta: FrameMetadata
      try {
        meta = validateFrame(deviceId, payload)
        if (this.opts.decode) await checkDecodes(payload)
      } catch (err) {
        return () => this.bad(t, deviceId, (err as Error).message)
      }
      await gate
      const stored = this.storeUntilWritten(deviceId, meta, payload)
      opened()
      const res = await stored
      return () => this.recordFrame(deviceId, meta, payload, res)
    } finally {
      void gate.then(opened) // a message refused before storing still keeps the order of the ones around it
    }
  }

  /** Bookkeeping of a frame once it is durable (or refused as a duplicate), in arrival order. */
  private recordFrame(deviceId: string, meta: FrameMetadata, payload: Buffer, res: StoreResult): void {
    const c = this.counter(deviceId)
    if (res.stored) {
      this.liveBook.frame(deviceId, meta, payload.length, res, new Date())
      c.frames++
      c.bytes += payload.length
      const highest = this.highest.get(deviceId)
      if (highest !== undefined && meta.seq < highest) c.filled++
      if (highest === undefined || meta.seq > highest) this.highest.set(deviceId, meta.seq)
    } else if (!res.conflict) {
      c.duplicates++
    } else {
      c.conflicts++
      if (c.conflicts === 1 || c.conflicts % 100 === 0) {
        this.log(
          `[receive] warn: ${deviceId} sent seq ${meta.seq} (captured ${meta.capturedAt}) but a different frame with that seq is stored; dropped (${c.conflicts} so far). Was the agent's buffer database reset?`,
        )
      }
    }
    this.acker?.update(deviceId, this.ackable(deviceId))
    this.notify('frame', {
      deviceId,
      seq: meta.seq,
      file: res.file,
      ...(res.offset !== undefined && { offset: res.offset }),
      duplicate: !res.stored,
    } satisfies FrameEvent)
    if (res.stored && this.classifier) this.classifications.push(() => this.classify(deviceId, meta, payload, c))
  }

  /** Backpressure for the session: undefined while there is room, else a promise resolved once there is. */
  private admit(): Promise<void> | undefined {
    if (this.hasRoom()) return undefined
    return new Promise<void>((resolve) => this.waiting.push(resolve))
  }

  private hasRoom(): boolean {
    return (
      this.pending < MAX_PENDING &&
      this.pendingBytes < MAX_PENDING_BYTES &&
      this.classifications.size < MAX_CLASSIFY_BACKLOG
    )
  }

  private wake(): void {
    while (this.waiting.length > 0 && this.hasRoom()) this.waiting.shift()!()
  }

  /** The agent lost frames to buffer damage: record the ranges so the gap report stops waiting for them. */
  private handleLoss(t: string, deviceId: string, payload: Buffer): void {
    let m
    try {
      m = parseLossMessage(deviceId, payload)
    } catch (err) {
      this.bad(t, deviceId, (err as Error).message)
      return
    }
    let book = this.losses.get(deviceId)
    if (!book) this.losses.set(deviceId, (book = new LossBook()))
    this.counter(deviceId)
    if (!book.add(m)) return
    const ranges = [
      m.lost && `lost ${m.lost.from}-${m.lost.to} (${m.lost.frames} frames)`,
      m.unknown && `lost or never used ${m.unknown.from}-${m.unknown.to}`,
      m.skipped && `never used ${m.skipped.from}-${m.skipped.to}`,
    ]
      .filter(Boolean)
      .join(', ')
    this.log(
      `[receive] warn: ${deviceId} announced a buffer loss (${m.cause}: ${m.detail}): ${ranges || 'no frames'}; seqs resume at ${m.resumesAt}`,
    )
    // Acks may now pass over the declared ranges: the agent no longer holds those frames.
    const through = this.ackable(deviceId)
    if (through !== undefined) this.acker?.update(deviceId, through)
    this.notify('loss', { deviceId, message: m } satisfies LossEvent)
  }

  /** `status` / `telemetry` (with `live`): kept as the device's latest; one naming another device is refused. */
  private handleHealth(t: string, deviceId: string, leaf: string, payload: Buffer): void {
    try {
      if (!isDeviceId(deviceId)) throw new Error(`device id in the topic: ${deviceIdProblem(deviceId)}`)
      const m = leaf === Leaf.status ? parseStatus(payload) : parseTelemetry(payload)
      if (m.deviceId !== deviceId) throw new Error(`${leaf} names device '${m.deviceId}'`)
      if ('state' in m) this.liveBook.status(deviceId, m, new Date())
      else this.liveBook.telemetry(deviceId, m, new Date())
    } catch (err) {
      this.bad(t, deviceId, (err as Error).message)
      return
    }
    this.counter(deviceId)
    this.notify(leaf, { deviceId })
  }

  private ackable(deviceId: string): number | undefined {
    const seqs = this.dataset.seqs(deviceId)
    return this.losses.get(deviceId)?.contiguousThrough(seqs) ?? seqs.contiguousThrough
  }

  /**
   * Stores the frame, retrying while the disk refuses (full, quota, read-only, a folder in the way). Reconnecting
   * would not help: the frame stays unacknowledged at the broker and the session is kept, so nothing is lost and
   * the receiver says what is wrong with the disk, not that the broker is unreachable.
   */
  private async storeUntilWritten(deviceId: string, meta: FrameMetadata, payload: Buffer): Promise<StoreResult> {
    const maxMs = this.opts.storeRetryMaxMs ?? 10000
    let delay = Math.min(500, maxMs)
    for (let failures = 0; ; failures++) {
      try {
        const res = await this.dataset.store(deviceId, meta, payload, new Date())
        if (failures > 0)
          this.log(`[receive] info: ${deviceId} seq ${meta.seq} stored after ${failures} failed write(s)`)
        return res
      } catch (err) {
        this.writeErrors++
        const what = describeStoreError(err, this.dataset.folderOf(deviceId, meta))
        if (this.closing.signal.aborted) throw new Error(`storing ${deviceId} seq ${meta.seq} failed: ${what}`)
        // the same problem is said once a minute, not at every retry
        const now = Date.now()
        if (what !== this.lastStoreError.message || now - this.lastStoreError.at > 60000) {
          this.lastStoreError = { message: what, at: now }
          this.log(
            `[receive] error: ${what}; ${deviceId} seq ${meta.seq} stays unacknowledged at the broker, retrying the write (every ${maxMs / 1000} s at most)`,
          )
        }
        await abortableSleep(delay, this.closing.signal)
        delay = Math.min(delay * 2, maxMs)
      }
    }
  }

  /** Classifies concurrently with the frames behind it (see ClassifyQueue); the result is published in order. */
  private classify(deviceId: string, meta: FrameMetadata, payload: Buffer, c: DeviceCounters): Promise<() => void> {
    return this.classifier!.classify(payload).then(
      (r) => () => {
        const msg: ResultMessage = {
          seq: meta.seq,
          label: r.label,
          index: r.index,
          score: r.score,
          deviceId,
          capturedAt: meta.capturedAt,
          tableId: meta.tableId,
          quantDigest: meta.quantDigest ?? '',
          model: this.classifier!.model,
          inferenceMs: Math.round(r.inferenceMs * 100) / 100,
        }
        this.session.publish(topic(this.prefix, deviceId, Leaf.results), buildResult(msg))
        c.results++
        this.notify('result', msg)
      },
      (err: unknown) => () => {
        this.classifyErrors++
        this.log(`[receive] classify ${deviceId} seq ${meta.seq} failed: ${(err as Error).message}`)
      },
    )
  }

  private bad(t: string, deviceId: string | undefined, reason: string): void {
    this.badPayloads++
    const key = reason
      .split(':')[0]
      .replace(/'[^']*'/g, '…')
      .slice(0, 60)
    this.badByReason[key] = (this.badByReason[key] ?? 0) + 1
    this.log(`[receive] bad payload on ${t}${deviceId ? ` (device ${deviceId})` : ''}: ${reason}`)
    this.notify('bad', { topic: t, deviceId, reason } satisfies BadEvent)
  }

  /** A throwing listener (the embedding program's bug) must not turn into an unacknowledged, redelivered frame. */
  private notify(event: string, payload: unknown): void {
    try {
      this.emit(event, payload)
    } catch (err) {
      this.log(`[receive] '${event}' listener failed: ${err instanceof Error ? err.message : String(err)}`)
    }
  }

  private counter(deviceId: string): DeviceCounters {
    let c = this.counters.get(deviceId)
    if (!c) this.counters.set(deviceId, (c = emptyCounters()))
    return c
  }
}

/** The dataset in its layout (the folders layout's journal is per client id: a restart replays its own). */
function openStore(out: string, layout: Layout, group: string | undefined, clientId: string): Promise<FrameStore> {
  if (layout === 'folders') return Dataset.open(out, { shared: group !== undefined, journal: clientId })
  if (group !== undefined)
    throw new Error(
      `--layout shards does not support --group yet (members would append to one shard); use --layout folders for a group`,
    )
  return ShardStore.open(out)
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}

/** "disk full: no space left in /data/cam1/2026-12-02" rather than a raw ENOSPC on a temp file name. */
function describeStoreError(err: unknown, frameFolder: string): string {
  const e = err as NodeJS.ErrnoException
  if (e?.code === 'ENOSPC') return `disk full: no space left in ${frameFolder}`
  if (e?.code === 'EDQUOT') return `disk quota exceeded in ${frameFolder}`
  if (e?.code) return `cannot write ${e.path ?? frameFolder}: ${describeFsError(e)}`
  return `cannot store in ${frameFolder}: ${e instanceof Error ? e.message : String(err)}`
}
