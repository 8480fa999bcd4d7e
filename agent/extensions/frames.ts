/**
 * Publishes buffered frames on `frames`: oldest first, QoS 1, at most `mqtt.inflight` awaiting PUBACK.
 * `puback` delivery removes a frame on PUBACK; `e2e-ack` keeps it until the receiver's ack (agent/extensions/ack.ts
 * calls `acked`) and re-sends from the oldest unacknowledged frame after a reconnect or `ackTimeoutMs` of silence.
 * Each payload is the stored JPEG stamped once with its metadata (the quantDigest was stored with it); a frame
 * stored before a lower limit was known is refitted (agent/pipeline/fit.ts) or set aside, never retried forever.
 */
import type { StoredFrame } from '../buffer/store'
import { errorMessage } from '../log'
import type { PublishOptions } from '../mqtt/link'
import { OversizeError, refit, type EncodeFn } from '../pipeline/fit'
import { stampMetadata } from '../pipeline/stamp'
import { quantDigest } from '../../shared/codec/quant-digest'
import { frameUserProperties, type FrameMetadata } from '../../shared/contract/frame-metadata'
import { isoTime } from '../../shared/contract/time'
import type { AgentContext, Extension } from './extension'

/** The metadata of a published frame: the digest always, the keep map id when one applied. */
export type PublishedMetadata = FrameMetadata & { quantDigest: string }

/** A frame's PUBLISH options: QoS 1, and its metadata again as MQTT 5 user properties (routable unread). */
export function framePublishOptions(meta: PublishedMetadata): PublishOptions {
  return {
    qos: 1,
    contentType: 'image/jpeg',
    userProperties: frameUserProperties(meta),
  }
}

/** Failed publishes of one frame (with the link up) before it is set aside. */
const MAX_FAILURES = 3

export class FramesPublisher implements Extension {
  readonly name = 'frames'
  private readonly inflight = new Set<number>()
  /** Highest seq handed to the link on this connection. */
  private cursor = 0
  private generation = -1
  private running = false
  private pumping = false
  private readonly failures = new Map<number, number>()
  private ackTimer?: NodeJS.Timeout
  private lastAckProgress = Date.now()
  /** Re-sends since the last ack progress: each one doubles the wait (up to 16x), so a receiver that is down
   * for hours does not get the whole backlog again every `ackTimeoutMs`. */
  private resends = 0
  private idle?: () => void
  private readonly onFrame = (): void => this.pump()
  private readonly onUp = (info: { generation: number }): void => {
    this.generation = info.generation
    this.inflight.clear()
    this.cursor = 0 // everything still buffered is re-sent: at-least-once
    this.lastAckProgress = Date.now()
    const b = this.ctx.store.stats()
    this.ctx.log.debug(
      `link up (generation ${info.generation}): publishing backlog of ${b.frames} frame(s) from the oldest`,
    )
    this.pump()
  }

  private readonly onDown = (): void => {
    this.inflight.clear()
    this.settle()
  }

  constructor(
    private readonly ctx: AgentContext,
    private readonly encode: EncodeFn,
  ) {}

  start(): void {
    this.running = true
    this.ctx.events.on('frame', this.onFrame)
    this.ctx.link.on('up', this.onUp)
    this.ctx.link.on('down', this.onDown)
    const cur = this.ctx.link.current
    if (cur) this.onUp(cur)
    this.ackTimer = setInterval(() => this.checkAckTimeout(), 1000)
  }

  /** Stops sending new frames and waits (up to `graceMs`) for the publishes in flight. */
  async stop(graceMs = 5000): Promise<void> {
    this.running = false
    clearInterval(this.ackTimer)
    this.ctx.events.off('frame', this.onFrame)
    this.ctx.link.off('up', this.onUp)
    this.ctx.link.off('down', this.onDown)
    if (this.inflight.size) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, graceMs)
        this.idle = () => {
          clearTimeout(t)
          resolve()
        }
      })
    }
  }

  onConfig(_next: unknown, changed: string[]): void {
    // Leaving e2e-ack: frames published but never acked are still buffered; send them again under the new rule.
    if (changed.includes('delivery')) this.cursor = 0
    this.pump()
  }

  /** End-to-end ack: the receiver stored every seq up to `seq`. */
  acked(seq: number): void {
    const removed = this.ctx.store.removeThrough(seq)
    if (removed) {
      this.lastAckProgress = Date.now()
      this.resends = 0
    }
    this.ctx.log.debug(`ack ${seq}: ${removed} frame(s) released`)
  }

  private settle(): void {
    if (!this.inflight.size && this.idle) {
      const f = this.idle
      this.idle = undefined
      f()
    }
  }

  private checkAckTimeout(): void {
    const c = this.ctx.config
    if (c.delivery !== 'e2e-ack' || !this.ctx.link.up) return
    const wait = c.ackTimeoutMs * 2 ** Math.min(this.resends, 4)
    if (Date.now() - this.lastAckProgress < wait) return
    const oldest = this.ctx.store.peek(1)[0]
    this.lastAckProgress = Date.now()
    if (oldest && oldest.seq <= this.cursor) {
      this.resends++
      this.ctx.log.info(`no end-to-end ack for ${wait} ms: re-sending from seq ${oldest.seq}`)
      this.cursor = oldest.seq - 1
      this.pump()
    }
  }

  pump(): void {
    if (!this.running || this.pumping || !this.ctx.link.up) return
    this.pumping = true
    try {
      const window = this.ctx.config.mqtt.inflight
      while (this.running && this.ctx.link.up && this.inflight.size < window) {
        const batch = this.ctx.store.peek(window - this.inflight.size, this.cursor)
        if (!batch.length) break
        this.ctx.log.debug(
          `sending seqs ${batch[0].seq}..${batch[batch.length - 1].seq} (${this.inflight.size} in flight)`,
        )
        for (const f of batch) {
          this.cursor = f.seq
          this.send(f)
        }
      }
    } catch (err) {
      this.ctx.stats.error(`publish: ${errorMessage(err)}`)
      this.ctx.log.error(`publisher: ${errorMessage(err)}`)
    } finally {
      this.pumping = false
    }
  }

  private send(f: StoredFrame): void {
    const { ctx } = this
    const out = this.payloadFor(f)
    if (!out) return
    const { payload, meta } = out
    const gen = this.generation
    this.inflight.add(f.seq)
    ctx.link.publish(ctx.topic('frames'), payload, framePublishOptions(meta)).then(
      () => {
        if (gen !== this.generation) return
        this.inflight.delete(f.seq)
        this.failures.delete(f.seq)
        ctx.stats.published++
        if (ctx.config.delivery === 'puback') {
          try {
            ctx.store.remove(f.seq)
          } catch (err) {
            // the frame stays buffered and is sent again later: a duplicate, never a loss
            ctx.stats.error(`buffer: ${errorMessage(err)}`)
            ctx.log.error(`cannot remove delivered seq ${f.seq}: ${errorMessage(err)}`)
          }
        }
        this.settle()
        this.pump()
      },
      (err: unknown) => {
        if (gen !== this.generation) return
        this.inflight.delete(f.seq)
        this.settle()
        if (!ctx.link.up) return // the reconnect re-sends it
        ctx.stats.publishErrors++
        const n = (this.failures.get(f.seq) ?? 0) + 1
        this.failures.set(f.seq, n)
        ctx.stats.error(`publish seq ${f.seq}: ${errorMessage(err)}`)
        ctx.log.warn(`publish of seq ${f.seq} failed (${n}/${MAX_FAILURES}): ${errorMessage(err)}`)
        if (n >= MAX_FAILURES) this.setAside(f, `publish failed ${n} times`)
        else this.cursor = Math.min(this.cursor, f.seq - 1)
        setTimeout(() => this.pump(), 200 * n).unref()
      },
    )
  }

  /** The stored JPEG (refitted if it is over the limit now) stamped with its metadata; undefined = set aside. */
  private payloadFor(f: StoredFrame): { payload: Uint8Array; meta: PublishedMetadata } | undefined {
    let { jpeg, tableId, quantDigest: digest, keepMapId } = f
    try {
      const limit = this.ctx.jpegLimit()
      if (jpeg.length > limit) {
        const fit = refit(jpeg, { encode: this.encode, encoder: this.ctx.config.encoder, limit })
        this.ctx.log.info(
          `seq ${f.seq} (${jpeg.length} B) re-encoded as ${fit.tableId} (${fit.jpeg.length} B) to fit ${limit} B`,
        )
        ;({ jpeg, tableId, quantDigest: digest, keepMapId } = fit)
      }
      digest ??= quantDigest(jpeg) // stored by an agent before buffer schema 2, which kept no digest
      const meta: PublishedMetadata = {
        seq: f.seq,
        capturedAt: isoTime(f.capturedAt),
        tableId,
        deviceId: this.ctx.config.deviceId,
        width: f.width,
        height: f.height,
        quantDigest: digest,
      }
      if (keepMapId !== undefined) meta.keepMap = keepMapId
      return { payload: stampMetadata(jpeg, meta), meta }
    } catch (err) {
      // too big even at the coarsest step, or damaged at rest (our encoder wrote it): never publish it
      this.setAside(f, err instanceof OversizeError ? err.message : `stored JPEG is damaged: ${errorMessage(err)}`)
      return undefined
    }
  }

  private setAside(f: StoredFrame, why: string): void {
    this.ctx.stats.setAside++
    this.ctx.stats.error(`seq ${f.seq} set aside: ${why}`)
    this.ctx.log.error(`seq ${f.seq} set aside (not published): ${why}`)
    this.failures.delete(f.seq)
    try {
      this.ctx.store.remove(f.seq)
    } catch (err) {
      this.ctx.log.error(`cannot remove seq ${f.seq}: ${errorMessage(err)}`)
    }
  }
}
