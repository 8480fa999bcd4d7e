/**
 * Resolves the local configuration: schema defaults ← JSON config file ← environment. Remote configuration
 * persisted in the buffer database is layered on later by the controller (it lives next to the frames).
 */
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { defaultMemoryBudgetMB } from './pipeline/frame-memory'
import { deviceIdFromHostname } from '../shared/contract/ids'
import {
  applyPartial,
  defaults,
  envOverrides,
  mergePartials,
  validatePartial,
  ConfigError,
  type AgentConfig,
  type FlatConfig,
} from '../shared/config'

export interface LocalConfig {
  config: AgentConfig
  /** The validated local layers (file + environment), kept to re-apply the remote layer over them. */
  local: FlatConfig
}

export function loadLocalConfig(opts: { file?: string; env?: Record<string, string | undefined> } = {}): LocalConfig {
  let fromFile: FlatConfig = {}
  if (opts.file) {
    let text: string
    try {
      text = readFileSync(opts.file, 'utf8')
    } catch (err) {
      throw new ConfigError(
        `cannot read config file ${opts.file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      )
    }
    let doc: unknown
    try {
      doc = JSON.parse(text)
    } catch (err) {
      throw new ConfigError(`config file ${opts.file} is not valid JSON: ${(err as Error).message}`)
    }
    fromFile = validatePartial(doc, { remote: false, origin: opts.file })
  }
  return fromLayers(mergePartials(fromFile, envOverrides(opts.env ?? process.env)))
}

/** The LocalConfig for an already validated local layer (e.g. with a caller's own defaults merged under it). */
export function fromLayers(local: FlatConfig): LocalConfig {
  return { config: resolveDynamic(applyPartial(defaults(), local)), local }
}

/** Fills values whose defaults depend on the machine: device id = hostname, frame memory budget, password from its file. */
export function resolveDynamic(c: AgentConfig): AgentConfig {
  const out = structuredClone(c)
  if (!out.deviceId) out.deviceId = deviceIdFromHostname(hostname())
  if (!out.capture.memoryBudgetMB) out.capture.memoryBudgetMB = defaultMemoryBudgetMB()
  if (!out.mqtt.password && out.mqtt.passwordFile) {
    try {
      out.mqtt.password = readFileSync(out.mqtt.passwordFile, 'utf8').replace(/\r?\n$/, '')
    } catch (err) {
      throw new ConfigError(
        `'mqtt.passwordFile': cannot read ${out.mqtt.passwordFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      )
    }
  }
  return out
}
