/**
 * Durable, atomic file creation, the one way every command and the receiver write a file: write a temp file in the
 * target directory, fsync it, rename (or hard-link, when the target must not exist) it into place, fsync the
 * directory. A failed write (ENOSPC, EIO) removes the temp file and leaves the target as it was; after success a
 * power cut leaves either the old file or the whole new one, never a torn or empty one.
 */
import {
  closeSync,
  fsyncSync,
  linkSync,
  openSync,
  promises as fsp,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import * as path from 'node:path'

/** Prefix of temp files; anything left with it after a crash is garbage that `isTempFile` lets a scan remove. */
export const TEMP_PREFIX = '.tmp-'

export function isTempFile(name: string): boolean {
  return name.startsWith(TEMP_PREFIX)
}

let counter = 0
function tempPath(file: string): string {
  return path.join(path.dirname(file), `${TEMP_PREFIX}${process.pid}-${++counter}-${path.basename(file)}`)
}

export interface AtomicWriteOptions {
  /** false: fail with EEXIST instead of replacing an existing file (checked atomically by link(2)). Default true. */
  overwrite?: boolean
  /**
   * false: leave the directory's fsync (which makes the rename durable) to the caller, e.g. a group commit that
   * syncs the folder once for many files (the receiver). Default true.
   */
  syncDir?: boolean
}

export async function writeFileAtomic(
  file: string,
  data: Uint8Array | string,
  opts: AtomicWriteOptions = {},
): Promise<void> {
  const dir = path.dirname(file)
  const tmp = tempPath(file)
  let renamed = false
  try {
    const fh = await fsp.open(tmp, 'wx')
    try {
      await fh.writeFile(data)
      await fh.sync()
    } finally {
      await fh.close()
    }
    if (opts.overwrite === false) await linkNoClobber(tmp, file)
    else {
      await fsp.rename(tmp, file)
      renamed = true
    }
  } finally {
    if (!renamed) await fsp.rm(tmp, { force: true }) // linked, or failed: the temp name goes
  }
  if (opts.syncDir !== false) await fsyncDir(dir)
}

/** Synchronous twin of writeFileAtomic for the one-shot commands (encode, tables, calibrate, eval). */
export function writeFileAtomicSync(file: string, data: Uint8Array | string, opts: AtomicWriteOptions = {}): void {
  const dir = path.dirname(file)
  const tmp = tempPath(file)
  let placed = false
  try {
    const fd = openSync(tmp, 'wx')
    try {
      writeFileSync(fd, data)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    if (opts.overwrite === false) linkNoClobberSync(tmp, file)
    else renameSync(tmp, file)
    placed = true // renamed, or linked and unlinked by linkNoClobberSync
  } finally {
    if (!placed) rmSync(tmp, { force: true })
  }
  fsyncDirSync(dir)
}

/** link(2) fails with EEXIST if the target exists; filesystems without hard links (FAT) fall back to check + rename. */
export async function linkNoClobber(tmp: string, file: string): Promise<void> {
  try {
    await fsp.link(tmp, file)
  } catch (err) {
    if (!noHardLinks(err)) throw err
    if (statSync(file, { throwIfNoEntry: false }))
      throw Object.assign(new Error(`EEXIST: file already exists, '${file}'`), { code: 'EEXIST' })
    await fsp.rename(tmp, file)
  }
}

function linkNoClobberSync(tmp: string, file: string): void {
  try {
    linkSync(tmp, file)
    unlinkSync(tmp)
  } catch (err) {
    if (!noHardLinks(err)) throw err
    if (statSync(file, { throwIfNoEntry: false }))
      throw Object.assign(new Error(`EEXIST: file already exists, '${file}'`), { code: 'EEXIST' })
    renameSync(tmp, file)
  }
}

function noHardLinks(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code
  return code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS'
}

/** Makes a directory entry change (create, rename) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** mkdir -p that also fsyncs each parent whose entry list changed, so a new day's folder survives power loss. */
export async function ensureDirDurable(dir: string): Promise<void> {
  const missing: string[] = []
  let d = path.resolve(dir)
  for (;;) {
    try {
      await fsp.stat(d)
      break
    } catch {
      missing.push(d)
      const parent = path.dirname(d)
      if (parent === d) break
      d = parent
    }
  }
  if (missing.length === 0) return
  await fsp.mkdir(dir, { recursive: true })
  for (const created of missing) await fsyncDir(path.dirname(created))
}
