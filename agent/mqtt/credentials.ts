import { readFileSync } from 'node:fs'
import type { IClientOptions } from 'mqtt'

/** TLS file paths: only ever from local config or the command line, never from remote config. */
export interface TlsFiles {
  ca?: string
  cert?: string
  key?: string
  rejectUnauthorized?: boolean
}

export interface Credentials {
  username?: string
  password?: string
  tls?: TlsFiles
}

/** Adds username/password and TLS material (read from their files) to mqtt.js client options. */
export function applyCredentials(options: IClientOptions, c: Credentials): IClientOptions {
  if (c.username) options.username = c.username
  if (c.password) options.password = c.password
  const tls = c.tls
  if (tls) {
    if (tls.ca) options.ca = readFileSync(tls.ca)
    if (tls.cert) options.cert = readFileSync(tls.cert)
    if (tls.key) options.key = readFileSync(tls.key)
    if (tls.rejectUnauthorized !== undefined) options.rejectUnauthorized = tls.rejectUnauthorized
  }
  return options
}
