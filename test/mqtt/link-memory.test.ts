/**
 * The link must not make mqtt.js build mqtt-packet's number cache (65,536 two-byte Buffers, about 6 MB of V8 heap
 * in a process whose whole heap is about 10 MB), nor load transports a plain-TCP broker does not need (WebSocket,
 * TLS, SOCKS: about 2 MB). Its own file: any other mqtt.js client in the process (a test subscriber with default
 * options) would build the cache and load the transports, hiding the agent's.
 */
import t from 'tap'
import { MqttLink, plainTcpTarget } from '../../agent/mqtt/link'
import { memoryLogger } from '../helpers/log'
import { startMosquitto } from '../helpers/mosquitto'

t.test('publishing through the link leaves the mqtt-packet number cache empty', async (t) => {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const link = new MqttLink({
    url: broker.url,
    protocol: 'auto',
    clientId: 'link-memory',
    keepaliveSec: 30,
    connectTimeoutMs: 5000,
    reconnect: { minMs: 100, maxMs: 400 },
    log: memoryLogger('warn'),
  })
  t.teardown(() => link.close())
  await new Promise<void>((resolve) => {
    link.once('up', () => resolve())
    link.start()
  })
  // QoS 1 with a packet id and a payload: the packets that write numbers through the cache when it is on.
  for (let i = 0; i < 3; i++)
    await link.publish('t/frames', new Uint8Array(300), { qos: 1, userProperties: { seq: String(i) } })
  const numbers = require('mqtt-packet/numbers') as { cache: Record<number, Buffer> }
  t.equal(Object.keys(numbers.cache).length, 0, 'no cached number buffers')
  const loaded = Object.keys(require.cache)
  t.same(
    loaded.filter((f) =>
      /[\\/]node_modules[\\/](ws|socks)[\\/]|[\\/]mqtt[\\/]build[\\/]lib[\\/]connect[\\/](ws|tls|tcp|socks)\.js$/.test(
        f,
      ),
    ),
    [],
    'no WebSocket, TLS or SOCKS transport loaded',
  )
})

t.test('only plain mqtt:// and tcp:// URLs bypass mqtt.connect()', async (t) => {
  t.same(plainTcpTarget('mqtt://127.0.0.1:1884'), { host: '127.0.0.1', port: 1884 })
  t.same(plainTcpTarget('tcp://broker.local/'), { host: 'broker.local', port: 1883 }, 'default port')
  t.same(plainTcpTarget('mqtt://[::1]:1885'), { host: '::1', port: 1885 }, 'IPv6 without brackets')
  for (const url of [
    'mqtts://broker:8883',
    'ws://broker/mqtt',
    'wss://broker',
    'mqtt://user:pw@broker',
    'mqtt://broker?clientId=x',
    'mqtt://broker/path',
    'not a url',
    'mqtt+unix:///tmp/s',
  ]) {
    t.equal(plainTcpTarget(url), undefined, `${url}: left to mqtt.connect()`)
  }
})
