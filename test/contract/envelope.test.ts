/**
 * One request/response envelope for every request topic: `config/set` and `calibrate` share the size limit, the
 * strict UTF-8 JSON decoding, the `id` rule (a string, or a number echoed as its decimal string) and the refusal
 * of unknown fields, and every response is `{ id, status, data | error }`. Before, `calibrate` decoded UTF-8
 * leniently (U+FFFD in place of bad bytes) and refused numeric ids that `config/set` accepted.
 */
import t, { type Test } from 'tap'
import { defaults } from '../../shared/config'
import {
  MAX_REQUEST_ID,
  RequestError,
  parseCalibrateRequest,
  parseConfigSet,
  parseRequest,
} from '../../shared/contract'
import { MqttLink } from '../../agent/mqtt/link'
import { CalibrationSession } from '../../agent/calibration/session'
import { RemoteCalibration } from '../../agent/calibration/remote'
import { memoryLogger } from '../helpers/log'
import { startMosquitto } from '../helpers/mosquitto'
import { subscribe } from '../helpers/subscriber'

const PARSERS: [string, (p: Buffer) => unknown, string][] = [
  ['config/set', (p) => parseConfigSet(p, 1000), '"config": {}'],
  ['calibrate', (p) => parseCalibrateRequest(p, 1000), '"frames": 3'],
]

/** The RequestError a parser throws for `payload` (fails the test when it does not throw one). */
function refusal(t: Test, parse: (p: Buffer) => unknown, payload: Buffer | string): RequestError {
  try {
    parse(Buffer.from(payload))
  } catch (err) {
    if (err instanceof RequestError) return err
    throw err
  }
  t.fail(`accepted ${String(payload).slice(0, 60)}`)
  return new RequestError('accepted', null)
}

t.test('every request topic applies the same envelope rules', async (t) => {
  for (const [name, parse, body] of PARSERS) {
    t.test(name, async (t) => {
      t.match(parse(Buffer.from(`{"id": "a", ${body}}`)), { id: 'a' }, 'a string id')
      t.match(parse(Buffer.from(`{"id": 7, ${body}}`)), { id: '7' }, 'a numeric id, echoed as its decimal string')
      t.match(parse(Buffer.from(`{${body}}`)), { id: null }, 'no id: null')
      const badUtf8 = Buffer.concat([Buffer.from(`{"id": "a\u00e9`), Buffer.from([0xff]), Buffer.from(`", ${body}}`)])
      t.match(
        refusal(t, parse, badUtf8),
        { id: null, message: /^not UTF-8 JSON: the bytes are not valid UTF-8/ },
        'bad UTF-8 is refused, never replaced',
      )
      t.match(refusal(t, parse, 'nope'), { id: null, message: /^not UTF-8 JSON:/ }, 'not JSON')
      t.match(
        refusal(t, parse, '[1]'),
        { id: null, message: /expected a JSON object \{"id", .*\}, got an array/ },
        'not an object',
      )
      t.match(
        refusal(t, parse, Buffer.alloc(1001, 32)),
        { id: null, message: /request is 1001 bytes; the limit is 1000 \(mqtt\.maxConfigBytes\)/ },
        'too large',
      )
      t.match(
        refusal(t, parse, `{"id": "${'x'.repeat(MAX_REQUEST_ID + 1)}"}`),
        { id: null, field: 'id', message: /'id' must be a string of at most 128 characters or a number/ },
        'id too long',
      )
      t.match(refusal(t, parse, '{"id": {"a": 1}}'), { id: null, field: 'id' }, 'id an object')
      t.match(
        refusal(t, parse, `{"id": "r9", "extra": 1, ${body}}`),
        { id: 'r9', field: 'extra', message: /unknown field 'extra' \(expected id, / },
        'unknown field: the error keeps the id',
      )
      t.match(
        refusal(t, parse, `{"id": "r9", "constructor": 1}`),
        { id: 'r9', field: 'constructor' },
        'an Object.prototype name is an unknown field like any other',
      )
      t.match(
        refusal(t, parse, `{"id": "r9", "__proto__": {"config": 1}}`),
        { id: 'r9', field: '__proto__' },
        '__proto__ is an unknown field, not a prototype',
      )
    })
  }
  t.match(
    refusal(t, (p) => parseCalibrateRequest(p, 1000), '{"id": "c", "frames": 0}'),
    { id: 'c', field: 'frames' },
    'a field error keeps the id too',
  )
  t.same(parseRequest('{"id":"x","a":1}', { maxBytes: 100, fields: ['a'] }).fields.get('a'), 1)
})

t.test('the agent answers calibrate in the envelope, over a real broker', async (t) => {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const log = memoryLogger('error')
  const link = new MqttLink({
    url: broker.url,
    protocol: 'auto',
    clientId: 'envelope-test',
    keepaliveSec: 30,
    connectTimeoutMs: 5000,
    reconnect: { minMs: 100, maxMs: 1000 },
    log,
  })
  const up = new Promise((r) => link.once('up', r))
  link.start()
  await up
  t.teardown(() => link.close())
  const topics = { request: 'deepn/cam-e/calibrate', result: 'deepn/cam-e/calibration' }
  const session = new CalibrationSession()
  const ext = new RemoteCalibration({
    link,
    config: () => ({ ...defaults(), deviceId: 'cam-e' }),
    session,
    log,
    topics,
  })
  ext.start()
  t.teardown(() => ext.stop())
  const sub = await subscribe(broker.url, [topics.result])
  t.teardown(() => sub.close())
  const replies = (): Record<string, unknown>[] =>
    sub.messages.map((m) => JSON.parse(m.payload.toString()) as Record<string, unknown>)
  // The link subscribes asynchronously: repeat a harmless cancel until the agent answers it.
  await sub.waitFor(
    () => {
      if (!replies().length) void sub.client.publishAsync(topics.request, '{"id":"ping","cancel":true}', { qos: 1 })
      return replies().length > 0
    },
    10000,
    'first reply',
  )
  t.match(replies()[0], {
    id: 'ping',
    status: 'ok',
    ok: true,
    data: { state: 'cancelled', frames: 0 },
    state: 'cancelled',
  })

  const sends: [Buffer | string, Record<string, unknown>, string][] = [
    [
      Buffer.concat([Buffer.from('{"id":"u'), Buffer.from([0xc3, 0x28]), Buffer.from('","frames":2}')]),
      { id: null, status: 'error', ok: false, error: /not UTF-8 JSON/ },
      'bad UTF-8 refused',
    ],
    [
      '{"id":"c1","frames":2,"speed":9}',
      { id: 'c1', status: 'error', ok: false, error: /unknown field 'speed'/ },
      'unknown field: the id is kept',
    ],
    [
      '{"id":42,"frames":2}',
      { id: '42', status: 'ok', ok: true, data: { state: 'started', frames: 2 } },
      'numeric id accepted',
    ],
  ]
  const answers = (): Record<string, unknown>[] => replies().filter((r) => r.id !== 'ping') // late answers to the pings above
  for (const [payload, want, name] of sends) {
    const before = answers().length
    await sub.client.publishAsync(topics.request, payload as Buffer, { qos: 1 })
    await sub.waitFor(() => answers().length > before, 10000, name)
    t.match(answers()[before], want, name)
    t.notOk(answers()[before].status === 'error' && 'data' in answers()[before], `${name}: an error carries no data`)
  }
})
