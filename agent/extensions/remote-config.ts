/**
 * Remote configuration: `config/set` ← `{ "id"?: string, "config": { …partial… } }`.
 * Size-capped, parsed, validated against the schema (remote keys only), applied live and persisted by the
 * controller; answered on `config/result` with the response envelope (shared/contract/envelope.ts: `{id, status,
 * data: {applied}}` or `{id, status: 'error', error}`); the retained `config` topic always holds
 * `{version, config}` of what is in force (secrets redacted). Anything wrong: rejected with a reason, nothing changes.
 */
import { ConfigError, redact, validatePartial, type AgentConfig, type FlatConfig } from '../../shared/config'
import {
  buildConfigReport,
  buildConfigResult,
  configApplied,
  configRejected,
  parseConfigSet,
  type ConfigResult,
} from '../../shared/contract/config-messages'
import { RequestError } from '../../shared/contract/envelope'
import { errorMessage } from '../log'
import type { AgentContext, Extension } from './extension'

export interface ConfigApplier {
  /** Applies a validated remote partial live and persists it; returns the changed keys. Throws, changing nothing, if it cannot. */
  applyRemote(partial: FlatConfig): string[]
  readonly version: number
}

export class RemoteConfigExtension implements Extension {
  readonly name = 'remote-config'
  rejected = 0
  private readonly onUp = (): void => this.publishReported()

  constructor(
    private readonly ctx: AgentContext,
    private readonly applier: ConfigApplier,
  ) {}

  start(): void {
    this.ctx.link.subscribe(this.ctx.topic('config/set'), (_t, payload) => this.handle(payload))
    this.ctx.link.on('up', this.onUp)
    if (this.ctx.link.up) this.publishReported()
  }

  stop(): void {
    this.ctx.link.off('up', this.onUp)
  }

  /** Processes one config/set payload and returns the result it published. */
  handle(payload: Buffer): ConfigResult {
    const result = this.process(payload)
    if (result.status === 'ok') {
      this.ctx.log.info(`config ${result.id ?? ''} applied: ${result.data.applied.join(', ') || '(no change)'}`)
      this.publishReported()
    } else {
      this.rejected++
      this.ctx.log.warn(`config ${result.id ?? ''} rejected: ${result.error}`)
    }
    this.ctx.link
      .publish(this.ctx.topic('config/result'), buildConfigResult(result), { qos: 1, contentType: 'application/json' })
      .catch((err) => this.ctx.log.warn(`config/result: ${errorMessage(err)}`))
    return result
  }

  private process(payload: Buffer): ConfigResult {
    let req
    try {
      req = parseConfigSet(payload, this.ctx.config.mqtt.maxConfigBytes)
    } catch (err) {
      return configRejected(err instanceof RequestError ? err.id : null, errorMessage(err))
    }
    try {
      const partial = validatePartial(req.config, { remote: true, origin: 'config' })
      return configApplied(req.id, this.applier.applyRemote(partial))
    } catch (err) {
      return configRejected(req.id, err instanceof ConfigError ? err.message : `cannot apply: ${errorMessage(err)}`)
    }
  }

  publishReported(): void {
    if (!this.ctx.link.up) return
    const body = buildConfigReport(this.applier.version, redact(this.ctx.config) as AgentConfig)
    this.ctx.link
      .publish(this.ctx.topic('config'), body, { qos: 1, retain: true, contentType: 'application/json' })
      .catch((err) => this.ctx.log.warn(`config: ${errorMessage(err)}`))
  }
}
