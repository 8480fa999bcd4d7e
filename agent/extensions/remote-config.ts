/**
 * Remote configuration: `config/set` ← `{ "id"?: string, "config": { …partial… } }`.
 * Size-capped, parsed, validated against the schema (remote keys only), applied live and persisted by the
 * controller; answered on `config/result` `{id, ok, error?, applied?}`; the retained `config` topic always holds
 * `{version, config}` of what is in force (secrets redacted). Anything wrong: rejected with a reason, nothing changes.
 */
import { ConfigError, isPlainObject, redact, validatePartial, type AgentConfig, type FlatConfig } from '../../shared/config'
import type { ConfigResult } from '../../shared/contract/topics'
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

  constructor(private readonly ctx: AgentContext, private readonly applier: ConfigApplier) {}

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
    if (result.ok) {
      this.ctx.log.info(`config ${result.id ?? ''} applied: ${result.applied!.join(', ') || '(no change)'}`)
      this.publishReported()
    } else {
      this.rejected++
      this.ctx.log.warn(`config ${result.id ?? ''} rejected: ${result.error}`)
    }
    this.ctx.link.publish(this.ctx.topic('config/result'), JSON.stringify(result), { qos: 1, contentType: 'application/json' })
      .catch((err) => this.ctx.log.warn(`config/result: ${errorMessage(err)}`))
    return result
  }

  private process(payload: Buffer): ConfigResult {
    const max = this.ctx.config.mqtt.maxConfigBytes
    if (payload.length > max) return { id: null, ok: false, error: `message is ${payload.length} bytes; the limit is ${max} (mqtt.maxConfigBytes)` }
    let doc: unknown
    try {
      doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload))
    } catch (err) {
      return { id: null, ok: false, error: `not UTF-8 JSON: ${errorMessage(err)}` }
    }
    if (!isPlainObject(doc)) return { id: null, ok: false, error: 'expected a JSON object {"id": "...", "config": {...}}' }
    const rawId = doc.id
    const id = typeof rawId === 'string' && rawId.length <= 128 ? rawId : typeof rawId === 'number' && Number.isFinite(rawId) ? String(rawId) : null
    if (rawId !== undefined && id === null) return { id: null, ok: false, error: "'id' must be a string of at most 128 characters" }
    const extra = Object.keys(doc).filter((k) => k !== 'id' && k !== 'config')
    if (extra.length) return { id, ok: false, error: `unknown field '${extra[0]}' (expected {"id", "config"})` }
    if (!Object.hasOwn(doc, 'config')) return { id, ok: false, error: "missing 'config'" }
    try {
      const partial = validatePartial(doc.config, { remote: true, origin: 'config' })
      const applied = this.applier.applyRemote(partial)
      return { id, ok: true, applied }
    } catch (err) {
      return { id, ok: false, error: err instanceof ConfigError ? err.message : `cannot apply: ${errorMessage(err)}` }
    }
  }

  publishReported(): void {
    if (!this.ctx.link.up) return
    const body = { version: this.applier.version, config: redact(this.ctx.config) as AgentConfig }
    this.ctx.link.publish(this.ctx.topic('config'), JSON.stringify(body), { qos: 1, retain: true, contentType: 'application/json' })
      .catch((err) => this.ctx.log.warn(`config: ${errorMessage(err)}`))
  }
}
