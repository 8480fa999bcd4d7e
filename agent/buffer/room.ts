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
  return (limits.maxFrames > 0 && occ.frames + 1 > limits.maxFrames) ||
    (limits.maxBytes > 0 && occ.bytes + frameBytes > limits.maxBytes)
}

/** The capture-time cutoff: frames captured strictly before it are expired; undefined when there is no TTL. */
export function expiryCutoff(now: number, limits: BufferLimits): number | undefined {
  return limits.ttlMs > 0 ? now - limits.ttlMs : undefined
}
