/**
 * Remote configuration messages: `config/set` (request), `config/result` (its response) and the retained
 * `config` report. The keys inside `config` are checked by the agent against its schema (shared/config), not here.
 * Pure.
 */
import {
  errorResponse,
  okResponse,
  parseRequest,
  parseResponse,
  withId,
  type RequestId,
  type Response,
} from './envelope'
import { ContractError, Fields, decodeJsonObject, type Payload } from './payload'

/** `config/set` ← `{ id?, config }`: a partial configuration, nested by section as in a config file. */
export interface ConfigSetRequest {
  id: RequestId
  config: unknown
}

export function buildConfigSet(id: string | undefined, config: Record<string, unknown>): string {
  return JSON.stringify(id === undefined ? { config } : { id, config })
}

/** Throws RequestError (with the id when it could be read) naming what is wrong. */
export function parseConfigSet(payload: Payload, maxBytes: number): ConfigSetRequest {
  const { id, fields } = parseRequest(payload, { maxBytes, fields: ['config'] })
  withId(id, () => {
    if (!fields.has('config')) throw new ContractError("missing 'config'", 'config')
  })
  return { id, config: fields.get('config') }
}

/** `data` of an ok `config/result`: the dotted keys whose values changed (empty: nothing to do). */
export interface ConfigResultData {
  applied: string[]
}

export type ConfigResult = Response<ConfigResultData>

export function configApplied(id: RequestId, applied: string[]): ConfigResult {
  return okResponse(id, { applied })
}

export function configRejected(id: RequestId, error: string): ConfigResult {
  return errorResponse(id, error)
}

export function buildConfigResult(r: ConfigResult): string {
  return JSON.stringify(r.status === 'ok' ? okResponse(r.id, r.data) : r)
}

/** Reads a `config/result` (also the pre-envelope `{ id, ok, error?, applied? }`). */
export function parseConfigResult(payload: Payload): ConfigResult {
  const r = parseResponse(payload, 'config/result ')
  if (r.status === 'error') return r
  const f = new Fields(r.data, 'config/result data.')
  const applied = f.get('applied') ?? []
  if (!Array.isArray(applied) || !applied.every((k) => typeof k === 'string'))
    f.fail('applied', 'an array of key names')
  return { id: r.id, status: 'ok', data: { applied: applied as string[] }, ok: true }
}

/** The retained `config` report: what is in force (secrets redacted) and how many remote changes made it. */
export interface ConfigReport<C = Record<string, unknown>> {
  /** Count of applied remote changes, persisted; 0 = none. */
  version: number
  config: C
}

export function buildConfigReport(version: number, config: object): string {
  return JSON.stringify({ version, config })
}

export function parseConfigReport(payload: Payload): ConfigReport {
  const f = new Fields(decodeJsonObject(payload, '{"version", "config"}'), 'config report ')
  return { version: f.integer('version'), config: f.object('config').doc }
}
