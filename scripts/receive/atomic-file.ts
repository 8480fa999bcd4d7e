/**
 * Durable file creation: write a temp file in the target directory, fsync it, rename it into place, fsync the
 * directory. After this resolves, a power cut leaves either no file or the whole file, never a torn one.
 */
import { promises as fsp } from 'node:fs'
import * as path from 'node:path'

/** Prefix of temp files; anything left with it after a crash is garbage that `isTempFile` lets a scan remove. */
export const TEMP_PREFIX = '.tmp-'

export function isTempFile(name: string): boolean {
  return name.startsWith(TEMP_PREFIX)
}

export async function writeFileAtomic(file: string, data: Uint8Array): Promise<void> {
  const dir = path.dirname(file)
  const tmp = path.join(dir, `${TEMP_PREFIX}${process.pid}-${path.basename(file)}`)
  const fh = await fsp.open(tmp, 'w')
  try {
    await fh.writeFile(data)
    await fh.sync()
  } finally {
    await fh.close()
  }
  try {
    await fsp.rename(tmp, file)
  } catch (err) {
    await fsp.rm(tmp, { force: true })
    throw err
  }
  await fsyncDir(dir)
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
