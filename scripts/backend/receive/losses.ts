/**
 * What agents announced on `events/loss` (BufferLossMessage): seq ranges lost for good with a damaged buffer,
 * lost-or-never-used, and never used. The gap report subtracts them from the open gaps (nothing to wait for),
 * reports the missing ones as lost, and end-to-end acks may pass over them (the agent no longer holds them).
 * Pure bookkeeping; the receiver feeds it. The retained message comes again on every (re)subscribe.
 */
import type { BufferLossMessage, SeqSpan } from '../../../shared/contract/topics'
import { SeqRanges, type Gap } from './seq-ranges'

export interface DeclaredLoss extends Gap {
  /** `lost`: buffered frames gone for good; `unknown`: lost or never used; `skipped`: never used. */
  kind: 'lost' | 'unknown' | 'skipped'
  cause: BufferLossMessage['cause']
}

/** Validates an `events/loss` payload for `deviceId`; throws with the reason. */
export function parseLossMessage(deviceId: string, payload: Buffer): BufferLossMessage {
  let m: Partial<BufferLossMessage>
  try {
    m = JSON.parse(payload.toString('utf8')) as Partial<BufferLossMessage>
  } catch {
    throw new Error('loss event is not JSON')
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new Error('loss event is not a JSON object')
  if (m.deviceId !== deviceId) throw new Error(`loss event deviceId '${String(m.deviceId)}' differs from the topic's '${deviceId}'`)
  if (!['corrupt-database', 'database-lost', 'power-loss'].includes(String(m.cause))) throw new Error(`loss event has an unknown cause '${String(m.cause)}'`)
  const span = (name: string, v: unknown): void => {
    if (v === undefined) return
    const s = v as Partial<SeqSpan>
    if (typeof s !== 'object' || s === null || !Number.isSafeInteger(s.from) || !Number.isSafeInteger(s.to) || s.from! < 0 || s.to! < s.from!) {
      throw new Error(`loss event '${name}' must be {from, to} with integers 0 <= from <= to`)
    }
  }
  span('lost', m.lost)
  span('unknown', m.unknown)
  span('skipped', m.skipped)
  if (!Number.isSafeInteger(m.resumesAt) || m.resumesAt! < 1) throw new Error('loss event resumesAt must be a positive integer')
  return m as BufferLossMessage
}

export class LossBook {
  private readonly declared: DeclaredLoss[] = []
  /** Every declared seq, lost or skipped: nothing in here will ever come. */
  readonly settled = new SeqRanges()

  /** Records a message; false when it was already known (the retained copy seen again). */
  add(m: BufferLossMessage): boolean {
    let added = false
    for (const kind of ['lost', 'unknown', 'skipped'] as const) {
      const s = m[kind]
      if (!s) continue
      if (this.declared.some((d) => d.kind === kind && d.from === s.from && d.to === s.to)) continue
      this.declared.push({ kind, cause: m.cause, from: s.from, to: s.to })
      this.settled.addRange(s.from, s.to)
      added = true
    }
    return added
  }

  /** Open gaps: holes between stored seqs that no announcement explains (frames that may still come). */
  openGaps(stored: SeqRanges): Gap[] {
    return stored.gaps().flatMap((g) => this.settled.absentIn(g.from, g.to))
  }

  /** Seqs missing from `stored` that were declared lost (or lost-or-unused): never coming. */
  lostForGood(stored: SeqRanges): DeclaredLoss[] {
    return this.declared.filter((d) => d.kind !== 'skipped').flatMap((d) => stored.absentIn(d.from, d.to).map((g) => ({ ...d, ...g })))
  }

  /** Seqs the agent never used. */
  skipped(): number {
    return this.declared.filter((d) => d.kind === 'skipped').reduce((n, d) => n + d.to - d.from + 1, 0)
  }

  /** Contiguous-through over stored and declared seqs: what an end-to-end ack may claim. */
  contiguousThrough(stored: SeqRanges): number | undefined {
    if (!this.declared.length) return stored.contiguousThrough
    const u = stored.clone()
    for (const d of this.declared) u.addRange(d.from, d.to)
    // Only from the lowest stored seq: a declared range below it says nothing about older frames.
    const first = stored.first
    if (first === undefined) return undefined
    return u.absentIn(first, Number.MAX_SAFE_INTEGER)[0]!.from - 1
  }
}
