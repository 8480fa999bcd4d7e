/**
 * Typed buffer failures. The agent must survive all of them: callers catch StorageError, log it, count it and
 * keep running; frames committed before the failure stay intact and publishable.
 */
export class StorageError extends Error {
  /** SQLite's extended result code (e.g. SQLITE_FULL, SQLITE_CORRUPT) or a node errno code, when known. */
  readonly code?: string

  constructor(message: string, options: { code?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause })
    this.name = 'StorageError'
    this.code = options.code
  }
}

/** The disk (or the configured file-size cap) is full and the frame could not be stored, even after applying the policy. */
export class DiskFullError extends StorageError {
  constructor(message: string, options: { code?: string; cause?: unknown } = {}) {
    super(message, options)
    this.name = 'DiskFullError'
  }
}

/** The database file is not a (healthy) SQLite database. openFrameStore moves such a file aside. */
export class CorruptDatabaseError extends StorageError {
  constructor(message: string, options: { code?: string; cause?: unknown } = {}) {
    super(message, options)
    this.name = 'CorruptDatabaseError'
  }
}

/** Wraps a driver error thrown while doing `what` into the matching typed error. */
export function toStorageError(what: string, err: unknown): StorageError {
  if (err instanceof StorageError) return err
  const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : undefined
  const detail = err instanceof Error ? err.message : String(err)
  const message = `frame buffer: ${what} failed: ${detail}${code ? ` (${code})` : ''}`
  if (code && isFullCode(code)) return new DiskFullError(message, { code, cause: err })
  if (code && isCorruptCode(code)) return new CorruptDatabaseError(message, { code, cause: err })
  return new StorageError(message, { code, cause: err })
}

export function isFullCode(code: string): boolean {
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT'
}

export function isCorruptCode(code: string): boolean {
  return code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')
}
