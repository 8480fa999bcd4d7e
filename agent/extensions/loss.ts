/**
 * `events/loss`: announces frames lost to buffer damage (agent/buffer/loss.ts), retained, QoS 1. The records
 * wait in the buffer (FrameStore.pendingLosses) until the broker acknowledged them, so a loss found by a start that never
 * got to connect is still announced by the next one. Published on every connect and after a recovery at run time.
 */
import { lossSummary } from '../buffer/loss'
import { buildLossMessage } from '../../shared/contract/loss'
import { Leaf } from '../../shared/contract/topics'
import { errorMessage } from '../log'
import type { AgentContext, Extension } from './extension'

export class LossExtension implements Extension {
  readonly name = 'loss'
  private busy = false
  private again = false
  private readonly flush = (): void => {
    void this.publishPending()
  }

  constructor(private readonly ctx: AgentContext) {}

  start(): void {
    this.ctx.link.on('up', this.flush)
    this.ctx.events.on('loss', this.flush)
    if (this.ctx.link.up) this.flush()
  }

  stop(): void {
    this.ctx.link.off('up', this.flush)
    this.ctx.events.off('loss', this.flush)
  }

  /** Publishes the pending records oldest first; each leaves the buffer only after its PUBACK. */
  private async publishPending(): Promise<void> {
    if (this.busy) {
      this.again = true
      return
    }
    this.busy = true
    try {
      do {
        this.again = false
        for (;;) {
          if (!this.ctx.link.up) return
          const next = this.ctx.store.pendingLosses()[0]
          if (!next) break
          await this.ctx.link.publish(
            this.ctx.topic(Leaf.loss),
            buildLossMessage({ deviceId: this.ctx.config.deviceId, ...next }),
            { qos: 1, retain: true, contentType: 'application/json' },
          )
          this.ctx.log.info(`announced on ${this.ctx.topic(Leaf.loss)}: ${lossSummary(next)}`)
          this.ctx.store.settleLoss(next)
        }
      } while (this.again)
    } catch (err) {
      this.ctx.log.warn(`publishing a buffer loss (kept, retried on the next connect): ${errorMessage(err)}`)
    } finally {
      this.busy = false
    }
  }
}
