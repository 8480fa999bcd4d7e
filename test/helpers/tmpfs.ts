/**
 * A real small filesystem for disk-full tests: a tmpfs mounted for the test (needs root, as here and in CI).
 * Where mounting is not allowed the tests are skipped with the reason (`cannotMountTmpfs()`), never faked.
 */
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { Test } from 'tap'

/** Why a tmpfs cannot be mounted here (pass it as the test's `skip`), or false. */
export function cannotMountTmpfs(): string | false {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deepn-mount-probe-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'pipe' })
    execFileSync('umount', [dir], { stdio: 'pipe' })
    return false
  } catch (err) {
    return `cannot mount a tmpfs here (needs root): ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** Mounts a tmpfs of `size` (e.g. '3m') at a fresh directory; unmounted and removed after the test. */
export function mountTmpfs(t: Test, size: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deepn-tmpfs-'))
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' })
  t.teardown(() => {
    execFileSync('umount', ['-l', dir])
    fs.rmSync(dir, { recursive: true, force: true })
  })
  return dir
}

/**
 * Fills the filesystem holding `dir` with a file `<dir>/filler`, to the last byte or, with `leaveBytes`, up to
 * that much free space; returns the filler's size.
 */
export function fillDisk(dir: string, leaveBytes = 0): number {
  const file = path.join(dir, 'filler')
  const fd = fs.openSync(file, 'a')
  const chunk = Buffer.alloc(4096)
  let written = 0
  try {
    for (;;) {
      try {
        written += fs.writeSync(fd, chunk)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break
        throw err
      }
    }
    for (const size of [1024, 256, 64, 1]) {
      // the last partial block too
      for (;;) {
        try {
          written += fs.writeSync(fd, chunk.subarray(0, size))
        } catch {
          break
        }
      }
    }
    if (leaveBytes > 0) {
      written = Math.max(0, written - leaveBytes)
      fs.ftruncateSync(fd, written)
    }
  } finally {
    fs.closeSync(fd)
  }
  return written
}

export function fileSize(file: string): number {
  try {
    return fs.statSync(file).size
  } catch {
    return 0
  }
}
