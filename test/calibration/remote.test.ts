/**
 * Remote calibration over a real Mosquitto with the agent's real MqttLink: a request starts a calibration, frames
 * fed where the capture loop will feed them (session.observe) complete it, and the table + σ report come back on
 * the result topic; bad, busy and cancel requests are answered with reasons.
 */
import t from 'tap'
import { defaults } from '../../shared/config'
import { parseTableFile } from '../../shared/codec/tables'
import type { RawImage } from '../../shared/codec/types'
import { MqttLink } from '../../agent/mqtt/link'
import { memoryLogger } from '../helpers/log'
import { CalibrationSession } from '../../agent/calibration/session'
import { RemoteCalibration, parseCalibrationRequest } from '../../agent/calibration/remote'
import { startMosquitto } from '../helpers/mosquitto'
import { subscribe } from '../helpers/subscriber'

const frame = (v: number): RawImage => ({
  width: 16,
  height: 8,
  format: 'gray',
  data: new Uint8Array(128).map((_, i) => (i % 16 < 8 ? 128 + v : 128 - v)),
})

t.test('request → started → frames → done with table and σ report; busy, bad and cancel answered', async (t) => {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const log = memoryLogger('warn')
  const link = new MqttLink({
    url: broker.url,
    protocol: 'auto',
    clientId: 'cal-test',
    keepaliveSec: 30,
    connectTimeoutMs: 5000,
    reconnect: { minMs: 100, maxMs: 1000 },
    log,
  })
  const up = new Promise((r) => link.once('up', r))
  link.start()
  await up
  t.teardown(() => link.close())
  const config = { ...defaults(), deviceId: 'cam-9' }
  const session = new CalibrationSession()
  const topics = { request: 'deepn/cam-9/calibrate', result: 'deepn/cam-9/calibration' }
  const ext = new RemoteCalibration({ link, config: () => config, session, log, topics })
  ext.start()
  const sub = await subscribe(broker.url, [topics.result])
  t.teardown(() => sub.close())
  await new Promise((r) => setTimeout(r, 200)) // the link's subscription is asynchronous
  const replies = () => sub.messages.map((m) => JSON.parse(m.payload.toString()) as Record<string, unknown>)

  await sub.client.publishAsync(topics.request, JSON.stringify({ id: 'c1', frames: 3 }), { qos: 1 })
  await sub.waitFor(() => replies().length >= 1, 10000, 'started')
  t.match(replies()[0], { id: 'c1', ok: true, state: 'started', frames: 3 })
  t.ok(session.active)

  await sub.client.publishAsync(topics.request, JSON.stringify({ id: 'c2' }), { qos: 1 })
  await sub.waitFor(() => replies().length >= 2, 10000, 'busy reply')
  t.match(replies()[1], { id: 'c2', ok: false, error: /already running/ })

  for (let i = 0; i < 3; i++) session.observe(frame(10)) // what the capture loop does for every frame it encodes
  await sub.waitFor(() => replies().length >= 3, 10000, 'done')
  const done = replies()[2] as {
    id: string
    ok: boolean
    state: string
    table: unknown
    report: { frames: number; lumaSigma: number[] }
  }
  t.match(done, { id: 'c1', ok: true, state: 'done' })
  t.equal(done.report.frames, 3)
  t.equal(done.report.lumaSigma[0], 80, 'σ_DC of the ±10 block pattern')
  const table = parseTableFile(done.table, 'reported table')
  t.equal(table.id, 'calibrated-cam-9')

  await sub.client.publishAsync(topics.request, '{"frames": 0}', { qos: 1 })
  await sub.waitFor(() => replies().length >= 4, 10000, 'bad request reply')
  t.match(replies()[3], { id: null, ok: false, error: /'frames' must be an integer 1\.\.10000, got 0/ })

  await sub.client.publishAsync(topics.request, JSON.stringify({ id: 'c3', frames: 50 }), { qos: 1 })
  await sub.waitFor(() => replies().length >= 5, 10000, 'second start')
  session.observe(frame(4))
  await sub.client.publishAsync(topics.request, JSON.stringify({ id: 'c3', cancel: true }), { qos: 1 })
  await sub.waitFor(() => replies().length >= 6, 10000, 'cancel reply')
  t.match(replies()[5], { id: 'c3', ok: true, state: 'cancelled', report: { frames: 1 } })
  t.notOk(session.active)
  ext.stop()
})

t.test('request parsing names what is wrong', async (t) => {
  const p = (s: string) => parseCalibrationRequest(Buffer.from(s), 1000)
  t.same(p('{"id":"a","frames":5,"seconds":2.5}'), { id: 'a', frames: 5, seconds: 2.5, scale: undefined })
  t.throws(() => p('nope'), /not UTF-8 JSON/)
  t.throws(() => p('[]'), /expected a JSON object/)
  t.throws(() => p('{"frame": 3}'), /unknown field 'frame'/)
  t.throws(() => p('{"seconds": -1}'), /'seconds' must be a number in \(0, 86400\]/)
  t.throws(() => p('{"cancel": false}'), /'cancel' must be true/)
  t.throws(() => parseCalibrationRequest(Buffer.alloc(2000, 32), 1000), /2000 bytes; the limit is 1000/)
})
