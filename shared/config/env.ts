/**
 * Environment overrides. Two forms, both documented in docs/config.md:
 *  - dedicated variables named in the schema (`DEEPN_MQTT_URL`, `DEEPN_DEVICE_ID`, …);
 *  - generic `DEEPN__<SECTION>__<KEY>=value` for any key, matched case-insensitively with `_` ignored inside a
 *    part: `DEEPN__MQTT__MAX_PAYLOAD_BYTES=131072` sets `mqtt.maxPayloadBytes`.
 * Values are parsed by the key's type (numbers, true/false, JSON for tables and the keep map). Pure: takes the env as data.
 */
import { SCHEMA, type KeySpec } from './schema'
import { checkValue, ConfigError } from './validate'
import type { FlatConfig } from './types'

const norm = (s: string): string => s.replace(/_/g, '').toLowerCase()

export function envOverrides(env: Record<string, string | undefined>): FlatConfig {
  const out: FlatConfig = {}
  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined || !name.startsWith('DEEPN_')) continue
    let spec: KeySpec | undefined
    if (name.startsWith('DEEPN__')) {
      const parts = name.slice(7).split('__').map(norm)
      spec = SCHEMA.find((s) => {
        const k = s.key.split('.').map(norm)
        return k.length === parts.length && k.every((p, i) => p === parts[i])
      })
      if (!spec) throw new ConfigError(`environment variable ${name} names no configuration key`)
    } else {
      spec = SCHEMA.find((s) => s.env === name)
      if (!spec) continue // other DEEPN_* variables belong to other tools
    }
    out[spec.key] = checkValue(spec, parseEnvValue(spec, raw, name), `environment ${name}: `)
  }
  return out
}

function parseEnvValue(spec: KeySpec, raw: string, name: string): unknown {
  switch (spec.type) {
    case 'integer':
    case 'number': {
      if (raw.trim() === '' || Number.isNaN(Number(raw)))
        throw new ConfigError(`environment ${name}: '${spec.key}' must be a number, got '${raw}'`)
      return Number(raw)
    }
    case 'boolean':
      if (/^(true|1|yes)$/i.test(raw)) return true
      if (/^(false|0|no)$/i.test(raw)) return false
      throw new ConfigError(`environment ${name}: '${spec.key}' must be true or false, got '${raw}'`)
    case 'tables':
    case 'keepMap':
      try {
        return JSON.parse(raw)
      } catch {
        throw new ConfigError(`environment ${name}: '${spec.key}' must be JSON`)
      }
    default:
      return raw
  }
}
