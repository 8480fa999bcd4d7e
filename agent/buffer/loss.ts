/**
 * Frames lost to buffer damage found at start-up (a corrupt file moved aside, a database without its seq record,
 * a power cut under synchronous=NORMAL): what the backend must be told so it can stop waiting for them.
 *
 * Each loss is written into the fresh database's state table (key PENDING_LOSS_KEY) in the same transaction that
 * opens the session, so it survives a crash before the agent ever connects; the `events/loss` extension
 * publishes it (retained, QoS 1) and removes it only after the broker acknowledged it.
 */
import type { BufferLossMessage, SeqSpan } from '../../shared/contract/topics'
import { isoTime } from '../../shared/contract/time'

export const PENDING_LOSS_KEY = 'loss.pending'

/** A loss as recorded by the store (the published message adds the device id). */
export type BufferLoss = Omit<BufferLossMessage, 'deviceId'>

/** What openFrameStore learned from a damaged file before moving it aside. */
export interface DamageFindings {
  cause: BufferLoss['cause']
  detail: string
  /** Frames still readable in the damaged file: all of them unacknowledged, none re-imported. */
  lost?: SeqSpan & { frames: number }
  /** The damaged file's frames table could be read (then `lost` is exact; absent = it held no frames). */
  framesReadable: boolean
  /** Highest seq known to have been used (the damaged file's high-water mark), 0 if none readable. */
  usedThrough: number
  movedTo?: string[]
}

/**
 * The loss message for a fresh start at `resumesAt` after `f`. Readable frames are lost exactly (seqs below
 * them left the buffer acknowledged); unreadable ones make every seq up to the known high-water mark (or, with
 * none, up to the sidecar's ceiling) unknown; seqs after a known high-water mark were never used.
 */
export function describeLoss(f: DamageFindings, resumesAt: number, at = new Date()): BufferLoss {
  const loss: BufferLoss = { at: isoTime(at.getTime()), cause: f.cause, detail: f.detail, resumesAt }
  if (f.lost) loss.lost = f.lost
  const unknownTo = f.usedThrough > 0 ? f.usedThrough : resumesAt - 1
  if (!f.framesReadable && unknownTo >= 1) loss.unknown = { from: 1, to: unknownTo }
  if (f.usedThrough > 0 && f.usedThrough + 1 <= resumesAt - 1)
    loss.skipped = { from: f.usedThrough + 1, to: resumesAt - 1 }
  if (f.movedTo?.length) loss.movedTo = f.movedTo
  return loss
}

export function parsePending(text: string | undefined): BufferLoss[] {
  if (!text) return []
  try {
    const v = JSON.parse(text) as unknown
    return Array.isArray(v) ? (v as BufferLoss[]) : []
  } catch {
    return []
  }
}

/** Summary for logs and `lastError`. */
export function lossSummary(l: BufferLoss): string {
  const parts = [
    l.lost && `seqs ${l.lost.from}..${l.lost.to} lost (${l.lost.frames} frames)`,
    l.unknown && `seqs ${l.unknown.from}..${l.unknown.to} lost or never used (cannot tell)`,
    l.skipped && `seqs ${l.skipped.from}..${l.skipped.to} never used`,
  ].filter(Boolean)
  return `buffer ${l.cause}: ${l.detail}; ${parts.length ? parts.join(', ') : 'no frames lost'}; seqs resume at ${l.resumesAt}`
}
