/**
 * The receiver relies on two mqtt.js internals (scripts/backend/receive/deferred-puback.ts): releasing
 * handleMessage's callback with an error reads the next packet without a PUBACK, and `_sendPacket` sends one later.
 * Against a real Mosquitto, with the real mqtt.js: if either changes, these fail.
 */
import mqtt, { type IPublishPacket, type MqttClient, type Packet } from 'mqtt'
import t from 'tap'
import { DeferredPubacks, type HeldPuback } from '../../../scripts/backend/receive/deferred-puback'
import { startMosquitto } from '../../helpers/mosquitto'
import { waitFor } from './helpers/sim-agent'

interface Holder {
  client: MqttClient
  pubacks: DeferredPubacks
  held: Array<{ payload: string; held: HeldPuback }>
  sent: number[]
}

/** A persistent-session subscriber that holds every PUBACK until the test says so. */
async function holder(url: string, clientId: string, clean: boolean): Promise<Holder> {
  const client = mqtt.connect(url, {
    clientId,
    clean,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 600 },
    reconnectPeriod: 0,
  })
  const h: Holder = { client, pubacks: new DeferredPubacks(client), held: [], sent: [] }
  client.handleMessage = (packet: IPublishPacket, done) => {
    h.held.push({ payload: String(packet.payload), held: h.pubacks.hold(packet) })
    DeferredPubacks.release(done)
  }
  client.on('packetsend', (p: Packet) => {
    if (p.cmd === 'puback') h.sent.push(p.messageId!)
  })
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve())
    client.once('error', reject)
  })
  return h
}

t.test(
  'every PUBLISH is read before any PUBACK; PUBACKs leave in arrival order whatever order they are released',
  async (t) => {
    const broker = await startMosquitto()
    t.teardown(() => broker.stop())
    const h = await holder(broker.url, 'puback-order', true)
    t.teardown(() => h.client.endAsync(true))
    await h.client.subscribeAsync('q/#', { qos: 1 })
    const pub = await mqtt.connectAsync(broker.url)
    t.teardown(() => pub.endAsync(true))
    for (let k = 1; k <= 5; k++) await pub.publishAsync('q/x', String(k), { qos: 1 })
    await waitFor(() => h.held.length === 5, 5000, 'all five messages handed on without acknowledging any')
    t.same(
      h.held.map((m) => m.payload),
      ['1', '2', '3', '4', '5'],
    )
    t.same(h.sent, [], 'no PUBACK yet')
    const ids = h.held.map((m) => m.held.messageId)
    for (const k of [4, 3, 1, 2]) h.pubacks.ready(h.held[k].held) // 5, 4, 2, 3 are ready: all wait for 1
    t.same(h.sent, [], 'nothing sent while the first is pending')
    h.pubacks.ready(h.held[0].held)
    t.same(h.sent, ids, 'all five, in arrival order')
    t.equal(h.pubacks.size, 0)
  },
)

t.test('PUBACKs held for a connection that is gone are dropped; the broker redelivers those messages', async (t) => {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const first = await holder(broker.url, 'puback-drop', false)
  await first.client.subscribeAsync('q/#', { qos: 1 })
  const pub = await mqtt.connectAsync(broker.url)
  t.teardown(() => pub.endAsync(true))
  for (let k = 1; k <= 4; k++) await pub.publishAsync('q/x', String(k), { qos: 1 })
  await waitFor(() => first.held.length === 4, 5000, 'four messages held')
  first.pubacks.ready(first.held[0].held)
  first.pubacks.ready(first.held[1].held)
  t.equal(first.sent.length, 2, 'the first two acknowledged')
  await first.client.subscribeAsync('flush/x', { qos: 1 }) // a round trip: the broker has read the two PUBACKs
  first.client.stream.destroy() // the connection drops with 3 and 4 unacknowledged
  await new Promise<void>((resolve) => first.client.once('close', () => resolve()))
  first.pubacks.ready(first.held[2].held)
  first.pubacks.ready(first.held[3].held)
  t.equal(first.sent.length, 2, 'no PUBACK for a connection that is gone')
  await first.client.endAsync(true)

  const second = await holder(broker.url, 'puback-drop', false)
  t.teardown(() => second.client.endAsync(true))
  await waitFor(() => second.held.length === 2, 5000, 'the unacknowledged messages redelivered')
  t.same(
    second.held.map((m) => m.payload),
    ['3', '4'],
    'exactly the two never acknowledged',
  )
})
