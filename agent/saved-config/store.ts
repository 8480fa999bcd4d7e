/**
 * The remote configuration layer the agent accepted over MQTT (`config/set`), kept so a restart runs it again: one
 * small record, replaced on every accepted change, read once at start. Apart from the frame buffer on purpose
 * (see open.ts for where it lives and why). Every implementation passes the suite in test/saved-config/.
 */
export interface SavedConfig {
  /** The remote layer as nested JSON, as `config/set` carries it; re-validated on load (the schema may have changed). */
  remote: Record<string, unknown>
  /** Changes accepted so far (the `version` reported on `config`). */
  version: number
}

export interface SavedConfigStore {
  /** The record saved last, or undefined if none was. Throws an Error saying what is wrong when it cannot be read. */
  load(): SavedConfig | undefined
  /** Replaces the record (remote layer and version together); durable when it returns. */
  save(saved: SavedConfig): void
}

/** Throws a TypeError naming the field unless `saved` is a record `save` may write; returns a copy of it. */
export function checkSaved(saved: SavedConfig, what = 'saved configuration'): SavedConfig {
  if (saved === null || typeof saved !== 'object') throw new TypeError(`${what}: must be an object { remote, version }`)
  if (!Number.isSafeInteger(saved.version) || saved.version < 0)
    throw new TypeError(`${what}: version must be an integer >= 0, got ${JSON.stringify(saved.version)}`)
  const r = saved.remote
  if (r === null || typeof r !== 'object' || Array.isArray(r))
    throw new TypeError(
      `${what}: remote must be a JSON object, got ${Array.isArray(r) ? 'an array' : JSON.stringify(r)}`,
    )
  return { remote: JSON.parse(JSON.stringify(r)) as Record<string, unknown>, version: saved.version }
}
