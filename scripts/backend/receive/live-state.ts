/**
 * The latest of each device as the dashboard shows it: retained `status`, last `telemetry`, the last stored frame
 * and since when its table is in use. One small record per device, replaced in place; pure bookkeeping.
 */
import type { FrameMetadata } from '../../../shared/contract/frame-metadata'
import type { StatusMessage } from '../../../shared/contract/status'
import type { TelemetryMessage } from '../../../shared/contract/telemetry'

export interface LastFrame {
  seq: number
  capturedAt: string
  tableId: string
  bytes: number
  width: number
  height: number
  /** Absolute path of the file holding the stored JPEG ... */
  file?: string
  /** ... and where the JPEG starts in it (shards layout); undefined: the whole file. */
  offset?: number
  receivedAt: string
}

export interface DeviceLive {
  status?: StatusMessage & { receivedAt: string }
  telemetry?: TelemetryMessage & { receivedAt: string }
  lastFrame?: LastFrame
  /** When the receiver first saw a frame with the current table (this run). */
  tableSince?: string
  /** The table before the current one, when it changed during this run. */
  previousTableId?: string
}

export class LiveBook {
  private readonly devices = new Map<string, DeviceLive>()

  get(deviceId: string): DeviceLive | undefined {
    return this.devices.get(deviceId)
  }

  frame(
    deviceId: string,
    meta: FrameMetadata,
    bytes: number,
    where: { file?: string; offset?: number },
    at: Date,
  ): void {
    const d = this.entry(deviceId)
    const receivedAt = at.toISOString()
    const before = d.lastFrame?.tableId
    if (before !== meta.tableId) {
      if (before !== undefined) d.previousTableId = before
      d.tableSince = receivedAt
    }
    d.lastFrame = {
      seq: meta.seq,
      capturedAt: meta.capturedAt,
      tableId: meta.tableId,
      bytes,
      width: meta.width,
      height: meta.height,
      file: where.file,
      offset: where.offset,
      receivedAt,
    }
  }

  status(deviceId: string, m: StatusMessage, at: Date): void {
    this.entry(deviceId).status = { ...m, receivedAt: at.toISOString() }
  }

  telemetry(deviceId: string, m: TelemetryMessage, at: Date): void {
    this.entry(deviceId).telemetry = { ...m, receivedAt: at.toISOString() }
  }

  private entry(deviceId: string): DeviceLive {
    let d = this.devices.get(deviceId)
    if (!d) this.devices.set(deviceId, (d = {}))
    return d
  }
}
