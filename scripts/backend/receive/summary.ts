/**
 * Receiver counters and the periodic one-line-per-device summary printed to stderr. Pure bookkeeping; the
 * receiver owns the timer.
 */
import type { Gap } from './seq-ranges'
import type { DeclaredLoss } from './losses'

export interface DeviceCounters {
  frames: number
  bytes: number
  duplicates: number
  /** Refused frames whose seq was already stored with another capture time (a reused seq, e.g. a wiped agent buffer). */
  conflicts: number
  /** Frames that arrived after a higher seq: a gap filling, not a loss. */
  filled: number
  results: number
}

export interface DeviceSnapshot extends DeviceCounters {
  deviceId: string
  /** Frames per second since the previous summary. */
  fps: number
  firstSeq?: number
  lastSeq?: number
  contiguousThrough?: number
  /** Open gaps: missing seqs nobody explained (they may still come). */
  gaps: Gap[]
  missing: number
  /** Missing seqs the agent announced on `events/loss` as lost (or lost-or-never-used): not waited for. */
  lost: DeclaredLoss[]
  /** Seqs the agent announced as never used. */
  skipped: number
}

export interface SummarySnapshot {
  devices: DeviceSnapshot[]
  badPayloads: number
  /** Count of refusals by reason (first words of the message). */
  badByReason: Record<string, number>
  writeErrors: number
  classifyErrors: number
}

export function emptyCounters(): DeviceCounters {
  return { frames: 0, bytes: 0, duplicates: 0, conflicts: 0, filled: 0, results: 0 }
}

export function formatSummary(s: SummarySnapshot): string {
  const lines = s.devices.map((d) => {
    const span = d.firstSeq === undefined ? 'no frames' : `seq ${d.firstSeq}..${d.lastSeq}`
    const gaps =
      d.gaps.length === 0
        ? 'no gaps'
        : `${d.gaps.length} gaps (${d.missing} missing: ${d.gaps.slice(0, 3).map(fmtGap).join(', ')}${d.gaps.length > 3 ? ', …' : ''})`
    const lostN = d.lost.reduce((n, g) => n + g.to - g.from + 1, 0)
    const lost = d.lost.length
      ? `, ${lostN} lost for good (${d.lost
          .slice(0, 3)
          .map((g) => `${fmtGap(g)} ${g.kind === 'unknown' ? 'lost or never used' : 'lost'}: ${g.cause}`)
          .join(', ')}${d.lost.length > 3 ? ', …' : ''})`
      : ''
    const skipped = d.skipped ? `, ${d.skipped} never used` : ''
    return `  ${d.deviceId}: ${d.frames} stored this run (${d.fps.toFixed(1)}/s, ${fmtBytes(d.bytes)}), ${span}, ${gaps}${lost}${skipped}, ${d.filled} filled, ${d.duplicates} duplicates${d.conflicts ? `, ${d.conflicts} REUSED SEQS (dropped)` : ''}${d.results ? `, ${d.results} results` : ''}`
  })
  const bad = Object.entries(s.badByReason)
    .map(([r, n]) => `${n}× ${r}`)
    .join('; ')
  const tail = `  bad payloads: ${s.badPayloads}${bad ? ` (${bad})` : ''}; write errors: ${s.writeErrors}${s.classifyErrors ? `; classify errors: ${s.classifyErrors}` : ''}`
  return [`[receive] ${s.devices.length} device(s)`, ...lines, tail].join('\n')
}

function fmtGap(g: Gap): string {
  return g.from === g.to ? `${g.from}` : `${g.from}-${g.to}`
}

function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`
  return `${(n / 1024 / 1024).toFixed(1)} MiB`
}
