/**
 * Validation and merging driven by the schema. Every error names the offending key. Pure: no I/O.
 */
import { SCHEMA, SPEC_BY_KEY, MAX_PUSHED_TABLES, type KeySpec } from './schema'
import { validateTable } from '../codec/tables'
import { cleanHuffmanTables, validateHuffmanTables } from '../codec/huffman-tables'
import type { HuffmanTables } from '../codec/types'
import type { AgentConfig, ConfigSection, FlatConfig, PushedTable } from './types'
import { setOwn } from './own-keys'
import { tableIdProblem } from '../contract/ids'
import { checkKeepMap, KeepMapError } from '../spatial/keep-map'

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** A fresh configuration holding every schema default. */
export function defaults(): AgentConfig {
  const flat: FlatConfig = {}
  for (const s of SCHEMA) flat[s.key] = structuredClone(s.default)
  return unflatten(flat) as unknown as AgentConfig
}

export interface ValidateOptions {
  /** Reject keys the schema does not allow over MQTT. */
  remote: boolean
  /** Where the document came from, for error messages (e.g. a file name). */
  origin?: string
}

/**
 * Checks a partial configuration document (nested JSON object) and returns it flattened to dotted keys.
 * Throws ConfigError naming the first wrong key: unknown, not remote-settable, wrong type or out of range.
 */
export function validatePartial(doc: unknown, opts: ValidateOptions): FlatConfig {
  const where = opts.origin ? `${opts.origin}: ` : ''
  if (!isPlainObject(doc)) throw new ConfigError(`${where}configuration must be a JSON object, got ${describe(doc)}`)
  const out: FlatConfig = {}
  walk(doc, '', out, opts, where)
  return out
}

/** A key (or one pushed table, `encoder.tables.<id>`) that validatePartialLenient left out, and why. */
export interface DroppedKey {
  key: string
  error: string
}

/**
 * validatePartial for a layer saved by an earlier run (possibly an earlier version with other rules): a wrong key,
 * or one wrong pushed table, is left out and listed in `dropped` instead of refusing the whole layer, so one bad
 * entry does not throw away everything else a backend set. Throws only when `doc` is not an object.
 */
export function validatePartialLenient(
  doc: unknown,
  opts: ValidateOptions,
): { partial: FlatConfig; dropped: DroppedKey[] } {
  const where = opts.origin ? `${opts.origin}: ` : ''
  if (!isPlainObject(doc)) throw new ConfigError(`${where}configuration must be a JSON object, got ${describe(doc)}`)
  const partial: FlatConfig = {}
  const dropped: DroppedKey[] = []
  walk(doc, '', partial, opts, where, dropped)
  return { partial, dropped }
}

/** With `dropped`, a wrong key is recorded there and skipped; without, it throws. */
function walk(
  obj: Record<string, unknown>,
  prefix: string,
  out: FlatConfig,
  opts: ValidateOptions,
  where: string,
  dropped?: DroppedKey[],
): void {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix + k
    try {
      const spec = SPEC_BY_KEY.get(key)
      if (!spec) {
        if (SCHEMA.some((s) => s.key.startsWith(`${key}.`))) {
          if (!isPlainObject(v)) throw new ConfigError(`${where}'${key}' must be an object, got ${describe(v)}`)
          walk(v, `${key}.`, out, opts, where, dropped)
          continue
        }
        throw new ConfigError(`${where}unknown key '${key}'${suggest(key)}`)
      }
      if (opts.remote && !spec.remote) {
        throw new ConfigError(`${where}'${key}' cannot be set remotely (${spec.localOnly})`)
      }
      if (dropped && spec.type === 'tables' && isPlainObject(v)) {
        out[key] = lenientTables(spec, v, where, dropped)
        continue
      }
      out[key] = checkValue(spec, v, where)
    } catch (err) {
      if (!dropped || !(err instanceof ConfigError)) throw err
      dropped.push({ key, error: err.message })
    }
  }
}

/** Pushed tables one id at a time: a wrong one is dropped, the others kept. */
function lenientTables(
  spec: KeySpec,
  v: Record<string, unknown>,
  where: string,
  dropped: DroppedKey[],
): Record<string, unknown> {
  const kept: Record<string, unknown> = {}
  for (const [id, t] of Object.entries(v)) {
    try {
      const one = checkValue(spec, Object.fromEntries([[id, t]]), where) as Record<string, unknown>
      setOwn(kept, id, one[id])
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err
      dropped.push({ key: `${spec.key}.${id}`, error: err.message })
    }
  }
  return kept
}

/** Validates one value against its key's spec; returns the (possibly normalized) value. */
export function checkValue(spec: KeySpec, v: unknown, where = ''): unknown {
  const bad = (msg: string): never => {
    throw new ConfigError(`${where}'${spec.key}' ${msg}`)
  }
  switch (spec.type) {
    case 'string': {
      if (typeof v !== 'string') return bad(`must be a string, got ${describe(v)}`)
      if (spec.maxLength !== undefined && v.length > spec.maxLength) bad(`is longer than ${spec.maxLength} characters`)
      if (spec.pattern && !spec.pattern.regex.test(v)) bad(spec.pattern.message)
      const wrong = spec.check?.(v)
      if (wrong !== undefined) bad(wrong)
      return v
    }
    case 'boolean':
      if (typeof v !== 'boolean') bad(`must be true or false, got ${describe(v)}`)
      return v
    case 'integer':
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v)) bad(`must be a number, got ${describe(v)}`)
      if (spec.type === 'integer' && !Number.isInteger(v)) bad(`must be an integer, got ${v}`)
      if (spec.min !== undefined && (v as number) < spec.min) bad(`must be >= ${spec.min}, got ${v}`)
      if (spec.max !== undefined && (v as number) > spec.max) bad(`must be <= ${spec.max}, got ${v}`)
      return v
    case 'enum':
      if (typeof v !== 'string' || !spec.values!.includes(v))
        bad(`must be one of ${spec.values!.map((x) => `'${x}'`).join(', ')}, got ${describe(v)}`)
      return v
    case 'tables':
      return checkTables(spec.key, v, bad)
    case 'keepMap':
      if (v === null) return null
      try {
        return checkKeepMap(v, spec.key)
      } catch (err) {
        if (err instanceof KeepMapError) throw new ConfigError(`${where}${err.message}`)
        throw err
      }
  }
}

/** Pushed tables: `{ id: {luma, chroma, huffman?} }`; `null` for an id deletes a previously pushed table. */
function checkTables(key: string, v: unknown, bad: (m: string) => never): Record<string, PushedTable | null> {
  if (!isPlainObject(v)) return bad(`must be an object of tables by id, got ${describe(v)}`)
  const ids = Object.keys(v)
  if (ids.length > MAX_PUSHED_TABLES) bad(`holds ${ids.length} tables; at most ${MAX_PUSHED_TABLES}`)
  const out: Record<string, PushedTable | null> = {}
  for (const id of ids) {
    const idProblem = tableIdProblem(id)
    if (idProblem) bad(idProblem)
    const t = v[id]
    if (t === null) {
      setOwn(out, id, null)
      continue
    }
    if (!isPlainObject(t)) bad(`.${id} must be an object {luma, chroma}, got ${describe(t)}`)
    const tt = t as Record<string, unknown>
    const extra = Object.keys(tt).filter((k) => !TABLE_FIELDS.includes(k))
    if (extra.length) bad(`.${id} has unknown field '${extra[0]}'`)
    if (tt.id !== undefined && tt.id !== id) bad(`.${id}.id is '${String(tt.id)}', expected '${id}'`)
    const table: PushedTable = {
      luma: checkQuantTable(`${key}.${id}.luma`, tt.luma),
      chroma: checkQuantTable(`${key}.${id}.chroma`, tt.chroma),
    }
    if (tt.huffman !== undefined) table.huffman = checkHuffmanSet(`${key}.${id}.huffman`, tt.huffman)
    setOwn(out, id, table)
  }
  return out
}

const TABLE_FIELDS = ['luma', 'chroma', 'huffman', 'id', 'source']

/**
 * A trained Huffman set, by the codec's rule for table files (complete, valid prefix codes); returned as a clean
 * copy holding only `counts` and `symbols` per table, so nothing else is stored or reported.
 */
export function checkHuffmanSet(name: string, v: unknown): HuffmanTables {
  try {
    validateHuffmanTables(v, `'${name}'`)
  } catch (err) {
    throw new ConfigError((err as Error).message)
  }
  return cleanHuffmanTables(v as HuffmanTables)
}

/** 64 integers 1..255 in natural row-major order: the codec's own rule for table files (config/tables/). */
export function checkQuantTable(name: string, v: unknown): number[] {
  if (!Array.isArray(v)) throw new ConfigError(`'${name}' must be an array of 64 integers, got ${describe(v)}`)
  try {
    validateTable(v, `'${name}'`)
  } catch (err) {
    throw new ConfigError((err as Error).message)
  }
  return v.slice()
}

/** Checks rules between keys. Throws ConfigError naming the keys. */
export function checkConsistency(c: AgentConfig): void {
  if (c.mqtt.reconnectMinMs > c.mqtt.reconnectMaxMs)
    throw new ConfigError(
      `'mqtt.reconnectMinMs' (${c.mqtt.reconnectMinMs}) must not exceed 'mqtt.reconnectMaxMs' (${c.mqtt.reconnectMaxMs})`,
    )
  if (c.capture.retryMinMs > c.capture.retryMaxMs)
    throw new ConfigError(
      `'capture.retryMinMs' (${c.capture.retryMinMs}) must not exceed 'capture.retryMaxMs' (${c.capture.retryMaxMs})`,
    )
  if (c.capture.source === 'files' && !c.capture.filesDir)
    throw new ConfigError(`'capture.filesDir' is required when 'capture.source' is 'files'`)
  if (c.capture.width % 2 || c.capture.height % 2) {
    if (c.capture.source === 'rpicam')
      throw new ConfigError(
        `'capture.width'/'capture.height' must be even for the rpicam source (I420), got ${c.capture.width}x${c.capture.height}`,
      )
  }
  const stride = c.capture.rpicamStride
  if (c.capture.source === 'rpicam' && stride && (stride % 2 || stride < c.capture.width)) {
    throw new ConfigError(
      `'capture.rpicamStride' must be 0 (found by itself) or an even number >= 'capture.width' (${c.capture.width}) for the rpicam source, got ${stride}`,
    )
  }
  if (c.capture.source === 'rpicam' && c.encoder.subsampling === '444') {
    // rpicam hands over I420: its chroma is already halved, and every frame would fail to encode as 4:4:4.
    throw new ConfigError(
      `'encoder.subsampling' '444' cannot be used with 'capture.source' 'rpicam', whose I420 frames are 4:2:0: use '420'`,
    )
  }
  if (Object.keys(c.encoder.tables).length > MAX_PUSHED_TABLES)
    throw new ConfigError(`'encoder.tables' holds more than ${MAX_PUSHED_TABLES} tables`)
}

/** A new configuration: `base` with the validated partial applied. `encoder.tables` merges by id. */
export function applyPartial(base: AgentConfig, partial: FlatConfig): AgentConfig {
  const flat = flatten(base)
  for (const [k, v] of Object.entries(partial)) {
    if (k === 'encoder.tables') {
      const merged = { ...(flat[k] as Record<string, PushedTable>) }
      for (const [id, t] of Object.entries(v as Record<string, PushedTable | null>)) {
        if (t === null) delete merged[id]
        else setOwn(merged, id, t)
      }
      flat[k] = merged
    } else {
      flat[k] = v
    }
  }
  const next = unflatten(flat) as unknown as AgentConfig
  checkConsistency(next)
  return next
}

/**
 * One section's settings over the schema defaults, checked like a configuration file (each key, then the rules
 * between keys): for code that sets up one part directly, e.g. a capture source in a test or a tool.
 */
export function validateSection<S extends ConfigSection>(section: S, doc: unknown): AgentConfig[S] {
  return applyPartial(defaults(), validatePartial({ [section]: doc }, { remote: false }))[section]
}

/** Merges two validated partials (later wins; tables merge by id). */
export function mergePartials(a: FlatConfig, b: FlatConfig): FlatConfig {
  const out = { ...a }
  for (const [k, v] of Object.entries(b)) {
    if (k === 'encoder.tables' && isPlainObject(out[k])) out[k] = { ...(out[k] as object), ...(v as object) }
    else out[k] = v
  }
  return out
}

/** Dotted keys whose values differ between two configurations. */
export function changedKeys(a: AgentConfig, b: AgentConfig): string[] {
  const fa = flatten(a)
  const fb = flatten(b)
  return SCHEMA.map((s) => s.key).filter((k) => JSON.stringify(fa[k]) !== JSON.stringify(fb[k]))
}

/** The configuration as it may be shown to a backend or in logs: secrets replaced. */
export function redact(c: AgentConfig): AgentConfig {
  const flat = flatten(c)
  for (const s of SCHEMA) if (s.secret && flat[s.key]) flat[s.key] = '***'
  return unflatten(flat) as unknown as AgentConfig
}

/** Schema keys → values (nested objects below a schema key, like `encoder.tables`, stay whole). */
export function flatten(c: AgentConfig): FlatConfig {
  const out: FlatConfig = {}
  for (const s of SCHEMA) {
    let v: unknown = c
    for (const part of s.key.split('.')) v = (v as Record<string, unknown>)?.[part]
    out[s.key] = v
  }
  return out
}

/** Dotted keys → nested JSON document (the form validatePartial reads back). */
export function unflatten(flat: FlatConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(flat)) {
    const parts = k.split('.')
    let o = out
    for (const p of parts.slice(0, -1)) o = (o[p] ??= {}) as Record<string, unknown>
    o[parts[parts.length - 1]] = v
  }
  return out
}

function suggest(key: string): string {
  const last = key.split('.').pop()!.toLowerCase()
  const near = SCHEMA.find((s) => s.key.toLowerCase().endsWith(`.${last}`) || s.key.toLowerCase() === last)
  return near ? ` (did you mean '${near.key}'?)` : ''
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  if (typeof v === 'string') return `string '${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`
  if (typeof v === 'object') return 'an object'
  return `${typeof v} ${String(v)}`
}
