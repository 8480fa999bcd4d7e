/**
 * `status`, retained: `online` on every connect; `degraded` (with a `reason`) while the buffer drops or refuses
 * frames (free-space floor, bounds, TTL, a full disk); back to `online` once no frame has been lost for
 * DEGRADED_HOLD_MS. The last will (set up by the link) and a clean stop say `offline`.
 */
import { buildStatus, statusMessage as buildStatusMessage, type StatusMessage } from '../../shared/contract/status'
import { errorMessage } from '../log'
import type { AgentContext, Extension } from './extension'

/** How long `degraded` outlives the last lost frame: a floor crossed back and forth must not flap the topic. */
export const DEGRADED_HOLD_MS = 5000

export const AGENT_VERSION: string = (() => {
  for (const p of ['../../../package.json', '../../package.json']) {
    // from dist/ or from the sources
    try {
      return (require(p) as { version: string }).version
    } catch {
      /* try the next */
    }
  }
  return 'dev'
})()

export function statusMessage(
  state: StatusMessage['state'],
  deviceId: string,
  since = new Date(),
  reason?: string,
): StatusMessage {
  return buildStatusMessage(state, deviceId, { version: AGENT_VERSION, since, reason })
}

export class StatusExtension implements Extension {
  readonly name = 'status'
  /** Why frames are being lost, while they are. */
  private reason?: string
  private since = new Date()
  private lastLossAt = 0
  private timer?: NodeJS.Timeout
  private readonly onUp = (): void => this.publish()
  private readonly onBuffer = (reason: string | undefined): void => {
    const now = Date.now()
    if (reason) {
      this.lastLossAt = now
      if (reason === this.reason) return
      this.ctx.log.warn(`status degraded: ${reason}`)
      this.set(reason)
    } else if (this.reason && now - this.lastLossAt >= this.holdMs) {
      this.recover()
    }
  }

  constructor(
    private readonly ctx: AgentContext,
    private readonly holdMs = DEGRADED_HOLD_MS,
  ) {}

  /** The state last set (what `status` says, or will say on the next connect). */
  get current(): { state: 'online' | 'degraded'; reason?: string } {
    return this.reason ? { state: 'degraded', reason: this.reason } : { state: 'online' }
  }

  start(): void {
    this.ctx.link.on('up', this.onUp)
    this.ctx.events.on('buffer', this.onBuffer)
    if (this.ctx.link.up) this.publish()
  }

  stop(): void {
    clearTimeout(this.timer)
    this.ctx.link.off('up', this.onUp)
    this.ctx.events.off('buffer', this.onBuffer)
  }

  private set(reason: string | undefined): void {
    this.reason = reason
    this.since = new Date()
    clearTimeout(this.timer)
    // Also when no append follows (camera stopped): recover once the hold has passed without a loss.
    if (reason) this.timer = setTimeout(() => this.checkRecovery(), this.holdMs).unref()
    this.publish()
  }

  private checkRecovery(): void {
    if (!this.reason) return
    const left = this.lastLossAt + this.holdMs - Date.now()
    if (left > 0) this.timer = setTimeout(() => this.checkRecovery(), left).unref()
    else this.recover()
  }

  private recover(): void {
    this.ctx.log.info(`status online again: no frame lost for ${this.holdMs} ms (was: ${this.reason})`)
    this.set(undefined)
  }

  private publish(): void {
    if (!this.ctx.link.up) return
    const { state, reason } = this.current
    this.ctx.link
      .publish(
        this.ctx.topic('status'),
        buildStatus(statusMessage(state, this.ctx.config.deviceId, this.since, reason)),
        { qos: 1, retain: true },
      )
      .catch((err) => this.ctx.log.warn(`status: ${errorMessage(err)}`))
  }
}
