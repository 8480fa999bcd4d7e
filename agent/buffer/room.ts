/** Bounds arithmetic shared by the stores: pure, so both implementations enforce limits identically. */
import type { BufferLimits } from './store'

export interface Occupancy {
  frames: number
  bytes: number
}

/** A single frame larger than maxBytes can never be stored, whatever the policy. */
export function isOversize(frameBytes: number, limits: BufferLimits): boolean {
  return limits.maxBytes > 0 && frameBytes > limits.maxBytes
}

/** True while adding a frame of `frameBytes` to `occ` would break a bound. */
export function needsRoom(occ: Occupancy, frameBytes: number, limits: BufferLimits): boolean {
  return (
    (limits.maxFrames > 0 && occ.frames + 1 > limits.maxFrames) ||
    (limits.maxBytes > 0 && occ.bytes + frameBytes > limits.maxBytes)
  )
}

/** What one append ran into; `appendReason` turns it into the sentence reported on `status`. */
export interface AppendPressure {
  refused: boolean
  oversize: boolean
  /** The free-space floor in bytes when the filesystem was below it, else undefined. */
  lowSpaceFloor?: number
  /** Frames were dropped because SQLite met a full disk (SQLITE_FULL) despite the floor. */
  diskFull?: boolean
  /** Frames dropped to make room (not counting expired ones). */
  droppedForRoom: number
  expired: number
}

/** A stable sentence saying why frames were lost in this append, or undefined when none were. */
export function appendReason(p: AppendPressure, limits: BufferLimits): string | undefined {
  const bounds = [
    limits.maxFrames > 0 && `buffer.maxFrames ${limits.maxFrames}`,
    limits.maxBytes > 0 && `buffer.maxBytes ${limits.maxBytes}`,
  ]
    .filter(Boolean)
    .join(', ')
  const cause =
    p.lowSpaceFloor !== undefined
      ? `less than ${p.lowSpaceFloor} bytes free on the buffer's filesystem (buffer.minFreePercent)`
      : p.diskFull
        ? "the buffer's filesystem is full (SQLITE_FULL)"
        : `buffer full (${bounds})`
  if (p.refused) {
    if (p.oversize) return `frame larger than buffer.maxBytes (${limits.maxBytes} bytes): refused`
    return `${cause}: new frames refused (reject-new)`
  }
  if (p.droppedForRoom > 0) return `${cause}: oldest unsent frames dropped (drop-oldest)`
  if (p.expired > 0) return `frames older than buffer.ttlSec (${limits.ttlMs / 1000} s) expired unsent`
  return undefined
}

/** The capture-time cutoff: frames captured strictly before it are expired; undefined when there is no TTL. */
export function expiryCutoff(now: number, limits: BufferLimits): number | undefined {
  return limits.ttlMs > 0 ? now - limits.ttlMs : undefined
}
