/**
 * The broker connection options the backend commands share (`deepn receive`, `deepn simulate`): URL, topic prefix,
 * login and TLS, with the same flags, environment fallbacks and errors. The password never comes from argv.
 */
import { readFileSync } from 'node:fs'
import { UsageError } from '../../agent/cli-args'
import { DEFAULT_PREFIX } from '../../shared/contract/topics'

/** parseArgs specs of the shared flags; spread into a command's own `options`. */
export const BROKER_OPTION_SPECS = {
  url: { type: 'string' },
  prefix: { type: 'string' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  insecure: { type: 'boolean' },
  username: { type: 'string' },
  'password-file': { type: 'string' },
} as const

export interface BrokerFlags {
  url?: string
  prefix?: string
  ca?: string
  cert?: string
  key?: string
  insecure?: boolean
  username?: string
  'password-file'?: string
}

export interface BrokerOptions {
  url: string
  prefix: string
  username?: string
  password?: string
  tls?: { ca?: string; cert?: string; key?: string; rejectUnauthorized: boolean }
}

/** The parsed flags with their environment fallbacks and defaults; a bad prefix or unreadable password file is a UsageError. */
export function brokerOptions(v: BrokerFlags, env: NodeJS.ProcessEnv): BrokerOptions {
  const prefix = v.prefix ?? DEFAULT_PREFIX
  if (!prefix || /[#+]/.test(prefix) || prefix.endsWith('/'))
    throw new UsageError(`--prefix '${prefix}' must be a non-empty topic without wildcards or a trailing /`)
  const opts: BrokerOptions = {
    url: v.url ?? env.DEEPN_MQTT_URL ?? 'mqtt://localhost:1883',
    prefix,
    username: v.username ?? env.DEEPN_MQTT_USERNAME,
    password: password(v['password-file'] ?? env.DEEPN_MQTT_PASSWORD_FILE, env.DEEPN_MQTT_PASSWORD),
  }
  if (v.ca || v.cert || v.key || v.insecure)
    opts.tls = { ca: v.ca, cert: v.cert, key: v.key, rejectUnauthorized: !v.insecure }
  return opts
}

/** The password from --password-file (first line) or the inline environment value; never from argv. */
export function password(file: string | undefined, inline: string | undefined): string | undefined {
  if (file) {
    try {
      return readFileSync(file, 'utf8').replace(/\r?\n$/, '')
    } catch (err) {
      throw new UsageError(
        `--password-file: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      )
    }
  }
  return inline || undefined
}
