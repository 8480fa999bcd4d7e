/**
 * Turns an MQTT frames payload into trusted frame metadata or a reason for refusing it. A refused payload is
 * counted and logged by the caller; nothing here throws past `validateFrame`'s documented Error.
 */
import * as jpeg from 'jpeg-js'
import { readJpegMetadata } from '../../../shared/codec/metadata'
import { quantDigest } from '../../../shared/codec/quant-digest'
import type { FrameMetadata } from '../../../shared/contract/topics'
import { checkJpegStructure } from './jpeg-structure'

/** Device ids become directory names: no separators, no dot-only names, bounded length. */
const DEVICE_ID = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/

export function checkDeviceId(deviceId: string): void {
  if (!DEVICE_ID.test(deviceId)) {
    throw new Error(`device id '${deviceId.slice(0, 80)}' is not usable as a folder name (letters, digits, . _ -; max 128)`)
  }
}

export interface ValidateOptions {
  /** Also decode the whole image with jpeg-js (costly at high resolution; the structure check is always done). */
  decode?: boolean
}

/**
 * Throws an Error naming what is wrong with the payload; returns its metadata when it is a usable frame, with
 * `quantDigest` always set (recomputed from the file, and checked against the sender's when it sent one).
 */
export function validateFrame(deviceId: string, payload: Uint8Array, opts: ValidateOptions = {}): FrameMetadata {
  checkDeviceId(deviceId)
  const shape = checkJpegStructure(payload)
  const raw = readJpegMetadata(payload)
  if (!raw) throw new Error('JPEG has no DEEPN metadata segment (APP9)')
  const meta = checkMetadata(raw)
  if (meta.deviceId !== deviceId) throw new Error(`metadata deviceId '${meta.deviceId}' does not match the topic's '${deviceId}'`)
  if (meta.width !== shape.width || meta.height !== shape.height) {
    throw new Error(`metadata says ${meta.width}x${meta.height} but the JPEG frame header says ${shape.width}x${shape.height}`)
  }
  const digest = quantDigest(payload) // the structure check above has walked the same segments
  if (raw.quantDigest !== undefined && raw.quantDigest !== digest) {
    throw new Error(`metadata quantDigest ${JSON.stringify(raw.quantDigest)} does not match the file's quantization tables (${digest})`)
  }
  meta.quantDigest = digest // also for frames of agents that do not send it
  if (opts.decode) {
    try {
      jpeg.decode(payload, { useTArray: true, maxMemoryUsageInMB: 1024 })
    } catch (err) {
      throw new Error(`JPEG does not decode: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
  return meta
}

function checkMetadata(m: Record<string, unknown>): FrameMetadata {
  const { seq, capturedAt, tableId, deviceId, width, height } = m
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) throw new Error(`metadata seq must be a non-negative integer, got ${JSON.stringify(seq)}`)
  if (typeof capturedAt !== 'string' || Number.isNaN(Date.parse(capturedAt))) throw new Error(`metadata capturedAt must be an ISO date-time string, got ${JSON.stringify(capturedAt)}`)
  if (typeof tableId !== 'string') throw new Error(`metadata tableId must be a string, got ${JSON.stringify(tableId)}`)
  if (typeof deviceId !== 'string') throw new Error(`metadata deviceId must be a string, got ${JSON.stringify(deviceId)}`)
  for (const [name, v] of [['width', width], ['height', height]] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new Error(`metadata ${name} must be a positive integer, got ${JSON.stringify(v)}`)
  }
  return { seq, capturedAt, tableId, deviceId, width: width as number, height: height as number }
}
