/**
 * The `--devices` pattern of a staged roll-out: a glob on device ids, `*` any run of characters, `?` one character,
 * everything else literal (`cam-*`, `lobby-??`, `cam-7`). Only device-id characters and the two wildcards are
 * accepted, so a typo such as a topic wildcard (`+`, `#`) is refused instead of silently matching nothing. Pure.
 */
const PATTERN_CHARS = /^[A-Za-z0-9._*?-]{1,64}$/

/** Why `glob` is not a device pattern, or undefined when it is one. */
export function devicePatternProblem(glob: string): string | undefined {
  if (PATTERN_CHARS.test(glob)) return undefined
  return `'${glob}' is not a device pattern: use 1..64 device-id characters (letters, digits, '.', '_', '-') with '*' and '?' as wildcards`
}

/** A matcher for `glob`; throws when it is not a device pattern. */
export function devicePattern(glob: string): (deviceId: string) => boolean {
  const problem = devicePatternProblem(glob)
  if (problem) throw new Error(problem)
  const source = glob.replace(/[.*?-]/g, (c) => (c === '*' ? '.*' : c === '?' ? '.' : `\\${c}`))
  const re = new RegExp(`^${source}$`)
  return (id) => re.test(id)
}
