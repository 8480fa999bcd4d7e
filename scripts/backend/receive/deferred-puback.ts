/**
 * QoS 1 PUBACKs sent when the receiver says so, not when mqtt.js reads the next packet.
 *
 * Why this touches mqtt.js internals: mqtt.js (5.x) handles incoming packets one at a time and sends a QoS 1
 * PUBACK from inside `handleMessage`'s callback (lib/handlers/publish.js: `client._sendPacket({cmd: 'puback'}, done)`),
 * so the next PUBLISH is read only once the previous one is acknowledged. A receiver that acknowledges a frame only
 * once it is durable would then write frames strictly one after another. Instead the callback is released with an
 * error, which publish.js takes as "no PUBACK" while its pump reads on, and the PUBACK is sent later through the same
 * private `_sendPacket` publish.js uses. This is the one file that relies on that; test/backend/receive/
 * deferred-puback.test.ts fails if mqtt.js changes underneath (mqtt is pinned ^5.16).
 *
 * MQTT requires QoS 1 PUBACKs in the order the PUBLISHes arrived, so they leave in that order whatever order the
 * frames become durable in. A PUBACK is sent only on the connection its PUBLISH came in on: one held for a
 * connection that is gone is dropped, and the broker redelivers that message on the next one.
 */
import type { IPublishPacket, MqttClient } from 'mqtt'

/** One PUBLISH waiting for its PUBACK. */
export interface HeldPuback {
  readonly messageId: number
  /** The connection the PUBLISH came in on (mqtt.js makes a new stream per connection). */
  readonly stream: unknown
  ready: boolean
}

/** What publish.js needs to skip the PUBACK: any error passed to handleMessage's callback. */
const DEFERRED = new Error('PUBACK deferred until the frame is durable')

interface PrivateClient {
  _sendPacket(packet: { cmd: 'puback'; messageId: number; reasonCode?: number }, cb?: (err?: Error) => void): void
}

export class DeferredPubacks {
  private queue: HeldPuback[] = []
  private readonly dead = new WeakSet<object>()

  constructor(private readonly client: MqttClient) {
    if (typeof (client as unknown as Partial<PrivateClient>)._sendPacket !== 'function') {
      throw new Error(
        'this mqtt.js has no _sendPacket: deferred PUBACKs need mqtt 5.x (see scripts/backend/receive/deferred-puback.ts)',
      )
    }
  }

  /** Call inside `handleMessage` for a QoS 1 PUBLISH, before releasing the callback. */
  hold(packet: IPublishPacket): HeldPuback {
    const held: HeldPuback = { messageId: packet.messageId!, stream: this.client.stream, ready: false }
    this.queue.push(held)
    return held
  }

  /** Lets mqtt.js read the next packet without acknowledging this one. */
  static release(done: (err?: Error) => void): void {
    done(DEFERRED)
  }

  /** The message is handled: its PUBACK goes out once every earlier one has. */
  ready(held: HeldPuback): void {
    held.ready = true
    this.flush()
  }

  /** The message could not be handled: nothing more is acknowledged on its connection (the caller drops it). */
  fail(held: HeldPuback): void {
    if (held.stream) this.dead.add(held.stream as object)
    this.flush()
  }

  /** PUBLISHes waiting for their PUBACK. */
  get size(): number {
    return this.queue.length
  }

  private flush(): void {
    const client = this.client
    while (this.queue.length > 0) {
      const head = this.queue[0]
      const gone = head.stream !== client.stream || !client.connected || this.dead.has(head.stream as object)
      if (!gone && !head.ready) return
      this.queue.shift()
      if (gone) continue // the broker redelivers it on the next connection
      ;(client as unknown as PrivateClient)._sendPacket({ cmd: 'puback', messageId: head.messageId, reasonCode: 0 })
    }
  }
}
