/**
 * Where the saved configuration lives: `<buffer.path>.remote-config.json`, beside the buffer but not in it (in
 * memory for a `:memory:` buffer). Not in the buffer's SQLite file, although that would be one file less:
 * - the buffer file is the one that gets damaged and is then moved aside for a fresh one, at start or while running;
 *   the configuration in force must survive that, not be re-saved by whoever notices (a corrupt buffer found at
 *   start used to drop the remote layer, since the fresh file had none);
 * - the buffer runs synchronous=NORMAL (a power cut may take its last commits); this record is written rarely (one
 *   per accepted `config/set`), so it can afford an fsync every time and survive a power cut too;
 * - nothing needs it in the same transaction as a frame.
 * Schema-1 buffers kept it in their `state` table (`config.remote`, `config.version`): the first start moves it here.
 */
import { existsSync } from 'node:fs'
import { FileSavedConfigStore } from './file-store'
import { MemorySavedConfigStore } from './memory-store'
import { checkSaved, type SavedConfig, type SavedConfigStore } from './store'

export const LEGACY_REMOTE_KEY = 'config.remote'
export const LEGACY_VERSION_KEY = 'config.version'

/** A buffer that may still hold the configuration an older agent saved in it (SqliteFrameStore). */
export interface LegacyConfigSource {
  legacyState(key: string): string | undefined
  dropLegacyState(keys: string[]): void
}

export function savedConfigPath(bufferPath: string): string {
  return `${bufferPath}.remote-config.json`
}

export interface OpenLog {
  info(message: string): void
  warn(message: string): void
}

export function openSavedConfig(
  bufferPath: string,
  legacy?: LegacyConfigSource,
  log: OpenLog = { info() {}, warn() {} },
): SavedConfigStore {
  if (bufferPath === ':memory:') return new MemorySavedConfigStore()
  const store = new FileSavedConfigStore(savedConfigPath(bufferPath))
  const text = legacy?.legacyState(LEGACY_REMOTE_KEY)
  if (!legacy || text === undefined) return store
  if (existsSync(store.file)) {
    // a newer agent moved it already and died before dropping the rows
    legacy.dropLegacyState([LEGACY_REMOTE_KEY, LEGACY_VERSION_KEY])
    return store
  }
  let saved: SavedConfig
  try {
    saved = checkSaved({
      remote: JSON.parse(text) as Record<string, unknown>,
      version: Number(legacy.legacyState(LEGACY_VERSION_KEY) ?? 0) || 0,
    })
  } catch (err) {
    // what the old agent did with an unreadable record too: run without it
    log.warn(`not keeping the remote configuration saved in ${bufferPath}: ${(err as Error).message}`)
    legacy.dropLegacyState([LEGACY_REMOTE_KEY, LEGACY_VERSION_KEY])
    return store
  }
  try {
    store.save(saved)
  } catch (err) {
    // e.g. a full disk: run with it now, keep it in the buffer, move it at a later start
    log.warn(
      `cannot move the saved remote configuration to ${store.file} (${(err as Error).message}): using it from ${bufferPath} for now; changes accepted before the next start are not kept`,
    )
    const memory = new MemorySavedConfigStore()
    memory.save(saved)
    return memory
  }
  legacy.dropLegacyState([LEGACY_REMOTE_KEY, LEGACY_VERSION_KEY])
  log.info(`moved the saved remote configuration (version ${saved.version}) from ${bufferPath} to ${store.file}`)
  return store
}
