/**
 * Real test frames: a jpeg-js-encoded image with the DEEPN APP9 metadata segment inserted after SOI, exactly
 * what an agent publishes on `<prefix>/<deviceId>/frames`.
 */
import * as jpeg from 'jpeg-js'
import { metadataSegment } from '../../../../shared/codec/metadata'
import type { FrameMetadata } from '../../../../shared/contract/topics'

export interface FrameSpec {
  deviceId: string
  seq: number
  width?: number
  height?: number
  /** Uniform gray level 0..255; default a gradient that varies with seq. */
  level?: number
  capturedAt?: string
  tableId?: string
  /** RGBA pixels (width*height*4) instead of the generated pattern. */
  rgba?: Uint8Array
  /** Metadata overrides, e.g. a wrong width, for refusal tests. */
  meta?: Record<string, unknown>
}

export function makeFrame(spec: FrameSpec): Buffer {
  const width = spec.width ?? 32
  const height = spec.height ?? 24
  const data = Buffer.alloc(width * height * 4)
  if (spec.rgba) data.set(spec.rgba)
  else
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = (y * width + x) * 4
        const v = spec.level ?? (x * 7 + y * 5 + spec.seq * 13) & 0xff
        data[i] = v
        data[i + 1] = spec.level ?? (v * 3) & 0xff
        data[i + 2] = spec.level ?? 255 - v
        data[i + 3] = 255
      }
    }
  const body = jpeg.encode({ width, height, data }, 85).data
  const meta: FrameMetadata & Record<string, unknown> = {
    seq: spec.seq,
    capturedAt: spec.capturedAt ?? new Date(Date.UTC(2026, 10, 25, 12, 0, 0) + spec.seq * 1000).toISOString(),
    tableId: spec.tableId ?? 'test-table',
    deviceId: spec.deviceId,
    width,
    height,
    ...spec.meta,
  }
  return withMetadata(body, meta)
}

/** Inserts the DEEPN segment right after SOI. */
export function withMetadata(jpegBytes: Uint8Array, meta: Record<string, unknown>): Buffer {
  return Buffer.concat([jpegBytes.subarray(0, 2), metadataSegment(meta), jpegBytes.subarray(2)])
}
