/** `ack` (e2e-ack delivery): the receiver's `{seq}` releases every buffered frame up to it. */
import type { AgentContext, Extension } from './extension'
import type { FramesPublisher } from './frames'

export class AckExtension implements Extension {
  readonly name = 'ack'
  constructor(private readonly ctx: AgentContext, private readonly frames: FramesPublisher) {}

  start(): void {
    this.ctx.link.subscribe(this.ctx.topic('ack'), (_t, payload) => this.handle(payload))
  }

  stop(): void {}

  handle(payload: Buffer): void {
    if (this.ctx.config.delivery !== 'e2e-ack') return // acks mean nothing under puback delivery
    let seq: unknown
    try {
      seq = (JSON.parse(payload.toString('utf8')) as { seq?: unknown })?.seq
    } catch {
      seq = undefined
    }
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
      this.ctx.log.warn(`ignoring malformed ack (${payload.length} B): expected {"seq": <integer>}`)
      return
    }
    this.frames.acked(seq)
  }
}
