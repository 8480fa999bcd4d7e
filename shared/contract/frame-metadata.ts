/**
 * Frame metadata: what every published frame carries in its JPEG APP9 "DEEPN" segment (shared/codec/metadata.ts)
 * and, over MQTT 5, as user properties. The agent builds it when it publishes; the receiver parses it and checks it
 * against the file. Pure.
 */
import { readJpegMetadata } from '../codec/metadata'
import { Fields } from './payload'
import { TABLE_ID_PATTERN } from './ids'

export interface FrameMetadata {
  seq: number
  capturedAt: string
  /** The table id in force; `<id>*<factor>` when the frame was re-encoded coarser to fit the payload limit. */
  tableId: string
  deviceId: string
  width: number
  height: number
  /**
   * `quantDigest()` of the file: each component's quantization steps and sampling. Equal digests, same lossy step;
   * tells apart frames whose table id is the same but whose steps differ (a table re-pushed under its id). Absent
   * from frames of agents before it existed.
   */
  quantDigest?: string
  /**
   * Id of the keep map (`encoder.keepMap`, issue 12) the frame was encoded with: its cells kept only part of their
   * coefficients (cells where something moved were raised). Absent when no map applied.
   */
  keepMap?: string
}

const QUANT_DIGEST = /^[0-9a-f]{16}$/

/** The APP9 segment's JSON object: the fields in their documented order, nothing else. */
export function frameMetadataRecord(m: FrameMetadata): Record<string, unknown> {
  const r: Record<string, unknown> = {
    seq: m.seq,
    capturedAt: m.capturedAt,
    tableId: m.tableId,
    deviceId: m.deviceId,
    width: m.width,
    height: m.height,
  }
  if (m.quantDigest !== undefined) r.quantDigest = m.quantDigest
  if (m.keepMap !== undefined) r.keepMap = m.keepMap
  return r
}

/** MQTT 5 user properties (strings) of a frame publish. */
export function frameUserProperties(m: FrameMetadata): Record<string, string> {
  const p: Record<string, string> = {
    seq: String(m.seq),
    capturedAt: m.capturedAt,
    tableId: m.tableId,
    deviceId: m.deviceId,
    width: String(m.width),
    height: String(m.height),
  }
  if (m.quantDigest !== undefined) p.quantDigest = m.quantDigest
  if (m.keepMap !== undefined) p.keepMap = m.keepMap
  return p
}

/** Checks a metadata object (from the APP9 segment); throws ContractError `metadata <field> must be …`. Unknown fields are ignored. */
export function parseFrameMetadata(raw: Record<string, unknown>): FrameMetadata {
  const f = new Fields(raw, 'metadata ', '', false)
  const m: FrameMetadata = {
    seq: f.integer('seq'),
    capturedAt: f.time('capturedAt'),
    tableId: f.string('tableId'),
    deviceId: f.string('deviceId'),
    width: f.integer('width', 1),
    height: f.integer('height', 1),
  }
  if (f.has('quantDigest')) {
    const d = f.get('quantDigest')
    if (typeof d !== 'string' || !QUANT_DIGEST.test(d)) f.fail('quantDigest', '16 lowercase hex digits')
    m.quantDigest = d as string
  }
  if (f.has('keepMap')) {
    const k = f.get('keepMap')
    if (typeof k !== 'string' || !TABLE_ID_PATTERN.test(k))
      f.fail('keepMap', "a keep map id (1..64 letters, digits, '.', '_' or '-')")
    m.keepMap = k as string
  }
  return m
}

/** Reads MQTT 5 user properties back into metadata (numbers from their decimal strings). */
export function parseFrameUserProperties(props: Record<string, string | string[] | undefined>): FrameMetadata {
  const one = (k: string): string | undefined => {
    const v = props[k]
    return Array.isArray(v) ? v[0] : v
  }
  const raw: Record<string, unknown> = {}
  for (const k of ['capturedAt', 'tableId', 'deviceId', 'quantDigest', 'keepMap'])
    if (one(k) !== undefined) raw[k] = one(k)
  for (const k of ['seq', 'width', 'height']) {
    const v = one(k)
    if (v !== undefined) raw[k] = /^\d+$/.test(v) ? Number(v) : v
  }
  return parseFrameMetadata(raw)
}

/** The frame's metadata, or undefined when the JPEG has no DEEPN segment; throws on a broken file or bad fields. */
export function readFrameMetadata(jpeg: Uint8Array): FrameMetadata | undefined {
  const raw = readJpegMetadata(jpeg)
  return raw && parseFrameMetadata(raw)
}
