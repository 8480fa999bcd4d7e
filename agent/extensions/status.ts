/** `status`: retained `online` on every connect; the last will (set up by the link) and a clean stop say `offline`. */
import type { StatusMessage } from '../../shared/contract/topics'
import { errorMessage } from '../log'
import type { AgentContext, Extension } from './extension'

export const AGENT_VERSION: string = (() => {
  for (const p of ['../../../package.json', '../../package.json']) { // from dist/ or from the sources
    try { return (require(p) as { version: string }).version } catch { /* try the next */ }
  }
  return 'dev'
})()

export function statusMessage(state: StatusMessage['state'], deviceId: string, since = new Date()): StatusMessage {
  return { state, deviceId, version: AGENT_VERSION, since: since.toISOString() }
}

export class StatusExtension implements Extension {
  readonly name = 'status'
  private readonly onUp = (): void => {
    this.ctx.link.publish(this.ctx.topic('status'), JSON.stringify(statusMessage('online', this.ctx.config.deviceId)), { qos: 1, retain: true })
      .catch((err) => this.ctx.log.warn(`status: ${errorMessage(err)}`))
  }

  constructor(private readonly ctx: AgentContext) {}

  start(): void {
    this.ctx.link.on('up', this.onUp)
    if (this.ctx.link.up) this.onUp()
  }

  stop(): void {
    this.ctx.link.off('up', this.onUp)
  }
}
