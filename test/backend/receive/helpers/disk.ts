/** Reads back a dataset folder the way a training script would. */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import * as path from 'node:path'

/** seq → every file holding it (more than one would be a duplicate on disk). */
export function framesOnDisk(root: string, deviceId: string): Map<number, string[]> {
  const out = new Map<number, string[]>()
  const devDir = path.join(root, deviceId)
  if (!existsSync(devDir)) return out
  for (const day of readdirSync(devDir, { withFileTypes: true })) {
    if (!day.isDirectory()) continue
    for (const name of readdirSync(path.join(devDir, day.name))) {
      const m = /^(\d+)\.jpg$/.exec(name)
      if (!m) continue
      const seq = Number(m[1])
      out.set(seq, [...(out.get(seq) ?? []), path.join(devDir, day.name, name)])
    }
  }
  return out
}

export function indexSeqs(root: string, deviceId: string): number[] {
  const file = path.join(root, deviceId, 'index.jsonl')
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { seq: number }).seq)
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, k) => from + k)
}
