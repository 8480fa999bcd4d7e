/**
 * Which detector a sweep's CSV belongs to: a leading `detector` column on detect-sweep.ts's CSV, so a CSV read
 * back (`eval detect --csv`) redraws its report under the right name. Kept out of the sweep's own CSV code so its
 * columns can change without this. A CSV from before the column is COCO-SSD's, the only detector then.
 */
import { DETECTORS, type DetectorName } from './detector'

const COLUMN = 'detector'

export function tagCsv(csv: string, detector: DetectorName): string {
  const lines = csv.trimEnd().split('\n')
  return `${lines.map((l, i) => `${i === 0 ? COLUMN : detector},${l}`).join('\n')}\n`
}

/** The CSV's detector and the CSV without that column. */
export function untagCsv(text: string): { detector: DetectorName; csv: string } {
  const lines = text.trimEnd().split('\n')
  if (!lines[0]?.startsWith(`${COLUMN},`)) return { detector: 'coco-ssd', csv: text }
  const names = new Set(lines.slice(1).map((l) => l.slice(0, l.indexOf(','))))
  if (names.size !== 1) throw new Error(`CSV names ${names.size} detectors (${[...names].join(', ')}), expected one`)
  const [name] = names
  if (!(DETECTORS as readonly string[]).includes(name))
    throw new Error(`CSV names detector '${name}', not one of ${DETECTORS.join(', ')}`)
  return {
    detector: name as DetectorName,
    csv: `${lines.map((l) => l.slice(l.indexOf(',') + 1)).join('\n')}\n`,
  }
}
