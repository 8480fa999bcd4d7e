/**
 * This package's root folder (where its package.json is), found upwards from this file so the same code works from
 * the sources (agent/), the build (dist/agent/) and an installed package. The one place that knows the layout.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

let cached: string | undefined

export function packageRoot(): string {
  if (cached) return cached
  for (let d = __dirname; ; d = dirname(d)) {
    if (isOurs(join(d, 'package.json'))) return (cached = d)
    if (dirname(d) === d) throw new Error(`deepn-edge's package.json not found above ${__dirname}`)
  }
}

/** A path inside the package, e.g. `packagePath('config', 'tables')`. */
export function packagePath(...parts: string[]): string {
  return join(packageRoot(), ...parts)
}

/** The package's version, or 'unknown' if package.json cannot be read. */
export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version?: string }).version ?? 'unknown'
  } catch {
    return 'unknown'
  }
}

function isOurs(file: string): boolean {
  if (!existsSync(file)) return false
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === 'deepn-edge'
  } catch {
    return false
  }
}
