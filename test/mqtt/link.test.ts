import t from 'tap'
import mqtt from 'mqtt'
import { MqttLink, type LinkUp } from '../../agent/mqtt/link'
import { memoryLogger } from '../helpers/log'
import { startMosquitto } from '../helpers/mosquitto'
import { startAedes } from '../helpers/aedes'

const log = memoryLogger('warn')
const once = <T>(link: MqttLink, ev: string, ms = 10000): Promise<T> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${ev}' within ${ms} ms`)), ms)
    link.once(ev, (v: T) => {
      clearTimeout(timer)
      resolve(v)
    })
  })

function newLink(url: string, extra: Partial<ConstructorParameters<typeof MqttLink>[0]> = {}): MqttLink {
  return new MqttLink({
    url,
    protocol: 'auto',
    clientId: `test-${Math.random().toString(16).slice(2)}`,
    keepaliveSec: 30,
    connectTimeoutMs: 5000,
    reconnect: { minMs: 100, maxMs: 400 },
    log,
    ...extra,
  })
}

t.test('MQTT 5 against Mosquitto: broker max packet size, user properties, last will', async (t) => {
  const broker = await startMosquitto({ extraConfig: ['max_packet_size 20000'] })
  t.teardown(() => broker.stop())
  const watcher = await mqtt.connectAsync(broker.url, { protocolVersion: 5 })
  t.teardown(() => watcher.endAsync())
  const got: { topic: string; payload: Buffer; props?: unknown }[] = []
  watcher.on('message', (topic, payload, packet) => got.push({ topic, payload, props: packet.properties }))
  await watcher.subscribeAsync('t/#', { qos: 1 })

  const link = newLink(broker.url, { will: { topic: 't/status', payload: 'offline', retain: false, qos: 1 } })
  const up = once<LinkUp>(link, 'up')
  link.start()
  const info = await up
  t.equal(info.protocolVersion, 5)
  t.equal(info.maxPacketSize, 20000, 'CONNACK maximumPacketSize is reported')
  await link.publish('t/frames', new Uint8Array([1, 2, 3]), {
    qos: 1,
    contentType: 'image/jpeg',
    userProperties: { seq: '7' },
  })
  await new Promise((r) => setTimeout(r, 200))
  t.equal(got.length, 1)
  t.same([...got[0].payload], [1, 2, 3])
  t.match(got[0].props, { contentType: 'image/jpeg', userProperties: { seq: '7' } })

  // subscription handler
  const seen = new Promise<string>((resolve) => link.subscribe('t/in', (_t, p) => resolve(p.toString())))
  await new Promise((r) => setTimeout(r, 200))
  await watcher.publishAsync('t/in', 'hello', { qos: 1 })
  t.equal(await seen, 'hello')

  // a broker restart: down, then up again by itself, subscriptions restored
  const down = once(link, 'down')
  await broker.stop()
  await down
  await t.rejects(link.publish('t/x', 'y', { qos: 1 }), /link is down/)
  const up2 = once<LinkUp>(link, 'up')
  await broker.start()
  await up2
  const seen2 = new Promise<string>((resolve) => link.subscribe('t/in', (_t, p) => resolve(p.toString())))
  const w2 = await mqtt.connectAsync(broker.url)
  await new Promise((r) => setTimeout(r, 200))
  await w2.publishAsync('t/in', 'again', { qos: 1 })
  t.equal(await seen2, 'again', 'resubscribed after reconnect')
  await w2.endAsync()
  await link.close()
  t.equal(link.up, false)
})

t.test('falls back to MQTT 3.1.1 when the broker refuses 5 (aedes)', async (t) => {
  const broker = await startAedes()
  t.teardown(() => broker.close())
  const link = newLink(broker.url)
  const up = once<LinkUp>(link, 'up')
  link.start()
  const info = await up
  t.equal(info.protocolVersion, 4)
  t.equal(info.maxPacketSize, undefined)
  await link.publish('t/frames', 'x', { qos: 1, contentType: 'image/jpeg', userProperties: { a: 'b' } })
  await link.close()
})

t.test('keeps retrying with backoff while no broker listens', async (t) => {
  const broker = await startMosquitto()
  await broker.stop()
  const link = newLink(broker.url)
  link.start()
  await new Promise((r) => setTimeout(r, 800))
  t.equal(link.up, false)
  const up = once<LinkUp>(link, 'up')
  await broker.start()
  t.teardown(() => broker.stop())
  await up
  t.ok(link.up)
  await link.close()
})
