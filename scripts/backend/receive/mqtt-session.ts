/**
 * The receiver's MQTT connection: a persistent session (fixed client id, clean start off, long session expiry)
 * so frames published while the receiver is down wait at the broker, MQTT 5 with fallback to 3.1.1, TLS and
 * credentials. Each QoS 1 frame is PUBACKed only after `onFrame` resolves, i.e. after it is on disk: a receiver
 * killed mid-write gets the frame again rather than losing it.
 */
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt'
import { applyCredentials, type TlsFiles } from '../../../agent/mqtt/credentials'
import { endClient } from '../../../agent/mqtt/end'

export interface SessionOptions {
  url: string
  clientId: string
  protocol: 'auto' | '5' | '3.1.1'
  username?: string
  password?: string
  tls?: TlsFiles
  /** MQTT 5 session expiry: how long the broker keeps queueing for us while we are away. */
  sessionExpirySec: number
  /** Topic filters subscribed at QoS 1 whenever the broker has no session for us. */
  subscriptions: string[]
  /** Resolves once the message is handled (acknowledged to the broker afterwards); rejects to have it redelivered. */
  onMessage: (topic: string, payload: Buffer, packet: IPublishPacket) => Promise<void>
  log: (level: 'info' | 'warn' | 'error', msg: string) => void
  reconnectMs?: number
  /** MQTT keepalive in seconds (default 30). */
  keepaliveSec?: number
}

/** CONNACK codes meaning "I do not speak this protocol version": 3.1.1 code 1, MQTT 5 reason 0x84. */
const PROTOCOL_REFUSED = new Set([1, 0x84])

/**
 * CONNACK codes that retrying cannot fix: the broker refused who we are (client id, credentials, authorisation).
 * 3.1.1: 2 identifier rejected, 4 bad user name or password, 5 not authorized. MQTT 5: 0x85 client identifier not
 * valid, 0x86 bad user name or password, 0x87 not authorized, 0x8A banned, 0x8C bad authentication method.
 */
const LOGIN_REFUSED = new Set([2, 4, 5, 0x85, 0x86, 0x87, 0x8a, 0x8c])

/** The broker refused the login: a configuration error, not an outage. */
export class LoginRefusedError extends Error {
  override name = 'LoginRefusedError'
}

export class MqttSession {
  private client: MqttClient | undefined
  private version: 4 | 5
  private closing = false
  /** The session gave up (see `failed`): the owner reports the reason, so no log line here. */
  hasFailed = false
  private accepting = true
  private lastError = { message: '', at: 0 }
  private subscribedResolve!: () => void
  private subscribedReject!: (err: Error) => void
  private failedResolve!: (err: Error) => void
  /**
   * Resolves the first time our subscriptions are in place (fresh subscribe or a resumed session); rejects with a
   * LoginRefusedError when the broker refuses the login before that.
   */
  readonly subscribed = new Promise<void>((resolve, reject) => {
    this.subscribedResolve = resolve
    this.subscribedReject = reject
  })
  /** Resolves with the reason when the session gave up for good (a refused login); it no longer reconnects. */
  readonly failed = new Promise<Error>((resolve) => {
    this.failedResolve = resolve
  })

  constructor(private readonly opts: SessionOptions) {
    this.version = opts.protocol === '3.1.1' ? 4 : 5
    this.subscribed.catch(() => undefined) // the rejection is also reported through `failed`; never unhandled
  }

  get protocolVersion(): 4 | 5 {
    return this.version
  }

  get connected(): boolean {
    return this.client?.connected ?? false
  }

  start(): void {
    const o = this.opts
    const options: IClientOptions = {
      protocolVersion: this.version,
      clientId: o.clientId,
      clean: false,
      reconnectPeriod: o.reconnectMs ?? 1000,
      connectTimeout: 15000,
      keepalive: o.keepaliveSec ?? 30,
      resubscribe: false,
    }
    if (this.version === 5) options.properties = { sessionExpiryInterval: o.sessionExpirySec }
    applyCredentials(options, o)
    const client = mqtt.connect(o.url, options)
    this.client = client
    // Replaces mqtt.js's no-op hook: its callback is what sends the PUBACK (see mqtt/lib/handlers/publish).
    client.handleMessage = (packet, done) => {
      if (!this.accepting || client !== this.client) return // no PUBACK: the broker redelivers next session
      // mqtt.js handles packets one at a time: while a message is pending (e.g. a write retried on a full disk) the
      // PINGRESPs queue behind it and its keepalive check would drop a healthy connection. Ping the broker
      // ourselves meanwhile so the session stays up and the message stays unacknowledged, not redelivered.
      const keepaliveMs = (o.keepaliveSec ?? 30) * 1000
      const hold = setInterval(() => {
        if (client !== this.client || !client.connected) return
        client.sendPing()
        client.reschedulePing(true)
      }, keepaliveMs / 2)
      o.onMessage(packet.topic, packet.payload as Buffer, packet)
        .finally(() => clearInterval(hold))
        .then(
          () => done(),
          (err: unknown) => {
            o.log(
              'error',
              `not acknowledging ${packet.topic} (will be redelivered): ${err instanceof Error ? err.message : String(err)}`,
            )
            client.stream.destroy() // reconnect; the broker resends every unacknowledged message
          },
        )
    }
    client.on('connect', (connack) => {
      this.lastError = { message: '', at: 0 }
      o.log(
        'info',
        `connected to ${redactUrl(o.url)} as ${o.clientId} (MQTT ${this.version === 5 ? '5' : '3.1.1'}, session ${connack.sessionPresent ? 'resumed' : 'new'})`,
      )
      if (connack.sessionPresent) {
        this.subscribedResolve()
        return
      }
      client.subscribe(o.subscriptions, { qos: 1 }, (err, granted) => {
        if (err) return o.log('error', `subscribe ${o.subscriptions.join(', ')} failed: ${err.message}`)
        const refused = (granted ?? []).filter((g) => g.qos > 2)
        if (refused.length)
          return o.log('error', `broker refused subscription ${refused.map((g) => g.topic).join(', ')}`)
        o.log('info', `subscribed to ${o.subscriptions.join(', ')}`)
        this.subscribedResolve()
      })
    })
    client.on('error', (err: Error & { code?: number | string }) => {
      if (client !== this.client) return
      if (
        o.protocol === 'auto' &&
        this.version === 5 &&
        typeof err.code === 'number' &&
        PROTOCOL_REFUSED.has(err.code)
      ) {
        o.log('warn', 'broker refused MQTT 5; falling back to MQTT 3.1.1')
        this.version = 4
        this.client = undefined
        client.end(true)
        this.start()
        return
      }
      if (typeof err.code === 'number' && LOGIN_REFUSED.has(err.code)) {
        // Retrying with the same credentials cannot succeed: stop, like mosquitto_sub does.
        const refused = new LoginRefusedError(
          `broker ${redactUrl(o.url)} refused the login as ${o.username ? `user '${o.username}'` : 'anonymous'} (client id ${o.clientId}): ${err.message}`,
        )
        this.hasFailed = true
        this.closing = true
        this.client = undefined
        client.end(true)
        this.subscribedReject(refused)
        this.failedResolve(refused)
        return
      }
      // mqtt.js retries every reconnect period; repeat the same error once a minute only.
      const now = Date.now()
      if (err.message !== this.lastError.message || now - this.lastError.at > 60000) {
        this.lastError = { message: err.message, at: now }
        o.log('warn', `MQTT: ${err.message}`)
      }
    })
    client.on('offline', () => {
      if (client === this.client && !this.closing) o.log('warn', `broker ${redactUrl(o.url)} unreachable; retrying`)
    })
  }

  /** QoS 1 publish; queued by mqtt.js while offline. Never throws: a lost ack or result is logged. */
  publish(topic: string, payload: string, retain = false): void {
    const client = this.client
    if (!client || this.closing) return
    client.publish(topic, payload, { qos: 1, retain }, (err) => {
      if (err && !this.closing) this.opts.log('warn', `publish ${topic}: ${err.message}`)
    })
  }

  /** Stops taking new messages (they stay unacknowledged at the broker); publishing still works. */
  stopAccepting(): void {
    this.accepting = false
  }

  /** Clean disconnect; waits briefly for queued publishes (acks, results) to go out. */
  async close(): Promise<void> {
    const client = this.client
    if (!client || this.closing) return
    this.closing = true
    this.accepting = false
    await endClient(client, 3000)
  }
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@')
}
