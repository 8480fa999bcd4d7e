/**
 * Turns the encoder settings into concrete quantization tables: a pushed table, a table file
 * `<tablesDir>/<id>.json`, or IJG quality tables; then applies `encoder.scale`. A pushed table or table file may
 * carry a trained Huffman set (`huffman`), which travels with its tables. Table files are read once and cached by
 * id (they do not change under a running agent).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseTableFile, qualityTables } from '../../shared/codec/tables'
import type { HuffmanTables, QuantTables } from '../../shared/codec/types'
import { ConfigError, isPrototypeName, ownValue, type AgentConfig } from '../../shared/config'
import { packagePath } from '../package-root'

export interface ResolvedTables {
  /** Id written into frame metadata: the table id, `q<quality>` for quality tables, `*<scale>` when scaled. */
  tableId: string
  tables: QuantTables
  /**
   * The table's trained Huffman set, if it has one. Kept through scaling: a trained set is complete (every
   * baseline symbol has a code), so coarser tables still encode with it, only a little less tightly.
   */
  huffman?: HuffmanTables
}

const fileCache = new Map<string, { tables: QuantTables; huffman?: HuffmanTables }>()

/**
 * The tables `enc` selects. Throws a ConfigError naming 'encoder.table' when the id is neither a pushed table nor a
 * table file: the agent calls this before it accepts a configuration, so a bad id is refused, never stored.
 */
export function resolveTables(enc: AgentConfig['encoder']): ResolvedTables {
  let base: ResolvedTables
  // Own properties only: `constructor` or `toString` must not find the members every plain object inherits.
  const pushed = enc.table ? ownValue(enc.tables, enc.table) : undefined
  if (!enc.table) {
    base = { tableId: `q${enc.quality}`, tables: qualityTables(enc.quality) }
  } else if (pushed) {
    base = { tableId: enc.table, tables: { luma: pushed.luma, chroma: pushed.chroma } }
    if (pushed.huffman) base.huffman = pushed.huffman
  } else {
    const dir = enc.tablesDir || shippedTablesDir()
    const file = join(dir, `${enc.table}.json`)
    let cached = fileCache.get(file)
    if (!cached) {
      let text: string
      try {
        if (isPrototypeName(enc.table)) throw new Error('not a table id') // the schema refuses these; never read <name>.json for one
        text = readFileSync(file, 'utf8')
      } catch {
        throw new ConfigError(
          `'encoder.table': no table '${enc.table}' (not pushed in 'encoder.tables', no file ${file}); available: ${availableTables(enc, dir)}`,
        )
      }
      const parsed = parseTableFile(text, file) // a broken huffman set is refused here, naming the file
      cached = { tables: { luma: parsed.luma, chroma: parsed.chroma } }
      if (parsed.huffman) cached.huffman = parsed.huffman
      fileCache.set(file, cached)
    }
    base = { tableId: enc.table, tables: cached.tables }
    if (cached.huffman) base.huffman = cached.huffman
  }
  return scaled(base, enc.scale)
}

/** Every entry times `factor`, rounded, clamped to 1..255 (baseline). The Huffman set, if any, is kept. */
export function scaled(r: ResolvedTables, factor: number): ResolvedTables {
  if (factor === 1) return r
  const f = (t: ArrayLike<number>): number[] => Array.from(t, (v) => Math.min(255, Math.max(1, Math.round(v * factor))))
  const baseId = r.tableId.replace(/\*[\d.]+$/, '')
  const prev = Number(/\*([\d.]+)$/.exec(r.tableId)?.[1] ?? 1)
  const out: ResolvedTables = {
    tableId: `${baseId}*${+(prev * factor).toFixed(3)}`,
    tables: { luma: f(r.tables.luma), chroma: f(r.tables.chroma) },
  }
  if (r.huffman) out.huffman = r.huffman
  return out
}

/** The ids `encoder.table` may name under `enc`, for error messages: pushed tables, then table files. */
function availableTables(enc: AgentConfig['encoder'], dir: string): string {
  let files: string[] = []
  try {
    files = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -5))
      .sort()
  } catch {
    /* a missing folder lists nothing */
  }
  const ids = [...Object.keys(enc.tables).sort(), ...files]
  return ids.length ? ids.map((id) => `'${id}'`).join(', ') : 'none'
}

/** config/tables of this package. */
function shippedTablesDir(): string {
  return packagePath('config', 'tables')
}
