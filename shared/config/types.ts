/** The typed shape of a resolved configuration. Keys, defaults and limits live in schema.ts only. */
import type { HuffmanTables } from '../codec/types'

export interface PushedTable {
  luma: number[]
  chroma: number[]
  /** Trained Huffman set that travels with the table (validated like a table file's `huffman`). */
  huffman?: HuffmanTables
}

export interface AgentConfig {
  deviceId: string
  delivery: 'puback' | 'e2e-ack'
  ackTimeoutMs: number
  mqtt: {
    url: string
    protocol: 'auto' | '5' | '3.1.1'
    prefix: string
    clientId: string
    username: string
    password: string
    passwordFile: string
    ca: string
    cert: string
    key: string
    rejectUnauthorized: boolean
    keepaliveSec: number
    connectTimeoutMs: number
    reconnectMinMs: number
    reconnectMaxMs: number
    inflight: number
    maxPayloadBytes: number
    maxConfigBytes: number
  }
  capture: {
    source: 'synthetic' | 'files' | 'raspistill' | 'rpicam'
    width: number
    height: number
    intervalMs: number
    timeoutMs: number
    retryMinMs: number
    retryMaxMs: number
    filesDir: string
    filesLoop: boolean
    rpicamMode: 'still' | 'vid'
    rpicamFramerate: number
    rpicamStride: number
    warmupMs: number
    maxFrames: number
    memoryBudgetMB: number
  }
  encoder: {
    table: string
    tables: Record<string, PushedTable>
    tablesDir: string
    scale: number
    quality: number
    subsampling: '420' | '444'
    optimizeHuffman: boolean
  }
  buffer: {
    path: string
    maxBytes: number
    maxFrames: number
    policy: 'drop-oldest' | 'reject-new'
    ttlSec: number
    minFreePercent: number
    synchronous: 'NORMAL' | 'FULL'
  }
  telemetry: { intervalMs: number }
  log: { level: 'debug' | 'info' | 'warn' | 'error' }
}

/** A validated partial configuration: dotted key → value. */
export type FlatConfig = Record<string, unknown>
