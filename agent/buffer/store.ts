/**
 * The frame buffer's narrow persistence interface (after MQTT.js's Store): frames and their seqs, nothing else (the
 * agent's saved configuration lives in agent/saved-config/). Every implementation passes the one shared test suite
 * in test/buffer/. Frames are appended before publishing and removed only once delivery is acknowledged (broker
 * PUBACK, or the receiver's end-to-end ack).
 */
import type { BufferLoss } from './loss'

export type FullPolicy = 'drop-oldest' | 'reject-new'

export interface BufferLimits {
  /** Total JPEG bytes kept; 0 = unbounded. */
  maxBytes: number
  /** Frames kept; 0 = unbounded. */
  maxFrames: number
  policy: FullPolicy
  /** Frames older than this (by capture time) are expired; 0 = never. */
  ttlMs: number
}

export interface NewFrame {
  jpeg: Uint8Array
  /** Capture time, ms since the epoch. */
  capturedAt: number
  tableId: string
  /**
   * The JPEG's quantDigest, computed once where it was encoded (agent/pipeline/fit.ts) and kept as given. Absent for
   * frames stored by an agent before buffer schema 2: the publisher computes it from the JPEG then.
   */
  quantDigest?: string
  /** Id of the keep map (`encoder.keepMap`) the JPEG was encoded with; absent when none was (or before buffer schema 3). */
  keepMapId?: string
  width: number
  height: number
}

export interface StoredFrame extends NewFrame {
  /** Per-device sequence number: strictly increasing, never reused, survives restarts. */
  seq: number
}

export interface AppendResult {
  /** The frame's seq, or undefined when refused (`reject-new` while full). */
  seq?: number
  /** Seqs of older frames dropped to make room (`drop-oldest`) or expired. */
  dropped: number[]
  /**
   * Why frames were dropped or this one refused, when they were: one stable sentence per cause (no counts that
   * change per frame), for the retained `status` (degraded while frames are lost).
   */
  reason?: string
}

export interface BufferStats {
  frames: number
  bytes: number
  /** Counters since the store was created (persisted). */
  dropped: number
  rejected: number
  expired: number
}

export interface FrameStore {
  append(frame: NewFrame): AppendResult
  /** Up to `limit` frames, oldest first, with seq > `afterSeq` (default: from the oldest). */
  peek(limit: number, afterSeq?: number): StoredFrame[]
  /** Removes one delivered frame; unknown seqs are ignored. */
  remove(seq: number): void
  /** Removes every frame with seq <= `seq` (end-to-end acknowledgment). Returns how many were removed. */
  removeThrough(seq: number): number
  /** Expires frames past the TTL; returns their seqs. */
  expire(now: number): number[]
  setLimits(limits: BufferLimits): void
  stats(): BufferStats
  /**
   * Seqs lost to damage the store found (loss.ts), recorded with the session that found them and kept until the
   * agent announced them: the buffer's own account of seqs that will never be delivered, oldest first.
   */
  pendingLosses(): BufferLoss[]
  /** Forgets one announced record (equal by content); an unknown one is ignored. */
  settleLoss(loss: BufferLoss): void
  close(): void
}
