/**
 * One MQTT connection that stays up: MQTT 5 with fallback to 3.1.1, TLS and credentials from local config, our own
 * reconnect schedule (capped exponential backoff + jitter), re-subscription on every connect, and a last will.
 * Each connection attempt uses a fresh mqtt.js client with its reconnect disabled, so nothing is queued inside
 * mqtt.js while offline: callers publish only while `up`, and the durable buffer re-sends after a reconnect.
 */
import { EventEmitter } from 'node:events'
import { createConnection } from 'node:net'
import mqtt, { MqttClient, type IClientOptions, type IClientPublishOptions } from 'mqtt'
import { backoffDelay } from '../backoff'
import { errorMessage, type Logger } from '../log'
import { applyCredentials, type TlsFiles } from './credentials'
import { endClient } from './end'

export interface LinkOptions {
  url: string
  protocol: 'auto' | '5' | '3.1.1'
  clientId: string
  username?: string
  password?: string
  /** TLS file paths (local config only). */
  tls?: TlsFiles
  keepaliveSec: number
  connectTimeoutMs: number
  reconnect: { minMs: number; maxMs: number }
  will?: { topic: string; payload: string; retain: boolean; qos: 0 | 1 }
  log: Logger
}

export interface LinkUp {
  protocolVersion: 4 | 5
  /** The broker's maximum packet size from CONNACK (MQTT 5), if it sent one. */
  maxPacketSize?: number
  generation: number
}

export interface PublishOptions {
  qos: 0 | 1
  retain?: boolean
  /** MQTT 5 only; dropped on 3.1.1. */
  contentType?: string
  userProperties?: Record<string, string>
}

type Handler = (topic: string, payload: Buffer) => void

/** CONNACK codes meaning "I do not speak this protocol version": 3.1.1 code 1, MQTT 5 reason 0x84. */
const PROTOCOL_REFUSED = new Set([1, 0x84])

export class MqttLink extends EventEmitter {
  private client?: MqttClient
  private version: 4 | 5
  private attempt = 0
  private timer?: NodeJS.Timeout
  private closed = false
  private connected = false
  private gen = 0
  private info?: LinkUp
  private readonly subs = new Map<string, Handler>()
  private readonly log: Logger

  constructor(private readonly opts: LinkOptions) {
    super()
    this.version = opts.protocol === '3.1.1' ? 4 : 5
    this.log = opts.log
  }

  get up(): boolean {
    return this.connected
  }
  get current(): LinkUp | undefined {
    return this.connected ? this.info : undefined
  }

  start(): void {
    if (this.closed || this.client) return
    this.connect()
  }

  setReconnect(minMs: number, maxMs: number): void {
    this.opts.reconnect = { minMs, maxMs }
  }

  /** Subscribes now (if connected) and after every reconnect. One handler per topic filter (exact topics win over wildcards). */
  subscribe(topic: string, handler: Handler): void {
    this.subs.set(topic, handler)
    if (this.connected)
      this.client!.subscribe(topic, { qos: 1 }, (err) => {
        if (err) this.log.warn(`subscribe ${topic}: ${err.message}`)
      })
  }

  /** Resolves on PUBACK (QoS 1) or once written (QoS 0); rejects when offline or the connection drops first. */
  publish(topic: string, payload: string | Uint8Array, o: PublishOptions): Promise<void> {
    const client = this.client
    if (!this.connected || !client) return Promise.reject(new Error('MQTT link is down'))
    const po: IClientPublishOptions = { qos: o.qos, retain: o.retain ?? false }
    if (this.version === 5 && (o.contentType || o.userProperties)) {
      po.properties = {}
      if (o.contentType) po.properties.contentType = o.contentType
      if (o.userProperties) po.properties.userProperties = o.userProperties
    }
    const body =
      typeof payload === 'string' ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
    return new Promise((resolve, reject) => {
      client.publish(topic, body, po, (err) => (err ? reject(err) : resolve()))
    })
  }

  /** Clean disconnect (no last will), optionally after publishing a final message. Idempotent. */
  async close(final?: { topic: string; payload: string; retain: boolean }): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.timer)
    const client = this.client
    if (!client) return
    if (final && this.connected) {
      await Promise.race([
        this.publish(final.topic, final.payload, { qos: 1, retain: final.retain }).catch(() => {}),
        sleep(2000),
      ])
    }
    await endClient(client, 2000)
    this.connected = false
  }

  private connect(): void {
    const o = this.opts
    const generation = ++this.gen
    const options: IClientOptions = {
      protocolVersion: this.version,
      clientId: o.clientId,
      clean: true,
      keepalive: o.keepaliveSec,
      connectTimeout: o.connectTimeoutMs,
      reconnectPeriod: 0,
      queueQoSZero: false,
      resubscribe: false,
      // Without this, mqtt-packet's first packet builds a cache of 65,536 two-byte Buffers for packet ids and
      // lengths: 6 MB of V8 heap (a third of the agent's) to save one 2-byte allocation per packet.
      writeCache: false,
    }
    applyCredentials(options, o)
    if (o.will)
      options.will = {
        topic: o.will.topic,
        payload: Buffer.from(o.will.payload),
        retain: o.will.retain,
        qos: o.will.qos,
      }
    if (this.version === 5) options.properties = { requestProblemInformation: true }

    this.log.debug(
      `connecting to ${redactUrl(o.url)} (MQTT ${this.version === 5 ? '5' : '3.1.1'}, attempt ${this.attempt + 1})`,
    )
    let client: MqttClient
    try {
      client = connectClient(o.url, options)
    } catch (err) {
      this.log.error(`cannot connect to ${redactUrl(o.url)}: ${errorMessage(err)}`)
      this.scheduleReconnect()
      return
    }
    this.client = client
    let refusedProtocol = false

    client.on('connect', (connack) => {
      if (generation !== this.gen) return
      this.attempt = 0
      this.connected = true
      const max = connack.properties?.maximumPacketSize
      this.info = { protocolVersion: this.version, maxPacketSize: max, generation }
      this.log.info(
        `connected to ${redactUrl(o.url)} (MQTT ${this.version === 5 ? '5' : '3.1.1'}${max ? `, broker max packet ${max} B` : ''})`,
      )
      for (const [t, _] of this.subs)
        client.subscribe(t, { qos: 1 }, (err) => {
          if (err) this.log.warn(`subscribe ${t}: ${err.message}`)
        })
      this.emit('up', this.info)
    })
    client.on('message', (t, payload) => {
      if (generation !== this.gen) return
      const h = this.subs.get(t) ?? this.wildcardHandler(t)
      if (h) {
        try {
          h(t, payload)
        } catch (err) {
          this.log.error(`handler for ${t} failed: ${errorMessage(err)}`)
        }
      }
    })
    client.on('error', (err: Error & { code?: number | string }) => {
      if (generation !== this.gen) return
      if (
        o.protocol === 'auto' &&
        this.version === 5 &&
        typeof err.code === 'number' &&
        PROTOCOL_REFUSED.has(err.code)
      ) {
        refusedProtocol = true
        this.log.info('broker refused MQTT 5; falling back to MQTT 3.1.1')
        this.version = 4
        return
      }
      this.log.warn(`MQTT error: ${err.message}`)
      this.emit('problem', err)
    })
    client.on('close', () => {
      if (generation !== this.gen || this.client !== client) return
      const wasUp = this.connected
      this.connected = false
      this.client = undefined
      client.end(true) // fails the callbacks of unacknowledged publishes so the publisher can move on
      if (wasUp) {
        if (!this.closed) this.log.warn('connection lost')
        this.emit('down')
      }
      if (this.closed) return
      if (refusedProtocol) this.connect()
      else this.scheduleReconnect()
    })
  }

  /** The handler of a subscription with `+` / `#` that matches `t` (few and short: a scan is enough). */
  private wildcardHandler(t: string): Handler | undefined {
    for (const [filter, h] of this.subs) {
      if ((filter.includes('+') || filter.includes('#')) && topicMatches(filter, t)) return h
    }
    return undefined
  }

  private scheduleReconnect(): void {
    if (this.closed) return
    const delay = backoffDelay(this.attempt++, this.opts.reconnect.minMs, this.opts.reconnect.maxMs)
    this.log.debug(`reconnecting in ${delay} ms`)
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.connect()
    }, delay)
  }
}

/**
 * An mqtt.js client for `url`. A plain `mqtt://` or `tcp://` URL (no credentials or query in it, no client
 * certificate, no SOCKS proxy) gets a socket of our own: mqtt.connect() loads every transport it knows on its first
 * call (WebSocket with zlib, TLS, SOCKS), about 2 MB of RSS a plain-TCP agent never uses. Anything else goes through
 * mqtt.connect() unchanged.
 */
export function connectClient(url: string, options: IClientOptions): MqttClient {
  const plain = plainTcpTarget(url)
  if (!plain || options.cert || options.key || process.env.MQTTJS_SOCKS_PROXY) return mqtt.connect(url, options)
  return new MqttClient(() => createConnection(plain), options)
}

/** Host and port of a plain-TCP broker URL, or undefined when mqtt.connect() must interpret it. */
export function plainTcpTarget(url: string): { host: string; port: number } | undefined {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return undefined
  }
  if (u.protocol !== 'mqtt:' && u.protocol !== 'tcp:') return undefined
  if (u.username || u.password || u.search || u.hash || (u.pathname !== '' && u.pathname !== '/') || !u.hostname)
    return undefined
  return { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: u.port ? Number(u.port) : 1883 }
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@')
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref())
}

/** MQTT topic filter matching: `+` one level, `#` the rest (also the parent level). */
export function topicMatches(filter: string, t: string): boolean {
  const f = filter.split('/')
  const parts = t.split('/')
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true
    if (i >= parts.length) return false
    if (f[i] !== '+' && f[i] !== parts[i]) return false
  }
  return f.length === parts.length
}
