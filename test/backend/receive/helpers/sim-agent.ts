/**
 * A stand-in for the agent's publishing side (the real agent is tested separately): publishes real frames QoS 1
 * and, like the agent's buffer, retries a frame until the broker acknowledges it, across broker restarts.
 */
import mqtt, { type MqttClient } from 'mqtt'
import { makeFrame } from './frames'

export class SimAgent {
  readonly client: MqttClient
  published = 0

  constructor(
    url: string,
    readonly deviceId: string,
    readonly prefix = 'deepn',
  ) {
    this.client = mqtt.connect(url, {
      clientId: `sim-${deviceId}-${process.pid}`,
      reconnectPeriod: 200,
      connectTimeout: 2000,
    })
    this.client.on('error', () => {}) // reconnects on its own; errors are expected while the broker restarts
  }

  /** Publishes `seq`'s frame until PUBACKed (a resend after a lost PUBACK is a duplicate the receiver drops). */
  async send(seq: number, opts: { level?: number } = {}): Promise<void> {
    const payload = makeFrame({ deviceId: this.deviceId, seq, level: opts.level })
    await this.sendRaw(`${this.prefix}/${this.deviceId}/frames`, payload)
  }

  async sendRaw(topic: string, payload: Buffer): Promise<void> {
    for (;;) {
      try {
        await withTimeout(this.client.publishAsync(topic, payload, { qos: 1 }), 3000)
        this.published++
        return
      } catch {
        await sleep(100)
      }
    }
  }

  async close(): Promise<void> {
    await this.client.endAsync(true)
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), ms)
    p.then(
      (v) => {
        clearTimeout(timer)
        resolve(v)
      },
      (e) => {
        clearTimeout(timer)
        reject(e)
      },
    )
  })
}

/** Polls `cond` until true or throws after `ms`. */
export async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await sleep(50)
  }
}
