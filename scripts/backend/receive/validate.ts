/**
 * Turns an MQTT frames payload into trusted frame metadata or a reason for refusing it. A refused payload is
 * counted and logged by the caller; nothing here throws past `validateFrame`'s documented Error.
 */
import * as jpeg from 'jpeg-js'
import { readJpegMetadata } from '../../../shared/codec/metadata'
import { quantDigest } from '../../../shared/codec/quant-digest'
import { parseFrameMetadata, type FrameMetadata } from '../../../shared/contract/frame-metadata'
import { deviceIdProblem } from '../../../shared/contract/ids'
import { checkJpegStructure } from './jpeg-structure'

/** Device ids become directory names: the protocol's device-id rule (shared/contract/ids.ts) keeps them safe ones. */
export function checkDeviceId(deviceId: string): void {
  const problem = deviceIdProblem(deviceId)
  if (problem) throw new Error(`${problem}; refused`)
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
  const meta = parseFrameMetadata(raw)
  if (meta.deviceId !== deviceId)
    throw new Error(`metadata deviceId '${meta.deviceId}' does not match the topic's '${deviceId}'`)
  if (meta.width !== shape.width || meta.height !== shape.height) {
    throw new Error(
      `metadata says ${meta.width}x${meta.height} but the JPEG frame header says ${shape.width}x${shape.height}`,
    )
  }
  const digest = quantDigest(payload) // the structure check above has walked the same segments
  if (raw.quantDigest !== undefined && raw.quantDigest !== digest) {
    throw new Error(
      `metadata quantDigest ${JSON.stringify(raw.quantDigest)} does not match the file's quantization tables (${digest})`,
    )
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
