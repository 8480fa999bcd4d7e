/** `status` (agent → backend, retained, QoS 1; the MQTT last will says `offline`). Pure. */
import { Fields, decodeJsonObject, type Payload } from './payload'
import { isoTime } from './time'

export const STATUS_STATES = ['online', 'degraded', 'offline'] as const

export interface StatusMessage {
  /**
   * `online`: connected, every frame is kept. `degraded`: connected, but the buffer is dropping or refusing frames
   * (see `reason`); back to `online` once none has been lost for a few seconds. `offline`: stopped or gone (the
   * last will).
   */
  state: (typeof STATUS_STATES)[number]
  deviceId: string
  version?: string
  /** When this state began (ISO time). */
  since?: string
  /** `degraded` only: why frames are lost, e.g. `less than 157286 bytes free on the buffer's filesystem (buffer.minFreePercent): oldest unsent frames dropped (drop-oldest)`. */
  reason?: string
}

export function statusMessage(
  state: StatusMessage['state'],
  deviceId: string,
  opts: { version?: string; since?: Date; reason?: string } = {},
): StatusMessage {
  const msg: StatusMessage = { state, deviceId }
  if (opts.version !== undefined) msg.version = opts.version
  if (opts.since) msg.since = isoTime(opts.since.getTime())
  if (opts.reason) msg.reason = opts.reason
  return msg
}

export function buildStatus(m: StatusMessage): string {
  return JSON.stringify(m)
}

export function parseStatus(payload: Payload): StatusMessage {
  const f = new Fields(decodeJsonObject(payload, '{"state", "deviceId", …}'), 'status ')
  const msg: StatusMessage = {
    state: f.oneOf('state', STATUS_STATES),
    deviceId: f.string('deviceId', { nonEmpty: true }),
  }
  const version = f.optional('version', f.string)
  if (version !== undefined) msg.version = version
  const since = f.optional('since', f.time)
  if (since !== undefined) msg.since = since
  const reason = f.optional('reason', f.string)
  if (reason !== undefined) msg.reason = reason
  return msg
}
