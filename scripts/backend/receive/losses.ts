/**
 * What agents announced on `events/loss` (BufferLossMessage): seq ranges lost for good with a damaged buffer,
 * lost-or-never-used, and never used. The gap report subtracts them from the open gaps (nothing to wait for),
 * reports the missing ones as lost, and end-to-end acks may pass over them (the agent no longer holds them).
 * Pure bookkeeping; the receiver feeds it. The retained message comes again on every (re)subscribe.
 */
import type { BufferLossMessage } from '../../../shared/contract/loss'
import { SeqRanges, type Gap } from './seq-ranges'

/** Validates an `events/loss` payload for `deviceId`; throws with the reason (the protocol's parser). */
export { parseLossMessage } from '../../../shared/contract/loss'

export interface DeclaredLoss extends Gap {
  /** `lost`: buffered frames gone for good; `unknown`: lost or never used; `skipped`: never used. */
  kind: 'lost' | 'unknown' | 'skipped'
  cause: BufferLossMessage['cause']
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
    return this.declared
      .filter((d) => d.kind !== 'skipped')
      .flatMap((d) => stored.absentIn(d.from, d.to).map((g) => ({ ...d, ...g })))
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
