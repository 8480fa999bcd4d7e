/**
 * Turns the encoder settings into concrete quantization tables: a pushed table, a table file
 * `<tablesDir>/<id>.json`, or IJG quality tables; then applies `encoder.scale`. Table files are read once and
 * cached by id (they do not change under a running agent).
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseTableFile, qualityTables } from '../../shared/codec/tables'
import type { QuantTables } from '../../shared/codec/types'
import type { AgentConfig } from '../../shared/config'

export interface ResolvedTables {
  /** Id written into frame metadata: the table id, `q<quality>` for quality tables, `*<scale>` when scaled. */
  tableId: string
  tables: QuantTables
}

const fileCache = new Map<string, QuantTables>()

export function resolveTables(enc: AgentConfig['encoder']): ResolvedTables {
  let base: QuantTables
  let id: string
  if (!enc.table) {
    base = qualityTables(enc.quality)
    id = `q${enc.quality}`
  } else if (enc.tables[enc.table]) {
    base = enc.tables[enc.table]
    id = enc.table
  } else {
    const file = join(enc.tablesDir || shippedTablesDir(), `${enc.table}.json`)
    let cached = fileCache.get(file)
    if (!cached) {
      let text: string
      try {
        text = readFileSync(file, 'utf8')
      } catch {
        throw new Error(`'encoder.table': no table '${enc.table}' (not pushed in 'encoder.tables', no file ${file})`)
      }
      const parsed = parseTableFile(text, file)
      cached = { luma: parsed.luma, chroma: parsed.chroma }
      fileCache.set(file, cached)
    }
    base = cached
    id = enc.table
  }
  return scaled({ tableId: id, tables: base }, enc.scale)
}

/** Every entry times `factor`, rounded, clamped to 1..255 (baseline). */
export function scaled(r: ResolvedTables, factor: number): ResolvedTables {
  if (factor === 1) return r
  const f = (t: ArrayLike<number>): number[] => Array.from(t, (v) => Math.min(255, Math.max(1, Math.round(v * factor))))
  const baseId = r.tableId.replace(/\*[\d.]+$/, '')
  const prev = Number(/\*([\d.]+)$/.exec(r.tableId)?.[1] ?? 1)
  return { tableId: `${baseId}*${+(prev * factor).toFixed(3)}`, tables: { luma: f(r.tables.luma), chroma: f(r.tables.chroma) } }
}

/** config/tables of this package, from the sources (agent/pipeline) or the build (dist/agent/pipeline). */
function shippedTablesDir(): string {
  const fromSource = join(__dirname, '../../config/tables')
  return existsSync(fromSource) ? fromSource : join(__dirname, '../../../config/tables')
}
