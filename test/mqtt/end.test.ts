/**
 * endClient against real Mosquitto: a client whose incoming stream is stalled (a message held without PUBACK,
 * as the receiver does while closing) cannot finish mqtt.js's clean end, which waits for its own publishes' acks
 * behind that message. endClient must still release the socket by its deadline; a lingering socket kept test
 * processes alive for 40 s and would keep a daemon from exiting.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { endClient } from '../../agent/mqtt/end'
import { startMosquitto } from '../helpers/mosquitto'

t.test('a stalled client is released by the deadline', async (t) => {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 })
  let held = 0
  client.handleMessage = (_packet, _done) => {
    held++
  } // never calls done: no PUBACK, the parser stops here
  await client.subscribeAsync('stall/in', { qos: 1 })
  const other = await mqtt.connectAsync(broker.url, { protocolVersion: 5 })
  t.teardown(() => other.endAsync(true))
  await other.publishAsync('stall/in', 'x', { qos: 1 })
  while (held === 0) await new Promise((r) => setTimeout(r, 20))
  client.publish('stall/out', 'y', { qos: 1 }) // its PUBACK queues behind the held message
  const t0 = Date.now()
  await endClient(client, 300)
  const took = Date.now() - t0
  t.ok(took < 2000, `returned by the deadline (${took} ms)`)
  t.ok(client.stream.destroyed, 'the socket is destroyed, not left half-open')
})

t.test('a healthy client ends cleanly before the deadline', async (t) => {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 })
  await client.publishAsync('ok/out', 'y', { qos: 1 })
  const t0 = Date.now()
  await endClient(client, 5000)
  t.ok(Date.now() - t0 < 4000, 'did not wait for the deadline')
  t.ok(client.disconnected, 'mqtt.js ended the client itself')
})
