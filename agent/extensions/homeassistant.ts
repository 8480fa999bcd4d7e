/**
 * Home Assistant MQTT discovery (`homeassistant.enabled`): announces the agent's entities (retained config messages
 * built by shared/contract/homeassistant.ts) on every connect and when the key is turned on; publishes an empty
 * retained payload to each when it is turned off, which removes them from Home Assistant.
 *
 * The extension also keeps subscribed to this device's own config topics, on or off: whatever the broker holds
 * there that is not announced now (announced before a restart with the key off, by an older version, or a removal
 * that failed while the link was down) comes back as a retained message and is cleared. So turning the key off in
 * the local file works across a restart with no record of what was announced. Off by default, it publishes nothing.
 */
import {
  discoveryFilter,
  discoveryMessages,
  discoveryTopics,
  type DiscoveryMessage,
} from '../../shared/contract/homeassistant'
import type { AgentConfig } from '../../shared/config'
import { errorMessage } from '../log'
import type { AgentContext, Extension } from './extension'
import { AGENT_VERSION } from './status'

export class HomeAssistantExtension implements Extension {
  readonly name = 'homeassistant'
  private readonly onUp = (): void => {
    if (this.enabled) this.announce()
  }

  constructor(private readonly ctx: AgentContext) {}

  private get enabled(): boolean {
    return this.ctx.config.homeassistant.enabled
  }

  /** What is announced now: every entity with the key on, nothing with it off. */
  messages(config: AgentConfig = this.ctx.config): DiscoveryMessage[] {
    return discoveryMessages({
      prefix: config.mqtt.prefix,
      deviceId: config.deviceId,
      discoveryPrefix: config.homeassistant.prefix,
      version: AGENT_VERSION,
    })
  }

  start(): void {
    const c = this.ctx.config
    // deviceId and both prefixes need a restart to change: the filter is fixed for this run.
    this.ctx.link.subscribe(discoveryFilter(c.homeassistant.prefix, c.deviceId), (t, payload) => this.held(t, payload))
    this.ctx.link.on('up', this.onUp)
    if (this.ctx.link.up) this.onUp()
  }

  stop(): void {
    this.ctx.link.off('up', this.onUp)
  }

  onConfig(next: AgentConfig, changed: string[]): void {
    if (!changed.includes('homeassistant.enabled')) return
    if (next.homeassistant.enabled) this.announce()
    else this.clear(discoveryTopics(next.homeassistant.prefix, next.deviceId))
  }

  private announce(): void {
    const msgs = this.messages()
    this.ctx.log.info(
      `announcing ${msgs.length} Home Assistant entities under ${this.ctx.config.homeassistant.prefix}/`,
    )
    for (const m of msgs) this.publish(m.topic, JSON.stringify(m.config))
  }

  private clear(topics: string[]): void {
    this.ctx.log.info(`removing ${topics.length} Home Assistant entit${topics.length === 1 ? 'y' : 'ies'}`)
    for (const t of topics) this.publish(t, '')
  }

  /** A config message the broker holds for this device (or our own, echoed): cleared unless announced now. */
  private held(t: string, payload: Buffer): void {
    if (!payload.length) return
    if (this.enabled && this.messages().some((m) => m.topic === t)) return
    this.clear([t])
  }

  private publish(t: string, body: string): void {
    if (!this.ctx.link.up) return // the next connect announces, or finds what to clear
    this.ctx.link
      .publish(t, body, { qos: 1, retain: true, contentType: body ? 'application/json' : undefined })
      .catch((err) => this.ctx.log.warn(`homeassistant ${t}: ${errorMessage(err)}`))
  }
}
