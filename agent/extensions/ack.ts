/** `ack` (e2e-ack delivery): the receiver's `{seq}` releases every buffered frame up to it. */
import { parseAck } from '../../shared/contract/ack'
import { errorMessage } from '../log'
import type { AgentContext, Extension } from './extension'
import type { FramesPublisher } from './frames'

export class AckExtension implements Extension {
  readonly name = 'ack'
  constructor(
    private readonly ctx: AgentContext,
    private readonly frames: FramesPublisher,
  ) {}

  start(): void {
    this.ctx.link.subscribe(this.ctx.topic('ack'), (_t, payload) => this.handle(payload))
  }

  stop(): void {}

  handle(payload: Buffer): void {
    if (this.ctx.config.delivery !== 'e2e-ack') return // acks mean nothing under puback delivery
    let seq: number
    try {
      seq = parseAck(payload).seq
    } catch (err) {
      this.ctx.log.warn(`ignoring malformed ack (${payload.length} B): ${errorMessage(err)}`)
      return
    }
    this.frames.acked(seq)
  }
}
