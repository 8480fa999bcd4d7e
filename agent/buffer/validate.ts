/** Input checks shared by every FrameStore implementation, so bad input fails the same way everywhere. */
import type { BufferLimits, FullPolicy, NewFrame } from './store'

const POLICIES: readonly FullPolicy[] = ['drop-oldest', 'reject-new']

export const UNBOUNDED: BufferLimits = { maxBytes: 0, maxFrames: 0, policy: 'drop-oldest', ttlMs: 0 }

export function validateFrame(frame: NewFrame): void {
  if (frame === null || typeof frame !== 'object') throw new TypeError('frame buffer: frame must be an object')
  if (!(frame.jpeg instanceof Uint8Array)) throw new TypeError('frame buffer: frame.jpeg must be a Uint8Array')
  if (frame.jpeg.length === 0) throw new RangeError('frame buffer: frame.jpeg is empty')
  if (!Number.isFinite(frame.capturedAt))
    throw new TypeError(`frame buffer: frame.capturedAt must be a finite number of ms, got ${String(frame.capturedAt)}`)
  if (typeof frame.tableId !== 'string' || frame.tableId === '')
    throw new TypeError('frame buffer: frame.tableId must be a non-empty string')
  if (frame.quantDigest !== undefined && (typeof frame.quantDigest !== 'string' || frame.quantDigest === '')) {
    throw new TypeError('frame buffer: frame.quantDigest must be a non-empty string when given')
  }
  if (frame.keepMapId !== undefined && (typeof frame.keepMapId !== 'string' || frame.keepMapId === '')) {
    throw new TypeError('frame buffer: frame.keepMapId must be a non-empty string when given')
  }
  for (const key of ['width', 'height'] as const) {
    const v = frame[key]
    if (!Number.isInteger(v) || v <= 0)
      throw new RangeError(`frame buffer: frame.${key} must be a positive integer, got ${String(v)}`)
  }
}

export function validateLimits(limits: BufferLimits): BufferLimits {
  if (limits === null || typeof limits !== 'object') throw new TypeError('frame buffer: limits must be an object')
  for (const key of ['maxBytes', 'maxFrames', 'ttlMs'] as const) {
    const v = limits[key]
    if (!Number.isSafeInteger(v) || v < 0)
      throw new RangeError(`frame buffer: limits.${key} must be an integer >= 0 (0 = unbounded), got ${String(v)}`)
  }
  if (!POLICIES.includes(limits.policy)) {
    throw new RangeError(
      `frame buffer: limits.policy must be one of ${POLICIES.join(', ')}, got ${JSON.stringify(limits.policy)}`,
    )
  }
  return { maxBytes: limits.maxBytes, maxFrames: limits.maxFrames, policy: limits.policy, ttlMs: limits.ttlMs }
}

export function validateSeq(seq: number, what: string): void {
  if (!Number.isSafeInteger(seq))
    throw new TypeError(`frame buffer: ${what} must be an integer seq, got ${String(seq)}`)
}
