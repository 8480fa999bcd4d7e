/**
 * The typed shape of a resolved configuration, derived from the schema (schema.ts), so a key, its section and its
 * enum values are written down once: adding a key to SCHEMA adds it here. Keys, defaults and limits live there only.
 */
import type { HuffmanTables } from '../codec/types'
import type { SchemaEntry } from './schema'
import type { KeepMap } from '../spatial/keep-map'

export interface PushedTable {
  luma: number[]
  chroma: number[]
  /** Trained Huffman set that travels with the table (validated like a table file's `huffman`). */
  huffman?: HuffmanTables
}

/** The value type of one schema entry: its enum values, or the type its `type` names. */
type ValueOf<S> = S extends { type: 'enum'; values: readonly (infer V)[] }
  ? V
  : S extends { type: 'string' }
    ? string
    : S extends { type: 'integer' | 'number' }
      ? number
      : S extends { type: 'boolean' }
        ? boolean
        : S extends { type: 'tables' }
          ? Record<string, PushedTable>
          : S extends { type: 'keepMap' }
            ? KeepMap | null
            : never

type Key = SchemaEntry['key']
type ValueAt<K extends Key> = ValueOf<Extract<SchemaEntry, { key: K }>>
/** Keys without a dot (`deviceId`) sit at the top; `mqtt.url` is `url` in section `mqtt`. */
type TopKey = Exclude<Key, `${string}.${string}`>
type SectionName<K = Key> = K extends `${infer S}.${string}` ? S : never
/** The sections (`mqtt`, `capture`, …): the keys of AgentConfig that hold a nested object. */
export type ConfigSection = SectionName
type Section<S extends string> = { [K in Key as K extends `${S}.${infer Leaf}` ? Leaf : never]: ValueAt<K> }

/** `{ deviceId: string, delivery: 'puback' | 'e2e-ack', …, mqtt: { url: string, … }, capture: { … }, … }` */
export type AgentConfig = { [K in TopKey | SectionName]: K extends TopKey ? ValueAt<K> : Section<K> }

/** A validated partial configuration: dotted key → value. */
export type FlatConfig = Record<string, unknown>
