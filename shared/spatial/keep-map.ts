/**
 * The importance map a backend pushes to a device (`encoder.keepMap`): a coarse grid over the frame whose cells
 * each name a level, and per level how many zig-zag coefficients a block keeps (1 = DC only .. 64 = all; 0 = a
 * blank mid-grey block, for cells the backend's model never needs). Levels
 * are one digit per cell, so a 64x36 map is a 2304-character string instead of a JSON array of numbers. Here: its
 * validation (every error names the field) and its conversion to the codec's BlockKeepMap, with cells where
 * something moves raised. Pure.
 */
import type { BlockKeepMap } from '../codec/types'
import { isPrototypeName } from '../config/own-keys'
import { TABLE_ID_MAX, TABLE_ID_PATTERN } from '../contract/ids'

/** Largest grid side: the codec's limit (MAX_KEEP_GRID in shared/codec/block-keep.ts). */
export const MAX_KEEP_MAP_SIDE = 256
/** One digit per cell: levels 0..9. */
export const MAX_KEEP_LEVELS = 10

export interface KeepMap {
  /** Names the map in frame metadata and telemetry; the table-id rule (shared/contract/ids.ts). */
  id: string
  cols: number
  rows: number
  /** cols x rows digits, row-major: each cell's level, an index into `keep`. */
  levels: string
  /** Coefficients kept per level, 0..64. */
  keep: number[]
}

const FIELDS: readonly string[] = ['id', 'cols', 'rows', 'levels', 'keep']

export interface KeepMapProblem {
  /** The field at fault (`levels`, `keep[2]`, …), or '' for the map as a whole. */
  field: string
  /** What is wrong, as a predicate: `must be …, got …`. */
  message: string
}

const shown = (v: unknown): string => {
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`
  if (Array.isArray(v)) return 'an array'
  if (v !== null && typeof v === 'object') return 'an object'
  return String(v)
}

/** What is wrong with `v` as a keep map (the first problem found), or undefined when it is one. */
export function keepMapProblem(v: unknown): KeepMapProblem | undefined {
  const at = (field: string, message: string): KeepMapProblem => ({ field, message })
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    return at('', `must be an object { id, cols, rows, levels, keep }, got ${shown(v)}`)
  const m = v as Record<string, unknown>
  const extra = Object.keys(m).find((k) => !FIELDS.includes(k))
  if (extra !== undefined) return at(extra, `is not a field of a keep map (${FIELDS.join(', ')})`)
  for (const f of FIELDS) if (!Object.hasOwn(m, f)) return at(f, 'is missing')
  const { id, cols, rows, levels, keep } = m
  if (typeof id !== 'string' || !TABLE_ID_PATTERN.test(id))
    return at('id', `must be 1..${TABLE_ID_MAX} letters, digits, '.', '_' or '-', got ${shown(id)}`)
  if (isPrototypeName(id)) return at('id', `cannot be '${id}': it names a built-in JavaScript object member`)
  for (const [f, n] of [
    ['cols', cols],
    ['rows', rows],
  ] as const) {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_KEEP_MAP_SIDE)
      return at(f, `must be an integer 1..${MAX_KEEP_MAP_SIDE}, got ${shown(n)}`)
  }
  if (!Array.isArray(keep) || keep.length < 1 || keep.length > MAX_KEEP_LEVELS)
    return at('keep', `must be an array of 1..${MAX_KEEP_LEVELS} counts (one per level), got ${shown(keep)}`)
  for (let i = 0; i < keep.length; i++) {
    const k = keep[i]
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k > 64)
      return at(`keep[${i}]`, `must be an integer 0..64 (zig-zag coefficients kept; 0 = blank), got ${shown(k)}`)
  }
  const cells = (cols as number) * (rows as number)
  if (typeof levels !== 'string') return at('levels', `must be a string of ${cells} digits, got ${shown(levels)}`)
  if (levels.length !== cells)
    return at('levels', `must have ${cells} characters (${cols} x ${rows} cells, row-major), got ${levels.length}`)
  for (let i = 0; i < cells; i++) {
    const d = levels.charCodeAt(i) - 48
    if (d < 0 || d > 9 || d >= keep.length)
      return at(
        'levels',
        `character ${i} (cell ${i % (cols as number)},${Math.floor(i / (cols as number))}) is '${levels[i]}': each must be a digit 0..${keep.length - 1} (an index into keep)`,
      )
  }
  return undefined
}

export class KeepMapError extends RangeError {
  override name = 'KeepMapError'
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message)
  }
}

/** `v` as a clean KeepMap (only its fields, arrays copied); throws KeepMapError `'<name>.<field>' <problem>`. */
export function checkKeepMap(v: unknown, name = 'keepMap'): KeepMap {
  const p = keepMapProblem(v)
  if (p) throw new KeepMapError(p.field, `'${p.field ? `${name}.${p.field}` : name}' ${p.message}`)
  const m = v as KeepMap
  return { id: m.id, cols: m.cols, rows: m.rows, levels: m.levels, keep: m.keep.slice() }
}

/** Per map: each cell's keep count from its level (computed once) and the array handed to the codec (reused). */
interface Prepared {
  base: Uint8Array
  codec: { cols: number; rows: number; keep: Uint8Array }
}
const prepared = new WeakMap<KeepMap, Prepared>()

function prepare(map: KeepMap): Prepared {
  let p = prepared.get(map)
  if (!p) {
    const base = new Uint8Array(map.cols * map.rows)
    for (let i = 0; i < base.length; i++) base[i] = map.keep[map.levels.charCodeAt(i) - 48]
    p = { base, codec: { cols: map.cols, rows: map.rows, keep: new Uint8Array(base.length) } }
    prepared.set(map, p)
  }
  return p
}

/**
 * The codec form of a (validated) map for one frame: each cell keeps its level's count, raised to `motionKeep`
 * where `motion` (cols x rows, 1 = moving, from MotionField) says so; motion never lowers a cell, and 0 turns it
 * off. The returned map's array belongs to `map` and is rewritten by the next call: hand it to the encoder at once.
 */
export function toBlockKeep(map: KeepMap, motion: Uint8Array | null, motionKeep: number): BlockKeepMap {
  if (!Number.isInteger(motionKeep) || motionKeep < 0 || motionKeep > 64)
    throw new RangeError(`motionKeep must be an integer 0..64, got ${String(motionKeep)}`)
  const { base, codec } = prepare(map)
  if (motion && motion.length !== base.length)
    throw new RangeError(`motion has ${motion.length} cells, the keep map ${map.cols}x${map.rows} has ${base.length}`)
  const out = codec.keep
  for (let i = 0; i < base.length; i++) out[i] = motion?.[i] && motionKeep > base[i] ? motionKeep : base[i]
  return codec
}

/** Share (0..1) of a codec map's cells that keep all 64 coefficients: how much of the frame is sent in full. */
export function fullShare(map: BlockKeepMap): number {
  let full = 0
  for (let i = 0; i < map.keep.length; i++) if (map.keep[i] >= 64) full++
  return map.keep.length ? full / map.keep.length : 1
}
