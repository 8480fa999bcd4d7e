/**
 * Files the commands write. Outputs are checked before the work starts, so a long run does not end in "cannot
 * write" after it has done all the work.
 */
import { accessSync, constants, mkdirSync, statSync } from 'node:fs'
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

/** A file-system error as a short phrase: "no such file or directory" rather than a syscall dump. */
export function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException
  switch (e?.code) {
    case 'ENOENT': return 'no such file or directory'
    case 'EACCES': case 'EPERM': return 'permission denied'
    case 'ENOTDIR': return 'not a directory'
    case 'EISDIR': return 'is a directory'
    case 'EEXIST': return 'already exists'
    case 'ENOSPC': return 'no space left on device'
    case 'EDQUOT': return 'disk quota exceeded'
    case 'EROFS': return 'read-only file system'
    default: return e?.code ?? (err instanceof Error ? err.message : String(err))
  }
}
