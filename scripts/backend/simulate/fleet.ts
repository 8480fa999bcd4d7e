/**
 * A fleet of simulated devices for load-testing a backend without cameras: each device is its own MQTT 5 client
 * publishing what a real agent publishes (retained `online` status with an `offline` last will, QoS 1 frames with
 * real seqs and metadata, telemetry), built with the same contract code and stamped the same way.
 *
 * Lightweight by construction: a small pool of synthetic frames is encoded once and reused round-robin, only the
 * metadata segment is stamped per frame; one timer drives every device, their send times spread evenly over the
 * frame period (no thundering herd); a device whose previous frame is not acknowledged yet skips its turn
 * (`skipped`) instead of queueing without bound, so the numbers say what the broker really took.
 */
import { connect, type IClientOptions, type MqttClient } from 'mqtt'
import { syntheticFrame } from '../../../agent/capture/synthetic'
import { describeConnectError } from '../../../agent/mqtt/broker-url'
import { applyCredentials, type Credentials } from '../../../agent/mqtt/credentials'
import { packageVersion } from '../../../agent/package-root'
import { stampMetadata } from '../../../agent/pipeline/stamp'
import { resolveTables } from '../../../agent/pipeline/tables'
import { encodeJpeg } from '../../../shared/codec/encoder'
import { quantDigest } from '../../../shared/codec/quant-digest'
import { codecKernels } from '../../../shared/codec/wasm/kernels'
import { defaults } from '../../../shared/config/validate'
import { frameUserProperties, type FrameMetadata } from '../../../shared/contract/frame-metadata'
import { deviceIdProblem } from '../../../shared/contract/ids'
import { buildStatus, statusMessage } from '../../../shared/contract/status'
import { buildTelemetry, type TelemetryMessage } from '../../../shared/contract/telemetry'
import { DEFAULT_PREFIX, topic } from '../../../shared/contract/topics'

export interface FleetOptions extends Credentials {
  url: string
  prefix?: string
  devices: number
  /** Frames per second per device. */
  fps: number
  width: number
  height: number
  /** Device ids are `<idPrefix><NNNN>` from 1 (default `sim-`). */
  idPrefix?: string
  /** Table id (pushed tables do not exist here: a shipped table file); default the agent's default table. */
  table?: string
  /** IJG quality tables instead of a table (`q<quality>`). */
  quality?: number
  /** Stop after this long (ms). */
  durationMs?: number
  /** Stop once every device has published this many frames. */
  framesPerDevice?: number
  /** Distinct encoded frames reused round-robin (default 8). */
  poolSize?: number
  /** Telemetry period per device (default 5000 ms). */
  telemetryIntervalMs?: number
  /** Longest wait for a device's CONNACK (default 5000 ms). */
  connectTimeoutMs?: number
  /** Longest wait for outstanding PUBACKs at stop (default 5000 ms). */
  drainTimeoutMs?: number
}

export interface FleetStats {
  devices: number
  /** Frames handed to the broker (PUBLISH sent). */
  published: number
  /** Frames the broker acknowledged (PUBACK). */
  acknowledged: number
  /** Turns a device passed because its previous frame was still unacknowledged (no seq used). */
  skipped: number
  /**
   * Turns passed because the simulator itself fell more than a frame period behind (CPU-bound): the asked rate is
   * beyond this machine, not the broker. Sending them late in a burst would misrepresent the load.
   */
  late: number
  /** Publishes that failed (connection lost before PUBACK). */
  errors: number
  /** Payload bytes of acknowledged frames. */
  bytes: number
  elapsedSec: number
  askedFps: number
  achievedFps: number
  bytesPerSec: number
}

export interface Fleet {
  readonly deviceIds: readonly string[]
  readonly tableId: string
  /** Mean encoded frame size of the pool (bytes). */
  readonly frameBytes: number
  stats(): FleetStats
  /** Resolves once the fleet stopped by itself (duration or frame count reached) or through stop(). */
  readonly done: Promise<FleetStats>
  /** Stops sending, waits for outstanding PUBACKs, publishes retained `offline`, disconnects. Idempotent. */
  stop(): Promise<FleetStats>
}

interface Device {
  id: string
  client: MqttClient
  /** Next seq to publish (the agent's buffer starts at 1). */
  seq: number
  busy: boolean
  published: number
  acknowledged: number
  skipped: number
  late: number
  errors: number
  bytes: number
  nextTelemetryAt: number
  lastError?: { at: string; message: string }
}

interface PoolFrame {
  jpeg: Uint8Array
  digest: string
}

/** Encodes the pool: distinct synthetic frames, with the tables a real agent would use. */
function encodePool(o: FleetOptions): { tableId: string; frames: PoolFrame[] } {
  const enc = { ...defaults().encoder }
  if (o.quality !== undefined) {
    enc.table = ''
    enc.quality = o.quality
  } else if (o.table !== undefined) enc.table = o.table
  const resolved = resolveTables(enc)
  const frames: PoolFrame[] = []
  for (let n = 0; n < (o.poolSize ?? 8); n++) {
    const image = syntheticFrame(o.width, o.height, n * 7) // frames apart, so each one differs visibly
    // the agent's encode options (agent/pipeline/fit.ts): a table's trained Huffman set unless optimizing per frame
    const opts: Parameters<typeof encodeJpeg>[1] = {
      tables: resolved.tables,
      subsampling: enc.subsampling,
      optimizeHuffman: enc.optimizeHuffman,
    }
    if (enc.progressive) opts.progressive = true
    if (resolved.huffman && !enc.optimizeHuffman && !enc.progressive) opts.huffman = resolved.huffman
    const jpeg = encodeJpeg(image, opts)
    frames.push({ jpeg, digest: quantDigest(jpeg) })
  }
  return { tableId: resolved.tableId, frames }
}

function connectDevice(o: FleetOptions, id: string, prefix: string, auth: IClientOptions): Promise<MqttClient> {
  const statusTopic = topic(prefix, id, 'status')
  const options: IClientOptions = {
    ...auth,
    clientId: `deepn-${id}`,
    protocolVersion: 5,
    clean: true,
    keepalive: 30,
    connectTimeout: o.connectTimeoutMs ?? 5000,
    reconnectPeriod: 0,
    will: {
      topic: statusTopic,
      payload: Buffer.from(buildStatus(statusMessage('offline', id))),
      retain: true,
      qos: 1,
    },
  }
  const client = connect(o.url, options)
  return new Promise((resolve, reject) => {
    const fail = (raw: Error) => {
      const err = /connack timeout/i.test(raw.message) ? noConnack() : raw // mqtt.js's words for our timeout
      clearTimeout(timer)
      client.on('error', () => {}) // a late socket error after giving up must not crash the process
      client.end(true)
      reject(err)
    }
    const noConnack = () => new Error(`no CONNACK within ${options.connectTimeout} ms (is it an MQTT broker?)`)
    const timer = setTimeout(() => fail(noConnack()), options.connectTimeout)
    const closed = () => fail(new Error('connection closed before CONNACK'))
    client.once('error', fail)
    client.once('close', closed)
    client.once('connect', () => {
      clearTimeout(timer)
      // only ours: mqtt.js reconnects from its own 'close' listener
      client.off('error', fail)
      client.off('close', closed)
      client.on('error', () => {}) // counted per publish; an unhandled 'error' would crash the whole fleet
      // Reconnect after a drop like an agent does; every connect announces `online` again.
      client.options.reconnectPeriod = 1000
      resolve(client)
    })
  })
}

function publishStatus(client: MqttClient, prefix: string, id: string, state: 'online' | 'offline'): Promise<void> {
  return new Promise((resolve, reject) => {
    client.publish(
      topic(prefix, id, 'status'),
      buildStatus(statusMessage(state, id, { version: packageVersion(), since: new Date() })),
      { qos: 1, retain: true },
      (err) => (err ? reject(err) : resolve()),
    )
  })
}

/** Connects every device (a few at a time), then starts publishing. Rejects, with every client closed, when any device cannot connect. */
export async function startFleet(o: FleetOptions): Promise<Fleet> {
  const prefix = o.prefix ?? DEFAULT_PREFIX
  const idPrefix = o.idPrefix ?? 'sim-'
  const ids = Array.from({ length: o.devices }, (_, i) => `${idPrefix}${String(i + 1).padStart(4, '0')}`)
  if (!Number.isSafeInteger(o.devices) || o.devices < 1) throw new RangeError(`devices must be >= 1, got ${o.devices}`)
  if (!(o.fps > 0) || !Number.isFinite(o.fps)) throw new RangeError(`fps must be a positive number, got ${o.fps}`)
  const bad = deviceIdProblem(ids[0]) ?? deviceIdProblem(ids[ids.length - 1]) // the shortest and the longest
  if (bad) throw new Error(`id prefix '${idPrefix}': ${bad}`)
  const pool = encodePool(o)
  const kernel = codecKernels() ? 'wasm-simd' : 'typescript'
  const telemetryMs = o.telemetryIntervalMs ?? 5000
  // one login for the whole fleet, TLS files read once
  const auth = applyCredentials({}, { username: o.username, password: o.password, tls: o.tls })

  const devices: Device[] = []
  const BATCH = 50 // connecting hundreds at once makes the broker (and the connect timeouts) the bottleneck
  try {
    for (let i = 0; i < ids.length; i += BATCH) {
      const clients = await Promise.allSettled(ids.slice(i, i + BATCH).map((id) => connectDevice(o, id, prefix, auth)))
      for (const [k, r] of clients.entries())
        if (r.status === 'fulfilled')
          devices.push({
            id: ids[i + k],
            client: r.value,
            seq: 1,
            busy: false,
            published: 0,
            acknowledged: 0,
            skipped: 0,
            late: 0,
            errors: 0,
            bytes: 0,
            nextTelemetryAt: 0,
          })
      const failed = clients.find((r) => r.status === 'rejected')
      if (failed) throw new Error(describeConnectError(o.url, failed.reason))
    }
  } catch (err) {
    for (const d of devices) d.client.end(true)
    throw err
  }
  // Not awaited (an agent does not wait either): its PUBACK comes before the first frame's on the same connection.
  for (const d of devices) {
    publishStatus(d.client, prefix, d.id, 'online').catch(() => {})
    d.client.on('connect', () => {
      publishStatus(d.client, prefix, d.id, 'online').catch(() => {})
      d.nextTelemetryAt = 0
    })
  }

  const startedAt = Date.now()
  const frameBytes = Math.round(pool.frames.reduce((n, f) => n + f.jpeg.length, 0) / pool.frames.length)

  const telemetry = (d: Device, now: number): void => {
    d.nextTelemetryAt = now + telemetryMs
    const mem = process.memoryUsage()
    const msg: TelemetryMessage = {
      deviceId: d.id,
      at: new Date(now).toISOString(),
      version: packageVersion(),
      uptimeSec: Math.round((now - startedAt) / 1000),
      backlog: { frames: d.busy ? 1 : 0, bytes: d.busy ? frameBytes : 0 },
      counters: {
        captured: d.published,
        published: d.acknowledged,
        dropped: 0,
        rejected: 0,
        expired: 0,
        setAside: 0,
        captureErrors: 0,
        publishErrors: d.errors,
        bufferRecoveries: 0,
        lostFrames: 0,
      },
      encodeMs: {},
      encoderKernel: kernel,
      meanBytesPerFrame: frameBytes,
      framesPerSec: +(d.published / Math.max(1, (now - startedAt) / 1000)).toFixed(2), // since start, not per minute
      memory: { rss: mem.rss, heapUsed: mem.heapUsed }, // the simulator's, shared by every device
      mqtt: { protocol: '5' },
      delivery: 'puback',
    }
    if (d.lastError) msg.lastError = d.lastError
    d.client.publish(topic(prefix, d.id, 'telemetry'), buildTelemetry(msg), {
      qos: 0,
      properties: { contentType: 'application/json' },
    })
  }

  const framesTopic = devices.map((d) => topic(prefix, d.id, 'frames'))
  const sendFrame = (i: number, now: number): void => {
    const d = devices[i]
    if (!d.client.connected || d.busy) {
      d.skipped++
      return
    }
    if (now >= d.nextTelemetryAt) telemetry(d, now)
    const seq = d.seq++
    const frame = pool.frames[(seq - 1 + i) % pool.frames.length]
    const meta: FrameMetadata & { quantDigest: string } = {
      seq,
      capturedAt: new Date(now).toISOString(),
      tableId: pool.tableId,
      deviceId: d.id,
      width: o.width,
      height: o.height,
      quantDigest: frame.digest,
    }
    const jpeg = stampMetadata(frame.jpeg, meta)
    const body = Buffer.from(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength)
    d.busy = true
    d.published++
    d.client.publish(
      framesTopic[i],
      body,
      { qos: 1, properties: { contentType: 'image/jpeg', userProperties: frameUserProperties(meta) } },
      (err) => {
        d.busy = false
        if (err) {
          d.errors++
          d.lastError = { at: new Date().toISOString(), message: err.message }
        } else {
          d.acknowledged++
          d.bytes += body.length
        }
        if (draining && !devices.some((x) => x.busy)) draining()
      },
    )
  }

  // The global send order is round-robin: send j (device j % n) is due at startedAt + j * step.
  const period = 1000 / o.fps
  const step = period / devices.length
  let next = 0
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  let draining: (() => void) | undefined
  let finish!: (s: FleetStats) => void
  const done = new Promise<FleetStats>((resolve) => {
    finish = resolve
  })
  let stopping: Promise<FleetStats> | undefined
  const drainMs = o.drainTimeoutMs ?? 5000

  const stats = (): FleetStats => {
    const elapsedSec = (Date.now() - startedAt) / 1000
    const sum = (k: 'published' | 'acknowledged' | 'skipped' | 'late' | 'errors' | 'bytes') =>
      devices.reduce((n, d) => n + d[k], 0)
    const acknowledged = sum('acknowledged')
    const bytes = sum('bytes')
    return {
      devices: devices.length,
      published: sum('published'),
      acknowledged,
      skipped: sum('skipped'),
      late: sum('late'),
      errors: sum('errors'),
      bytes,
      elapsedSec,
      askedFps: o.fps * devices.length,
      achievedFps: elapsedSec > 0 ? acknowledged / elapsedSec : 0,
      bytesPerSec: elapsedSec > 0 ? bytes / elapsedSec : 0,
    }
  }

  const reachedCount = (): boolean =>
    o.framesPerDevice !== undefined && devices.every((d) => d.published >= o.framesPerDevice!)

  const tick = (): void => {
    timer = undefined
    if (stopped) return
    const now = Date.now()
    if (o.durationMs !== undefined && now - startedAt >= o.durationMs) return void stop()
    for (let due = startedAt + next * step; due <= now; due = startedAt + ++next * step) {
      const i = next % devices.length
      if (o.framesPerDevice !== undefined && devices[i].published >= o.framesPerDevice) continue
      if (now - due > period) devices[i].late++
      else sendFrame(i, now)
    }
    if (reachedCount()) return void stop()
    timer = setTimeout(tick, Math.max(0, startedAt + next * step - Date.now()))
  }

  const stop = (): Promise<FleetStats> => {
    stopping ??= (async () => {
      stopped = true
      if (timer) clearTimeout(timer)
      // Frames in flight are part of the run: wait for their PUBACKs (bounded), then take the stats.
      if (devices.some((d) => d.busy))
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, drainMs)
          draining = () => {
            clearTimeout(t)
            resolve()
          }
        })
      const s = stats()
      // A clean stop says `offline` itself (the will is for a crash); a broker that stopped acknowledging gets
      // drainTimeoutMs, then the connection is dropped, so stop() always returns.
      await Promise.all(
        devices.map(async (d) => {
          d.client.options.reconnectPeriod = 0
          const bye = (async () => {
            if (d.client.connected) await publishStatus(d.client, prefix, d.id, 'offline').catch(() => {})
            await d.client.endAsync().catch(() => {})
          })()
          let timer: NodeJS.Timeout | undefined
          await Promise.race([bye, new Promise<void>((r) => (timer = setTimeout(r, drainMs)))])
          clearTimeout(timer)
          if (!d.client.disconnected) d.client.end(true)
        }),
      )
      finish(s)
      return s
    })()
    return stopping
  }

  tick()
  return { deviceIds: ids, tableId: pool.tableId, frameBytes, stats, done, stop }
}

/** The one-line summary of a run. */
export function formatFleetStats(s: FleetStats): string {
  const mb = (n: number) => (n / 1e6).toFixed(2)
  return (
    `${s.devices} devices, ${s.elapsedSec.toFixed(1)} s: ${s.published} frames published, ${s.acknowledged} acknowledged, ` +
    `${s.skipped} skipped (unacknowledged), ${s.late} late (simulator behind), ${s.errors} failed; ` +
    `${s.achievedFps.toFixed(1)} frames/s of ${s.askedFps} asked, ` +
    `${mb(s.bytesPerSec)} MB/s`
  )
}
