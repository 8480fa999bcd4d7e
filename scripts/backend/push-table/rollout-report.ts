/** The per-device outcome table `deepn push-table --devices` prints after a staged roll-out. Pure. */
import type { RolloutReport } from './rollout'

const bytes = (n: number | undefined) => (n === undefined ? '-' : String(n))

export function formatRolloutReport(r: RolloutReport): string {
  const rows = r.devices.map((d) => [
    d.deviceId,
    d.phase,
    d.outcome,
    d.previousTable || '(quality)',
    d.phase === 'canary' ? `${bytes(d.bytesBefore)} -> ${bytes(d.bytesAfter)}` : '',
    d.bytesRatio === undefined ? '' : `${d.bytesRatio}x`,
    d.reason ?? '',
  ])
  const head = ['device', 'phase', 'outcome', 'previous table', 'bytes/frame', 'ratio', 'reason']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd()
  const counts = new Map<string, number>()
  for (const d of r.devices) counts.set(d.outcome, (counts.get(d.outcome) ?? 0) + 1)
  const summary = [...counts].map(([k, n]) => `${n} ${k}`).join(', ')
  return [`table ${r.tableId} to '${r.pattern}': ${r.result} (${summary})`, line(head), ...rows.map(line)].join('\n')
}
