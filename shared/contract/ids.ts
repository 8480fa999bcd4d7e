/**
 * The id rules of the protocol, one pattern and one function each. Device ids become topic levels and the
 * receiver's folder names; table ids become keys of the agent's `encoder.tables` and file names. Agent, receiver
 * and push-table all check with these, so an id one side accepts is never refused by the other. Pure.
 */
import { isPrototypeName } from '../config/own-keys'

export const DEVICE_ID_MAX = 64
/**
 * Letters, digits, `.`, `_`, `-`; 1..64; the first character a letter, digit or `_`: never a topic wildcard or
 * separator (`+ # /`), never `.`/`..` or a name starting with `-` or `.` (folder names, command-line options).
 */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/

export const TABLE_ID_MAX = 64
/** Letters, digits, `.`, `_`, `-`; 1..64. Names of Object.prototype members (`constructor`, …) are refused too. */
export const TABLE_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/

/** The device-id rule in words, for error messages and docs. */
export const DEVICE_ID_RULE = "1..64 letters, digits, '.', '_' or '-', not starting with '.' or '-'"
/** The table-id rule in words. */
export const TABLE_ID_RULE =
  "1..64 letters, digits, '.', '_' or '-', not a JavaScript object member name such as 'constructor'"

const shown = (id: unknown): string =>
  typeof id === 'string' ? `'${id.length > 80 ? `${id.slice(0, 80)}…` : id}'` : (JSON.stringify(id) ?? String(id))

/** Why `id` is not a device id, or undefined when it is one. */
export function deviceIdProblem(id: unknown): string | undefined {
  if (typeof id !== 'string') return `device id must be a string, got ${shown(id)}`
  if (DEVICE_ID_PATTERN.test(id)) return undefined
  return `device id ${shown(id)} is not usable as a folder name or topic level: use ${DEVICE_ID_RULE}`
}

/** Why `id` is not a table id, or undefined when it is one. */
export function tableIdProblem(id: unknown): string | undefined {
  if (typeof id !== 'string')
    return `table id must be a string of 1..${TABLE_ID_MAX} letters, digits, '.', '_' or '-', got ${shown(id)}`
  if (!TABLE_ID_PATTERN.test(id))
    return `table id must be 1..${TABLE_ID_MAX} letters, digits, '.', '_' or '-', got ${shown(id)}`
  if (isPrototypeName(id)) return `table id '${id}' names a built-in JavaScript object member; choose another id`
  return undefined
}

export function isDeviceId(id: unknown): id is string {
  return deviceIdProblem(id) === undefined
}

export function isTableId(id: unknown): id is string {
  return tableIdProblem(id) === undefined
}

/** A device id made from a host name (the agent's default): other characters become `-`, a bad start is cut. */
export function deviceIdFromHostname(hostname: string): string {
  const id = hostname
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, DEVICE_ID_MAX)
  return isDeviceId(id) ? id : 'deepn'
}
