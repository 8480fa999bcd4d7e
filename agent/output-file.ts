/**
 * Files the commands write. Outputs are checked before the work starts (a long run must not end in "cannot write"
 * after doing all the work; an input or an existing table must not be clobbered) and written atomically
 * (agent/atomic-file.ts), so a failed write never leaves a truncated or empty file.
 */
import { accessSync, constants, mkdirSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { writeFileAtomicSync } from './atomic-file'
import { UsageError } from './cli-args'

/** Creates `dir` if needed and checks it is a writable directory; `option` names the flag in the message. */
export function checkWritableDir(dir: string, option: string): void {
  try {
    mkdirSync(dir, { recursive: true })
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' })
    accessSync(dir, constants.W_OK)
  } catch (err) {
    throw new UsageError(`${option} ${dir}: cannot write there (${describeFsError(err)})`)
  }
}

export interface OutputFileCheck {
  /** The flag that named the file, for messages (`-o`, `--out`). */
  option: string
  /** Files the command reads: the output may not be one of them. */
  inputs?: string[]
  /** Replace an existing file. Without it an existing file is refused (for tables: never clobber a shipped one). */
  force?: boolean
  /** false: replacing an existing file is normal for this output (e.g. an encoded image); default true. */
  refuseExisting?: boolean
  /** false: the folder must already exist (as for cjpeg -outfile); default true: it is created. */
  createDir?: boolean
}

/** Checks an output file before the work: not an input, not an existing file unless forced, its folder writable. */
export function checkOutputFile(file: string, o: OutputFileCheck): void {
  for (const input of o.inputs ?? []) {
    if (sameFile(file, input))
      throw new UsageError(
        `${o.option} ${file} is the input ${input}: refusing to overwrite it; choose another output file`,
      )
  }
  const st = statSync(file, { throwIfNoEntry: false })
  if (st?.isDirectory()) throw new UsageError(`${o.option} ${file} is a directory; give a file name`)
  if (st && o.refuseExisting !== false && !o.force)
    throw new UsageError(`${o.option} ${file} already exists: pass --force to replace it, or choose another file`)
  const dir = dirname(resolve(file))
  try {
    if (o.createDir !== false) mkdirSync(dir, { recursive: true })
    accessSync(dir, constants.W_OK)
  } catch (err) {
    throw new UsageError(`${o.option} ${file}: cannot write in ${dir} (${describeFsError(err)})`)
  }
}

/**
 * Writes `data` to `file` atomically (creating its folder); `overwrite: false` fails rather than replace a file that
 * appeared since the check. Errors name the file and the cause in words ("no space left on device").
 */
export function writeOutputFile(
  file: string,
  data: Uint8Array | string,
  opts: { overwrite?: boolean; createDir?: boolean } = {},
): void {
  try {
    if (opts.createDir !== false) mkdirSync(dirname(resolve(file)), { recursive: true })
    writeFileAtomicSync(file, data, opts)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new Error(`cannot write ${file}: it already exists (pass --force to replace it)`)
    throw new Error(`cannot write ${file}: ${describeFsError(err)}`)
  }
}

/** Same file: same device and inode when both exist (hard links, symlinks, ./x vs x), else the same absolute path. */
export function sameFile(a: string, b: string): boolean {
  const sa = statSync(a, { throwIfNoEntry: false })
  const sb = statSync(b, { throwIfNoEntry: false })
  if (sa && sb) return sa.dev === sb.dev && sa.ino === sb.ino
  return resolve(a) === resolve(b)
}

/** A file-system error as a short phrase: "no space left on device" rather than a syscall dump. */
export function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException
  switch (e?.code) {
    case 'ENOENT':
      return 'no such file or directory'
    case 'EACCES':
    case 'EPERM':
      return 'permission denied'
    case 'ENOTDIR':
      return 'not a directory'
    case 'EISDIR':
      return 'is a directory'
    case 'EEXIST':
      return 'already exists'
    case 'ENOSPC':
      return 'no space left on device'
    case 'EDQUOT':
      return 'disk quota exceeded'
    case 'EROFS':
      return 'read-only file system'
    case 'EIO':
      return 'input/output error'
    default:
      return e?.code ?? (err instanceof Error ? err.message : String(err))
  }
}
