/**
 * Staged table roll-out (`deepn push-table --devices PATTERN --canary K`): push a table to K canary devices first,
 * watch their frames, then push it to the rest in batches, or select each canary's previous table again when a
 * check fails. Steps:
 *   1. discovery: the devices whose retained `status` is `online` and whose id matches the pattern, each with its
 *      retained `config` report (its `encoder.table` is what a roll-back selects again);
 *   2. baseline: the canaries' frames before the push (bytes per frame as published, metadata included);
 *   3. canary push (pushTable: result ok and report showing the table), then watch until each canary has sent
 *      `watchFrames` frames naming the table (and at least `watchSeconds` passed). A canary fails when its push
 *      failed, its frames do not name the table in time, its status leaves `online`, or its bytes per frame grew
 *      more than `maxBytesRatio` times;
 *   4. any canary failed: every canary gets its previous table back, the rest never receive the table. Else the
 *      rest get it `batch` devices at a time (pushTable confirmation each); a batch with a failed push stops the
 *      roll-out there.
 * The pushed table stays stored in a rolled-back canary's `encoder.tables`; only the selection is undone.
 */
import mqtt, { type MqttClient } from 'mqtt'
import { describeConnectError } from '../../../agent/mqtt/broker-url'
import { parseConfigReport } from '../../../shared/contract/config-messages'
import { readFrameMetadata } from '../../../shared/contract/frame-metadata'
import { parseStatus, type StatusMessage } from '../../../shared/contract/status'
import { DEFAULT_PREFIX, parseTopic, topic } from '../../../shared/contract/topics'
import { devicePattern } from './device-pattern'
import { type PushableTable, pushTable } from './push-table'
import { selectTable } from './select-table'

export interface RolloutOptions {
  url: string
  connectOptions?: mqtt.IClientOptions
  prefix?: string
  /** Glob on device ids (device-pattern.ts). */
  pattern: string
  table: PushableTable
  /** Number of canaries, taken from the sorted matching ids (default 1); ignored when `canaryIds` is given. */
  canary?: number
  canaryIds?: string[]
  /** Devices pushed at once after the canaries (default 10). */
  batch?: number
  /** Frames naming the table each canary must send, and baseline frames taken before the push (default 5). */
  watchFrames?: number
  /** Shortest watch, seconds (default 0). */
  watchSeconds?: number
  /** Largest allowed after/before bytes per frame (default 1.5). */
  maxBytesRatio?: number
  /** How long retained `status` and `config` messages are collected (default 1500 ms). */
  discoveryMs?: number
  /** Each push's confirmation, the baseline, and the watch beyond `watchSeconds` (default 15000 ms). */
  timeoutMs?: number
  /** Progress lines. */
  log?: (line: string) => void
}

export type Outcome = 'rolled-out' | 'rolled-back' | 'rollback-failed' | 'failed' | 'not-pushed'

export interface DeviceOutcome {
  deviceId: string
  phase: 'canary' | 'rollout'
  outcome: Outcome
  /** `encoder.table` before the roll-out ('' = IJG quality tables). */
  previousTable: string
  /** Canaries: frames and mean bytes per frame before the push, and with the new table. */
  framesBefore?: number
  bytesBefore?: number
  framesAfter?: number
  bytesAfter?: number
  /** bytesAfter / bytesBefore. */
  bytesRatio?: number
  reason?: string
}

export interface RolloutReport {
  tableId: string
  pattern: string
  prefix: string
  startedAt: string
  finishedAt: string
  /** `rolled-out`: every device has the table; `rolled-back`: a canary failed; `failed`: a later push failed. */
  result: 'rolled-out' | 'rolled-back' | 'failed'
  settings: { canary: number; batch: number; watchFrames: number; watchSeconds: number; maxBytesRatio: number }
  devices: DeviceOutcome[]
}

/** A roll-out that could not start (nothing matched, a canary without a report or frames); nothing was pushed. */
export class RolloutError extends Error {
  override name = 'RolloutError'
}

interface Seen {
  status?: StatusMessage
  /** undefined until a `config` report arrived. */
  table?: string
  frames: { bytes: number; tableId: string; at: number }[]
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function until(pred: () => boolean, deadline: number): Promise<boolean> {
  while (!pred()) {
    if (Date.now() >= deadline) return false
    await sleep(50)
  }
  return true
}

export async function rolloutTable(opts: RolloutOptions): Promise<RolloutReport> {
  const prefix = opts.prefix ?? DEFAULT_PREFIX
  const matches = devicePattern(opts.pattern)
  const batch = opts.batch ?? 10
  const watchFrames = opts.watchFrames ?? 5
  const watchSeconds = opts.watchSeconds ?? 0
  const maxBytesRatio = opts.maxBytesRatio ?? 1.5
  const timeoutMs = opts.timeoutMs ?? 15000
  const log = opts.log ?? (() => {})
  for (const [name, v] of [
    ['canary', opts.canary ?? 1],
    ['batch', batch],
    ['watchFrames', watchFrames],
  ] as const)
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${name} must be an integer >= 1, got ${v}`)
  if (!(watchSeconds >= 0)) throw new RangeError(`watchSeconds must be >= 0, got ${watchSeconds}`)
  if (!(maxBytesRatio > 0)) throw new RangeError(`maxBytesRatio must be a positive number, got ${maxBytesRatio}`)
  if (opts.canaryIds?.length === 0) throw new RangeError('canaryIds is empty')
  const startedAt = new Date().toISOString()
  const newTable = opts.table.id
  // a frame re-encoded coarser to fit the payload limit names `<id>*<factor>`: still the new table
  const namesNew = (id: string) => id === newTable || id.startsWith(`${newTable}*`)

  let client: MqttClient
  try {
    client = await mqtt.connectAsync(opts.url, {
      reconnectPeriod: 1000,
      connectTimeout: timeoutMs,
      ...opts.connectOptions,
    })
  } catch (err) {
    throw new RolloutError(describeConnectError(opts.url, err))
  }
  const seen = new Map<string, Seen>()
  const of = (id: string): Seen => {
    let s = seen.get(id)
    if (!s) seen.set(id, (s = { frames: [] }))
    return s
  }
  client.on('message', (t, payload) => {
    const p = parseTopic(prefix, t)
    if (!p) return
    try {
      if (p.leaf === 'status') of(p.deviceId).status = parseStatus(payload)
      else if (p.leaf === 'config') {
        const enc = (parseConfigReport(payload).config as { encoder?: { table?: unknown } }).encoder
        of(p.deviceId).table = typeof enc?.table === 'string' ? enc.table : ''
      } else if (p.leaf === 'frames') {
        const m = readFrameMetadata(payload)
        of(p.deviceId).frames.push({ bytes: payload.length, tableId: m?.tableId ?? '', at: Date.now() })
      }
    } catch {
      // a malformed message says nothing about the table: ignore it
    }
  })

  try {
    // 1. discovery
    await client.subscribeAsync([topic(prefix, '+', 'status'), topic(prefix, '+', 'config')], { qos: 1 })
    await sleep(opts.discoveryMs ?? 1500)
    const devices = [...seen.entries()]
      .filter(([id, s]) => s.status?.state === 'online' && matches(id))
      .map(([id]) => id)
      .sort()
    if (devices.length === 0)
      throw new RolloutError(
        `no online device matches '${opts.pattern}' under ${prefix}/ (${seen.size} device(s) seen with a retained status or config)`,
      )
    let canaries: string[]
    if (opts.canaryIds) {
      const missing = opts.canaryIds.filter((id) => !devices.includes(id))
      if (missing.length)
        throw new RolloutError(`canary ${missing.join(', ')} is not an online device matching '${opts.pattern}'`)
      canaries = [...new Set(opts.canaryIds)]
    } else canaries = devices.slice(0, opts.canary ?? 1)
    const rest = devices.filter((id) => !canaries.includes(id))
    for (const id of canaries)
      if (of(id).table === undefined)
        throw new RolloutError(`canary ${id} has no retained config report: its table to roll back to is unknown`)
    log(`${devices.length} device(s) match '${opts.pattern}': canary ${canaries.join(', ')}; ${rest.length} after it`)

    // 2. baseline frames
    await client.subscribeAsync(
      canaries.map((id) => topic(prefix, id, 'frames')),
      { qos: 1 },
    )
    await until(() => canaries.every((id) => of(id).frames.length >= watchFrames), Date.now() + timeoutMs)
    const silent = canaries.filter((id) => of(id).frames.length === 0)
    if (silent.length)
      throw new RolloutError(
        `no frames from canary ${silent.join(', ')} within ${timeoutMs} ms: bytes per frame cannot be compared`,
      )

    // 3. canary push and watch
    const pushAt = Date.now()
    const outcomes = new Map<string, DeviceOutcome>()
    for (const id of devices)
      outcomes.set(id, {
        deviceId: id,
        phase: canaries.includes(id) ? 'canary' : 'rollout',
        outcome: 'not-pushed',
        previousTable: of(id).table ?? '',
      })
    const problems = new Map<string, string>()
    const notOnline = (id: string) => {
      const s = of(id).status
      return s && s.state !== 'online' ? `status ${s.state}${s.reason ? `: ${s.reason}` : ''}` : undefined
    }
    await Promise.all(
      canaries.map(async (id) => {
        try {
          await pushTable({ client, prefix, deviceId: id, table: opts.table, timeoutMs })
        } catch (err) {
          problems.set(id, (err as Error).message)
        }
      }),
    )
    const after = (id: string) => of(id).frames.filter((f) => f.at > pushAt && namesNew(f.tableId))
    const watched = canaries.filter((id) => !problems.has(id))
    log(`pushed to ${watched.length}/${canaries.length} canary device(s); watching their frames`)
    await until(
      () =>
        Date.now() - pushAt >= watchSeconds * 1000 &&
        watched.every((id) => after(id).length >= watchFrames || notOnline(id)),
      pushAt + watchSeconds * 1000 + timeoutMs,
    )
    for (const id of canaries) {
      const o = outcomes.get(id)!
      const before = of(id).frames.filter((f) => f.at <= pushAt)
      const withNew = after(id)
      o.framesBefore = before.length
      o.bytesBefore = Math.round(mean(before.map((f) => f.bytes)))
      o.framesAfter = withNew.length
      if (withNew.length) {
        o.bytesAfter = Math.round(mean(withNew.map((f) => f.bytes)))
        o.bytesRatio = Math.round((o.bytesAfter / o.bytesBefore) * 1000) / 1000
      }
      if (problems.has(id)) continue
      const status = notOnline(id)
      if (status) problems.set(id, status)
      else if (withNew.length < watchFrames)
        problems.set(
          id,
          `${withNew.length} of ${watchFrames} frames named table ${newTable} within ${Math.round((Date.now() - pushAt) / 1000)} s`,
        )
      else if (o.bytesRatio! > maxBytesRatio)
        problems.set(
          id,
          `bytes per frame grew ${o.bytesRatio}x (${o.bytesBefore} -> ${o.bytesAfter}), above the limit ${maxBytesRatio}x`,
        )
    }
    const settings = { canary: canaries.length, batch, watchFrames, watchSeconds, maxBytesRatio }
    const report = (result: RolloutReport['result']): RolloutReport => ({
      tableId: newTable,
      pattern: opts.pattern,
      prefix,
      startedAt,
      finishedAt: new Date().toISOString(),
      result,
      settings,
      devices: devices.map((id) => outcomes.get(id)!),
    })

    // 4a. roll back every canary
    if (problems.size) {
      const failed = [...problems.keys()].sort()
      log(`canary check failed on ${failed.join(', ')}: rolling back ${canaries.length} canary device(s)`)
      await Promise.all(
        canaries.map(async (id) => {
          const o = outcomes.get(id)!
          const why = problems.get(id) ?? `canary ${failed.join(', ')} failed`
          try {
            await selectTable(client, prefix, id, o.previousTable, timeoutMs)
            o.outcome = 'rolled-back'
            o.reason = why
          } catch (err) {
            o.outcome = 'rollback-failed'
            o.reason = `${why}; roll-back: ${(err as Error).message}`
          }
        }),
      )
      for (const id of rest) outcomes.get(id)!.reason = `canary ${failed.join(', ')} failed`
      return report('rolled-back')
    }

    // 4b. the rest, batch by batch
    for (const id of canaries) outcomes.get(id)!.outcome = 'rolled-out'
    for (let i = 0; i < rest.length; i += batch) {
      const group = rest.slice(i, i + batch)
      log(`pushing to ${group.join(', ')}`)
      await Promise.all(
        group.map(async (id) => {
          const o = outcomes.get(id)!
          try {
            await pushTable({ client, prefix, deviceId: id, table: opts.table, timeoutMs })
            o.outcome = 'rolled-out'
          } catch (err) {
            o.outcome = 'failed'
            o.reason = (err as Error).message
          }
        }),
      )
      const failed = group.filter((id) => outcomes.get(id)!.outcome === 'failed')
      if (failed.length) {
        for (const id of rest.slice(i + batch))
          outcomes.get(id)!.reason = `roll-out stopped: push to ${failed.join(', ')} failed`
        return report('failed')
      }
    }
    return report('rolled-out')
  } finally {
    await client.endAsync()
  }
}
