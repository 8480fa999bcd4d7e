/**
 * Extensions (zigbee2mqtt style): small parts the controller starts and stops, each owning its topics.
 * They share one context; configuration changes reach them through `onConfig`, already validated.
 */
import type { EventEmitter } from 'node:events'
import type { FrameStore } from '../buffer/store'
import type { MqttLink } from '../mqtt/link'
import type { Logger } from '../log'
import type { AgentStats } from '../pipeline/stats'
import type { AgentConfig } from '../../shared/config'
import type { LeafName } from '../../shared/contract/topics'

export interface AgentContext {
  /** The configuration in force (replaced on every applied change). */
  readonly config: AgentConfig
  readonly store: FrameStore
  readonly link: MqttLink
  readonly stats: AgentStats
  readonly log: Logger
  /** `<prefix>/<deviceId>/<leaf>`. */
  topic(leaf: LeafName): string
  /**
   * 'frame' (seq) when a frame was committed; 'buffer' (reason | undefined) after each append: why frames were
   * dropped or refused, undefined when none were; 'config' (config, changed) after a change was applied.
   */
  readonly events: EventEmitter
  /** Largest encoded JPEG (before its metadata stamp) that may be published now; Infinity = no known limit. */
  jpegLimit(): number
}

export interface Extension {
  readonly name: string
  start(): void | Promise<void>
  /** Release timers and subscriptions; wait for work in progress. */
  stop(): void | Promise<void>
  onConfig?(next: AgentConfig, changed: string[]): void
}
