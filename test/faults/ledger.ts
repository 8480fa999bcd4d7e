/**
 * The fault suite's independent bookkeeping. A persistent MQTT 5 subscriber (its session outlives broker restarts)
 * records every frame a device publishes, reading the seq twice (the `seq` user property and the APP9 metadata,
 * which must agree) and decoding every payload with djpeg; it also keeps the device's loss events and telemetry.
 * After the agent has stopped, `account()` opens its buffer file read-only and explains every seq up to the
 * highest one used: delivered, still buffered, inside a reported loss range, or dropped by the buffer's policy
 * (counted in the persisted counters the telemetry reports). Anything else is a frame lost without a report.
 */
import { spawnSync } from 'node:child_process'
import { readJpegMetadata } from '../../shared/codec/metadata'
import type { BufferLossMessage, SeqSpan } from '../../shared/contract/topics'
import { subscribe, type Subscriber } from '../helpers/subscriber'
import { readBuffer } from '../helpers/buffer-file'

export interface Account {
  /** Highest seq the agent used. */
  lastSeq: number
  /** Seqs that may have been given to a frame (lastSeq less the ranges reported as never used). */
  committed: number
  delivered: number
  duplicates: number
  /** Frames still in the buffer at the end (not lost: they go out on the next start). */
  buffered: number
  /** Seqs in a reported `lost` range that never arrived. */
  reportedLost: number
  /** Seqs in a reported `unknown` range (lost or never used: the agent cannot tell) that never arrived. */
  reportedUnknown: number
  /** Gaps explained by the buffer's policy counters (dropped + expired), at most what those counters say. */
  droppedByPolicy: number
  /** Seqs nobody can account for: must be empty. */
  unreported: number[]
  /** Frames whose two seqs disagree or that djpeg cannot decode. */
  bad: string[]
}

const inSpan = (s: number, r?: SeqSpan): boolean => !!r && s >= r.from && s <= r.to

export class Ledger {
  readonly seen = new Map<number, number>()
  readonly bad: string[] = []
  readonly losses: BufferLossMessage[] = []
  private decoded = 0

  private constructor(
    readonly sub: Subscriber,
    readonly deviceId: string,
  ) {}

  static async open(url: string, deviceId: string): Promise<Ledger> {
    const sub = await subscribe(
      url,
      [
        `deepn/${deviceId}/frames`,
        `deepn/${deviceId}/events/loss`,
        `deepn/${deviceId}/telemetry`,
        `deepn/${deviceId}/status`,
      ],
      { persistent: true },
    )
    return new Ledger(sub, deviceId)
  }

  /** Folds in the messages received since the last call; cheap to call in a wait loop. */
  private fold(): void {
    const frames = this.sub.on('frames')
    for (; this.decoded < frames.length; this.decoded++) {
      const m = frames[this.decoded]
      const prop = Number(m.properties?.userProperties?.seq)
      const meta = readJpegMetadata(new Uint8Array(m.payload))
      const seq = meta?.seq as number | undefined
      if (seq === undefined || seq !== prop) {
        this.bad.push(`frame with user property seq ${prop} and APP9 seq ${seq}`)
        continue
      }
      const dj = spawnSync('djpeg', ['-pnm'], { input: m.payload, maxBuffer: 64 << 20 })
      if (dj.status !== 0) this.bad.push(`seq ${seq}: djpeg failed: ${dj.stderr.toString().trim()}`)
      this.seen.set(seq, (this.seen.get(seq) ?? 0) + 1)
    }
    this.losses.length = 0
    for (const m of this.sub.on('loss'))
      if (m.payload.length) this.losses.push(JSON.parse(m.payload.toString()) as BufferLossMessage)
  }

  delivered(): number {
    this.fold()
    return this.seen.size
  }

  lossEvents(): BufferLossMessage[] {
    this.fold()
    return [...this.losses]
  }

  async waitFor(pred: (l: Ledger) => boolean, ms: number, what: string): Promise<void> {
    await this.sub.waitFor(() => pred(this), ms, what)
  }

  /** Call once the agent has stopped (its buffer file is closed or abandoned). */
  account(bufferPath: string): Account {
    this.fold()
    const { buffered, meta } = readBuffer(bufferPath, (db) => ({
      buffered: (db.prepare('SELECT seq FROM frames ORDER BY seq').all() as { seq: number }[]).map((r) => r.seq),
      meta: new Map(
        (db.prepare('SELECT key, value FROM meta').all() as { key: string; value: unknown }[]).map((r) => [
          r.key,
          Number(r.value) || 0,
        ]),
      ),
    }))
    const inBuffer = new Set(buffered)
    const lastSeq = Math.max(meta.get('last_seq') ?? 0, ...buffered, ...this.seen.keys(), 0)
    const policy = (meta.get('dropped') ?? 0) + (meta.get('expired') ?? 0)
    let reportedLost = 0
    let reportedUnknown = 0
    let neverUsed = 0
    const gaps: number[] = []
    for (let s = 1; s <= lastSeq; s++) {
      if (this.seen.has(s) || inBuffer.has(s)) continue
      if (this.losses.some((l) => inSpan(s, l.skipped))) {
        neverUsed++
        continue
      }
      if (this.losses.some((l) => inSpan(s, l.lost))) {
        reportedLost++
        continue
      }
      if (this.losses.some((l) => inSpan(s, l.unknown))) {
        reportedUnknown++
        continue
      }
      gaps.push(s)
    }
    // Policy drops are counted, not named: they explain at most that many gaps.
    const droppedByPolicy = Math.min(gaps.length, policy)
    return {
      lastSeq,
      committed: lastSeq - neverUsed,
      delivered: this.seen.size,
      duplicates: [...this.seen.values()].reduce((a, n) => a + n - 1, 0),
      buffered: buffered.length,
      reportedLost,
      reportedUnknown,
      droppedByPolicy,
      unreported: gaps.slice(droppedByPolicy),
      bad: [...this.bad],
    }
  }

  close(): Promise<void> {
    return this.sub.close()
  }
}

/** The one line each scenario prints. */
export function describeAccount(name: string, a: Account): string {
  return (
    `${name}: committed ${a.committed} / delivered ${a.delivered} (+${a.duplicates} duplicates) / still buffered ${a.buffered} / ` +
    `lost and reported ${a.reportedLost + a.droppedByPolicy} (${a.reportedLost} by loss event, ${a.droppedByPolicy} by policy)` +
    (a.reportedUnknown ? ` + ${a.reportedUnknown} reported as lost-or-never-used` : '') +
    ` / lost without report ${a.unreported.length}`
  )
}
