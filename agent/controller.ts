/**
 * The agent: owns the configuration layers, the MQTT link, the capture loop and the extensions, and starts and
 * stops them in order. Configuration = schema defaults ← local file/env ← remote layer (kept by a SavedConfigStore,
 * agent/saved-config/, so remote changes survive restarts).
 */
import { EventEmitter } from 'node:events'
import type { FrameStore } from './buffer/store'
import { lossSummary, type BufferLoss } from './buffer/loss'
import type { SavedConfig, SavedConfigStore } from './saved-config/store'
import { MqttLink } from './mqtt/link'
import { errorMessage, type Logger } from './log'
import { CaptureLoop, type SourceFactory } from './pipeline/capture-loop'
import { PAYLOAD_MARGIN, type EncodeFn } from './pipeline/fit'
import { AgentStats } from './pipeline/stats'
import { resolveTables } from './pipeline/tables'
import { checkFrameMemory, describeFrameMemory } from './pipeline/frame-memory'
import { resolveDynamic } from './config-file'
import {
  applyPartial,
  changedKeys,
  defaults,
  mergePartials,
  unflatten,
  validatePartialLenient,
  type AgentConfig,
  type DroppedKey,
  type FlatConfig,
} from '../shared/config'
import { topic, type LeafName } from '../shared/contract/topics'
import { encoderKernel } from '../shared/codec/wasm/kernels'
import type { AgentContext, Extension } from './extensions/extension'
import { FramesPublisher } from './extensions/frames'
import { StatusExtension, statusMessage } from './extensions/status'
import { TelemetryExtension } from './extensions/telemetry'
import { HomeAssistantExtension } from './extensions/homeassistant'
import { RemoteConfigExtension, type ConfigApplier } from './extensions/remote-config'
import { AckExtension } from './extensions/ack'
import { LossExtension } from './extensions/loss'
import { CalibrationSession } from './calibration/session'
import { RemoteCalibration } from './calibration/remote'

export interface ControllerOptions {
  /** Validated local layer (file + environment), see agent/config-file.ts. */
  local: FlatConfig
  store: FrameStore
  /** Where the accepted remote layer is kept (agent/saved-config/open.ts). */
  saved: SavedConfigStore
  createSource: SourceFactory
  encode: EncodeFn
  log: Logger
}

export class Controller implements ConfigApplier {
  readonly stats = new AgentStats()
  readonly events = new EventEmitter()
  readonly link: MqttLink
  readonly capture: CaptureLoop
  readonly frames: FramesPublisher
  readonly remoteConfig: RemoteConfigExtension
  private readonly extensions: Extension[]
  private cfg: AgentConfig
  private remote: FlatConfig
  private ver: number
  private brokerMax?: number
  private expiryTimer?: NodeJS.Timeout
  private stopping?: Promise<void>
  private readonly log: Logger

  constructor(private readonly o: ControllerOptions) {
    this.log = o.log
    const { store } = o
    // The remote layer persisted by an earlier run, less what this version or this device cannot run (not fatal).
    let saved: SavedConfig | undefined
    try {
      saved = o.saved.load()
    } catch (err) {
      this.reportRestore(`ignoring the saved remote configuration: ${errorMessage(err)}`)
    }
    this.ver = saved?.version ?? 0
    const restored = this.restoreRemote(saved?.remote)
    this.remote = restored.remote
    const cfg = restored.config
    this.cfg = cfg
    this.log.setLevel(cfg.log.level)
    store.setLimits(limitsOf(cfg))

    const c = cfg
    this.link = new MqttLink({
      url: c.mqtt.url,
      protocol: c.mqtt.protocol,
      clientId: c.mqtt.clientId || `deepn-${c.deviceId}`,
      username: c.mqtt.username || undefined,
      password: c.mqtt.password || undefined,
      tls:
        c.mqtt.ca || c.mqtt.cert || c.mqtt.key
          ? { ca: c.mqtt.ca, cert: c.mqtt.cert, key: c.mqtt.key, rejectUnauthorized: c.mqtt.rejectUnauthorized }
          : undefined,
      keepaliveSec: c.mqtt.keepaliveSec,
      connectTimeoutMs: c.mqtt.connectTimeoutMs,
      reconnect: { minMs: c.mqtt.reconnectMinMs, maxMs: c.mqtt.reconnectMaxMs },
      will: {
        topic: this.topic('status'),
        payload: JSON.stringify(statusMessage('offline', c.deviceId)),
        retain: true,
        qos: 1,
      },
      log: o.log.child('mqtt'),
    })
    this.link.on('up', (info: { maxPacketSize?: number }) => {
      this.brokerMax = info.maxPacketSize
    })

    const current = (): AgentConfig => this.cfg
    const ctx: AgentContext = {
      get config() {
        return current()
      },
      store,
      link: this.link,
      stats: this.stats,
      log: o.log,
      topic: (leaf) => this.topic(leaf),
      events: this.events,
      jpegLimit: () => this.jpegLimit(),
    }
    const calibration = new CalibrationSession()
    this.capture = new CaptureLoop({
      config: cfg,
      store,
      createSource: o.createSource,
      encode: o.encode,
      stats: this.stats,
      log: o.log.child('capture'),
      payloadLimit: () => this.jpegLimit(),
      observe: (image) => calibration.observe(image),
    })
    this.capture.on('frame', (seq: number) => this.events.emit('frame', seq))
    this.capture.on('buffer', (reason: string | undefined) => this.events.emit('buffer', reason))
    this.frames = new FramesPublisher(ctxWith(ctx, o.log.child('frames')), o.encode)
    this.remoteConfig = new RemoteConfigExtension(ctxWith(ctx, o.log.child('config')), this)
    // Damage found when the buffer was opened, now or by a start that died before announcing it: the records
    // wait in the store until `events/loss` was acknowledged; until then each start counts them in telemetry.
    for (const loss of store.pendingLosses()) this.countLoss(loss)
    this.extensions = [
      new StatusExtension(ctx),
      new LossExtension(ctxWith(ctx, o.log.child('loss'))),
      this.remoteConfig,
      new AckExtension(ctx, this.frames),
      new TelemetryExtension(ctx),
      new HomeAssistantExtension(ctxWith(ctx, o.log.child('homeassistant'))),
      new RemoteCalibration({
        link: this.link,
        config: current,
        session: calibration,
        log: o.log.child('calibration'),
        topics: { request: this.topic('calibrate'), result: this.topic('calibration') },
      }),
      this.frames,
    ]
  }

  get config(): AgentConfig {
    return this.cfg
  }
  get version(): number {
    return this.ver
  }

  topic(leaf: LeafName): string {
    return topic(this.cfg.mqtt.prefix, this.cfg.deviceId, leaf)
  }

  /**
   * Largest encoded JPEG publishable now: under the configured payload cap and the broker's CONNACK packet limit,
   * less PAYLOAD_MARGIN for the metadata stamp and the packet header. Capture encodes to it; the publisher refits a
   * stored frame that is over it.
   */
  jpegLimit(): number {
    const limit = Math.min(this.cfg.mqtt.maxPayloadBytes || Infinity, this.brokerMax || Infinity)
    return limit === Infinity ? Infinity : Math.max(0, limit - PAYLOAD_MARGIN)
  }

  async start(): Promise<void> {
    for (const e of this.extensions) await e.start()
    this.link.start()
    this.capture.start()
    // The buffer expires on append; this covers a stopped or failing camera, when nothing is appended.
    this.expiryTimer = setInterval(() => {
      if (!this.cfg.buffer.ttlSec) return
      try {
        const gone = this.o.store.expire(Date.now())
        if (gone.length) this.log.info(`expired ${gone.length} frame(s) older than ${this.cfg.buffer.ttlSec} s`)
      } catch (err) {
        this.stats.error(`buffer: ${errorMessage(err)}`)
      }
    }, 30000)
    const c = this.cfg
    this.log.info(
      `agent ${c.deviceId} running: ${c.capture.source} ${c.capture.width}x${c.capture.height} every ${c.capture.intervalMs} ms → ${this.topic('frames')} (${c.delivery}); ${describeFrameMemory(c)}`,
    )
    if (encoderKernel() === 'typescript')
      this.log.warn(
        'encoder: this runtime has no WebAssembly SIMD; encoding on the TypeScript path (same bytes, about 6-9x slower)',
      )
  }

  /**
   * The buffer database was replaced after going corrupt (RecoveringFrameStore): count and report it. (The saved
   * configuration is not in that file: nothing to write again.)
   */
  bufferRecovered(reason: string, loss?: BufferLoss): void {
    if (loss) this.countLoss(loss)
    else {
      this.stats.bufferRecoveries++
      this.stats.error(`buffer database replaced: ${reason}`)
    }
    this.events.emit('loss') // the fresh store holds the loss record: publish it
  }

  applyRemote(partial: FlatConfig): string[] {
    const remote = mergePartials(this.remote, partial)
    const next = this.compose(this.o.local, remote)
    const changed = changedKeys(this.cfg, next)
    // A request that changes nothing (e.g. a retained config/set seen again after a reconnect) is a no-op.
    if (!changed.length) return []
    // Everything that can fail runs before anything changes: first, can this device run it at all.
    this.checkRunnable(next, this.cfg)
    this.capture.reconfigure(next, changed)
    if (changed.some((k) => k.startsWith('buffer.'))) this.o.store.setLimits(limitsOf(next))
    this.o.saved.save({ remote: unflatten(remote), version: this.ver + 1 })
    this.ver++
    this.remote = remote
    this.cfg = next
    if (changed.includes('log.level')) this.log.setLevel(next.log.level)
    if (changed.some((k) => k.startsWith('mqtt.reconnect')))
      this.link.setReconnect(next.mqtt.reconnectMinMs, next.mqtt.reconnectMaxMs)
    for (const e of this.extensions) {
      try {
        e.onConfig?.(next, changed)
      } catch (err) {
        this.log.error(`${e.name}: applying config: ${errorMessage(err)}`)
      }
    }
    this.events.emit('config', next, changed)
    return changed
  }

  /** SIGTERM path: stop capturing (the frame in progress is stored), let in-flight publishes finish, say offline, close the DB. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearInterval(this.expiryTimer)
      await this.capture.stop()
      await this.frames.stop()
      for (const e of [...this.extensions].reverse()) {
        if (e !== this.frames) await e.stop()
      }
      await this.link.close({
        topic: this.topic('status'),
        payload: JSON.stringify(statusMessage('offline', this.cfg.deviceId)),
        retain: true,
      })
      this.o.store.close()
      this.log.info('stopped')
    })()
    return this.stopping
  }

  /** A damaged buffer replaced: telemetry counts it; the loss itself goes out on `events/loss` (LossExtension). */
  private countLoss(loss: BufferLoss): void {
    this.stats.bufferRecoveries++
    this.stats.lostFrames += loss.lost?.frames ?? 0
    const line = lossSummary(loss)
    this.stats.error(line)
    this.log.error(line)
  }

  private compose(local: FlatConfig, remote: FlatConfig): AgentConfig {
    return resolveDynamic(applyPartial(applyPartial(defaults(), local), remote))
  }

  /**
   * Throws a ConfigError naming the key when this device cannot run `c`: the selected table must exist among the
   * merged tables (pushed in `encoder.tables`, local or remote, or a file in the tables folder), and its frame
   * memory must stay within `capture.memoryBudgetMB` unless it is no more than `current`'s.
   */
  private checkRunnable(c: AgentConfig, current: AgentConfig): void {
    resolveTables(c.encoder)
    checkFrameMemory(c, current)
  }

  /**
   * The saved remote layer, as much of it as this version and this device accept. A key the schema now refuses
   * (e.g. a table id `constructor` an older agent stored) is left out alone; so is a key that validates but cannot
   * run here (a table file removed since). Everything left out is logged and shown as `lastError` in telemetry,
   * and the saved record is kept as it is (the next accepted config/set replaces it).
   */
  private restoreRemote(saved: Record<string, unknown> | undefined): { remote: FlatConfig; config: AgentConfig } {
    const none = { remote: {}, config: this.compose(this.o.local, {}) }
    try {
      checkFrameMemory(none.config)
    } catch (err) {
      // the owner's own choice: run it, but say so
      this.log.warn(`local configuration: ${errorMessage(err)}`)
    }
    if (!saved) return none
    let partial: FlatConfig
    const dropped: DroppedKey[] = []
    try {
      const lenient = validatePartialLenient(saved, { remote: true })
      partial = lenient.partial
      dropped.push(...lenient.dropped)
    } catch (err) {
      this.reportRestore(`ignoring the saved remote configuration: ${errorMessage(err)}`)
      return none
    }
    const runnable = (p: FlatConfig): AgentConfig | Error => {
      try {
        const c = this.compose(this.o.local, p)
        this.checkRunnable(c, none.config)
        return c
      } catch (err) {
        return err instanceof Error ? err : new Error(String(err))
      }
    }
    let remote = partial
    let config = runnable(remote)
    if (config instanceof Error) {
      // Key by key, pushed tables first so a table id finds its table; a key that breaks the whole is left out.
      remote = {}
      config = none.config
      const keys = Object.keys(partial).sort((a, b) => Number(b === 'encoder.tables') - Number(a === 'encoder.tables'))
      for (const key of keys) {
        const trial = { ...remote, [key]: partial[key] }
        const c = runnable(trial)
        if (c instanceof Error) dropped.push({ key, error: c.message })
        else {
          remote = trial
          config = c
        }
      }
    }
    for (const d of dropped) this.reportRestore(`saved remote configuration: leaving out '${d.key}': ${d.error}`)
    return { remote, config }
  }

  private reportRestore(message: string): void {
    this.log.warn(message)
    this.stats.error(message)
  }
}

function limitsOf(c: AgentConfig): {
  maxBytes: number
  maxFrames: number
  policy: AgentConfig['buffer']['policy']
  ttlMs: number
} {
  return {
    maxBytes: c.buffer.maxBytes,
    maxFrames: c.buffer.maxFrames,
    policy: c.buffer.policy,
    ttlMs: c.buffer.ttlSec * 1000,
  }
}

function ctxWith(ctx: AgentContext, log: Logger): AgentContext {
  return Object.create(ctx, { log: { value: log } }) as AgentContext
}
