/**
 * Home Assistant MQTT discovery against a real Mosquitto and the real agent (in-process, synthetic camera, SQLite
 * buffer): with `homeassistant.enabled` every config topic is retained and carries the keys of Home Assistant's MQTT
 * camera / sensor / binary_sensor discovery documents; the JSON fields the templates read are in the messages the
 * agent really publishes; unique ids survive a restart; turning the key off over `config/set`, or in the local
 * configuration before a restart, leaves no config topic on the broker; off by default nothing is announced.
 * (No Home Assistant here: templates are checked by the fields they name, not rendered by Jinja.)
 */
import t, { type Test } from 'tap'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createAgent } from '../../agent/commands/run'
import type { Controller } from '../../agent/controller'
import { loadLocalConfig } from '../../agent/config-file'
import { discoveryTopics, type DiscoveryConfig } from '../../shared/contract/homeassistant'
import { parseTelemetry, type TelemetryMessage } from '../../shared/contract/telemetry'
import { STATUS_STATES, parseStatus } from '../../shared/contract/status'
import { parseConfigReport } from '../../shared/contract/config-messages'
import { memoryLogger } from '../helpers/log'
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto'
import { subscribe, type Received, type Subscriber } from '../helpers/subscriber'

const HA = 'homeassistant'

interface Device {
  broker: Mosquitto
  deviceId: string
  env: Record<string, string>
  /** Subscribed before the first start to the discovery prefix and the device's own topics. */
  live: Subscriber
}

async function device(t: Test, deviceId: string, extraEnv: Record<string, string> = {}): Promise<Device> {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const dir = mkdtempSync(join(tmpdir(), 'deepn-ha-'))
  const env = {
    DEEPN_MQTT_URL: broker.url,
    DEEPN_DEVICE_ID: deviceId,
    DEEPN__BUFFER__PATH: join(dir, 'buffer.db'),
    DEEPN_LOG_LEVEL: 'warn',
    DEEPN__CAPTURE__WIDTH: '32',
    DEEPN__CAPTURE__HEIGHT: '32',
    DEEPN__CAPTURE__INTERVAL_MS: '50',
    DEEPN__TELEMETRY__INTERVAL_MS: '1000',
    ...extraEnv,
  }
  const live = await subscribe(broker.url, [`${HA}/#`, `deepn/${deviceId}/#`])
  t.teardown(() => live.close())
  return { broker, deviceId, env, live }
}

async function start(t: Test, d: Device, env: Record<string, string> = d.env): Promise<Controller> {
  const agent = createAgent(loadLocalConfig({ env }), memoryLogger('warn'))
  t.teardown(() => agent.stop())
  await agent.start()
  return agent
}

const under =
  (prefix: string) =>
  (m: Received): boolean =>
    m.topic.startsWith(`${prefix}/`)

/**
 * What the broker holds retained under `filter` now: a fresh subscriber, then a sentinel it publishes to itself;
 * Mosquitto delivers in order, so every retained message has arrived once the sentinel has (no fixed sleep).
 */
async function retained(url: string, filter: string): Promise<Received[]> {
  const sentinel = `test-sentinel/${Math.random().toString(16).slice(2)}`
  const s = await subscribe(url, [filter, sentinel])
  try {
    await s.client.publishAsync(sentinel, 'x', { qos: 1 })
    await s.waitFor(() => s.messages.some((m) => m.topic === sentinel), 10000, 'the sentinel')
    return s.messages.filter((m) => m.topic !== sentinel)
  } finally {
    await s.close()
  }
}

/** The last message on `topic` with a non-empty payload after `from`, waited for. */
async function next(
  sub: Subscriber,
  topic: string,
  pred: (m: Received) => boolean = () => true,
  from = 0,
): Promise<Received> {
  let found: Received | undefined
  await sub.waitFor(
    () =>
      (found = sub.messages
        .slice(from)
        .reverse()
        .find((m) => m.topic === topic && m.payload.length > 0 && pred(m))) !== undefined,
    30000,
    topic,
  )
  return found!
}

/** Waits until every topic got a message after `from` whose payload passes `pred`; returns the last of each. */
async function each(
  sub: Subscriber,
  topics: string[],
  pred: (p: Buffer) => boolean,
  from: number,
  what: string,
): Promise<Map<string, Received>> {
  const last = (): Map<string, Received> =>
    new Map(
      sub.messages
        .slice(from)
        .filter((m) => topics.includes(m.topic) && pred(m.payload))
        .map((m) => [m.topic, m]),
    )
  await sub.waitFor(() => last().size === topics.length, 30000, what)
  return last()
}

const nonEmpty = (p: Buffer): boolean => p.length > 0
const empty = (p: Buffer): boolean => p.length === 0
const configOf = (m: Received): DiscoveryConfig => JSON.parse(m.payload.toString('utf8')) as DiscoveryConfig

/** Value at a dotted path, or undefined. */
function at(doc: unknown, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>(
      (v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
      doc,
    )
}
const fieldsRead = (template: string): string[] => [
  ...new Set([...template.matchAll(/value_json\.([A-Za-z0-9_.]+)/g)].map((m) => m[1])),
]

t.test(
  'announced retained with the documented keys; the fields templates read are in real messages; stable ids; off over config/set clears it',
  async (t) => {
    const deviceId = `ha.cam-${Math.random().toString(16).slice(2, 8)}` // dotted: the node id is made valid
    const d = await device(t, deviceId, { DEEPN__HOMEASSISTANT__ENABLED: 'true' })
    const topics = discoveryTopics(HA, deviceId)
    let agent = await start(t, d)
    const first = await each(d.live, topics, nonEmpty, 0, 'every discovery config')

    // What a Home Assistant connecting now would read: exactly these topics, retained.
    const held = await retained(d.broker.url, `${HA}/#`)
    t.same(
      held.map((m) => m.topic).sort(),
      [...topics].sort(),
      'the broker holds one retained config per entity, nothing else',
    )
    t.ok(
      held.every((m) => m.retain),
      'delivered as retained',
    )
    const own = (leaf: string): string => `deepn/${deviceId}/${leaf}`
    const byComponent = new Map<string, DiscoveryConfig[]>()
    for (const m of held) {
      const c = configOf(m)
      const component = m.topic.split('/')[1]
      byComponent.set(component, [...(byComponent.get(component) ?? []), c])
      t.match(
        m.topic,
        new RegExp(`^${HA}/(camera|sensor|binary_sensor)/[a-zA-Z0-9_-]+/[a-zA-Z0-9_-]+/config$`),
        `${m.topic}: topic form Home Assistant accepts`,
      )
      t.match(
        c,
        { name: String, unique_id: new RegExp(`^deepn_${deviceId.replace('.', '\\.')}_`) },
        `${m.topic}: name, unique_id`,
      )
      t.match(
        c.device,
        { identifiers: [`deepn_${deviceId}`], name: deviceId, model: String, manufacturer: String, sw_version: String },
        `${m.topic}: device`,
      )
      t.match(
        c.availability,
        [
          {
            topic: own('status'),
            value_template: String,
            payload_available: 'online',
            payload_not_available: 'offline',
          },
        ],
        `${m.topic}: availability from status`,
      )
    }
    const [camera] = byComponent.get('camera') ?? []
    t.equal(camera?.topic, own('frames'), 'the camera shows the frames topic')
    t.notOk(camera && 'image_encoding' in camera, 'plain JPEG: no image_encoding')
    const sensors = byComponent.get('sensor') ?? []
    t.equal(sensors.length, 8, 'frames/s, bytes per frame, backlog frames and bytes, dropped, refused, RSS, table')
    for (const s of sensors)
      t.match(s, { state_topic: String, value_template: String }, `${s.unique_id}: state_topic, value_template`)
    const [degraded] = byComponent.get('binary_sensor') ?? []
    t.match(
      degraded,
      {
        state_topic: own('status'),
        value_template: String,
        payload_on: 'ON',
        payload_off: 'OFF',
        device_class: 'problem',
      },
      'the degraded binary sensor',
    )

    // The fields each template reads, in what the agent publishes: telemetry (with frames encoded by then), the
    // retained config report, the retained status.
    const telemetry = await next(d.live, own('telemetry'), (m) => (parseTelemetry(m.payload).framesPerSec ?? 0) > 0)
    const docs: Record<string, unknown> = {
      [own('telemetry')]: parseTelemetry(telemetry.payload) satisfies TelemetryMessage,
      [own('config')]: parseConfigReport((await next(d.live, own('config'))).payload),
      [own('status')]: parseStatus((await next(d.live, own('status'))).payload),
    }
    for (const s of sensors) {
      const doc = docs[s.state_topic as string]
      t.ok(doc, `${s.unique_id}: reads a topic the agent publishes (${s.state_topic})`)
      for (const f of fieldsRead(s.value_template as string)) {
        const v = at(doc, f)
        if (s.unit_of_measurement)
          t.type(v, 'number', `${s.unique_id}: ${f} = ${v}, a number for a sensor in ${s.unit_of_measurement}`)
        else t.ok(v !== undefined, `${s.unique_id}: ${f} = ${JSON.stringify(v)}`)
      }
    }
    for (const c of [degraded, ...degraded.availability]) {
      t.same(fieldsRead(c.value_template as string), ['state'])
      t.ok(
        STATUS_STATES.includes(at(docs[own('status')], 'state') as never),
        'status carries the state the templates compare',
      )
    }

    // A restart announces the same entities: same topics, same unique ids, same payloads.
    await agent.stop()
    const mark = d.live.messages.length
    agent = await start(t, d)
    const again = await each(d.live, topics, nonEmpty, mark, 'the configs announced again after a restart')
    for (const topic of topics)
      t.same(configOf(again.get(topic)!), configOf(first.get(topic)!), `${topic}: unchanged across a restart`)

    // Off over remote config: an empty retained payload on each, and the broker holds none.
    const off = d.live.messages.length
    await d.live.client.publishAsync(
      own('config/set'),
      JSON.stringify({ id: 'ha-off', config: { homeassistant: { enabled: false } } }),
      { qos: 1 },
    )
    const result = await next(d.live, own('config/result'), (m) => m.payload.includes('"ha-off"'), off)
    t.match(JSON.parse(result.payload.toString()), { status: 'ok', data: { applied: ['homeassistant.enabled'] } })
    await each(d.live, topics, empty, off, 'an empty payload on every config topic')
    t.same(
      (await retained(d.broker.url, `${HA}/#`)).map((m) => m.topic),
      [],
      'no config left for Home Assistant to discover',
    )
  },
)

t.test('off by default nothing is announced; on over config/set announces', async (t) => {
  const deviceId = `cam-${Math.random().toString(16).slice(2, 8)}`
  const d = await device(t, deviceId)
  await start(t, d)
  await next(d.live, `deepn/${deviceId}/telemetry`) // connected and running
  t.same(
    (await retained(d.broker.url, `${HA}/#`)).map((m) => m.topic),
    [],
    'nothing retained under the discovery prefix',
  )
  t.same(
    d.live.messages.filter(under(HA)).map((m) => m.topic),
    [],
    'nothing published there at all',
  )

  const from = d.live.messages.length
  await d.live.client.publishAsync(
    `deepn/${deviceId}/config/set`,
    JSON.stringify({ id: 'ha-on', config: { homeassistant: { enabled: true } } }),
    { qos: 1 },
  )
  await each(d.live, discoveryTopics(HA, deviceId), nonEmpty, from, 'every discovery config after turning it on')
  t.equal((await retained(d.broker.url, `${HA}/#`)).length, discoveryTopics(HA, deviceId).length, 'all retained')
  // The prefix is not remote: a request may not choose where the device writes retained messages.
  const refused = d.live.messages.length
  await d.live.client.publishAsync(
    `deepn/${deviceId}/config/set`,
    JSON.stringify({ id: 'ha-prefix', config: { homeassistant: { prefix: 'elsewhere' } } }),
    { qos: 1 },
  )
  const r = await next(d.live, `deepn/${deviceId}/config/result`, (m) => m.payload.includes('"ha-prefix"'), refused)
  t.match(JSON.parse(r.payload.toString()), { status: 'error', error: /homeassistant\.prefix/ })
})

t.test('turned off in the local configuration, the next start clears what an earlier run announced', async (t) => {
  const deviceId = `cam-${Math.random().toString(16).slice(2, 8)}`
  const d = await device(t, deviceId, { DEEPN__HOMEASSISTANT__ENABLED: 'true' })
  const topics = discoveryTopics(HA, deviceId)
  const agent = await start(t, d)
  await each(d.live, topics, nonEmpty, 0, 'every discovery config')
  await agent.stop()

  const mark = d.live.messages.length
  await start(t, d, { ...d.env, DEEPN__HOMEASSISTANT__ENABLED: 'false' })
  await each(d.live, topics, empty, mark, 'an empty payload on every config topic')
  t.same(
    (await retained(d.broker.url, `${HA}/#`)).map((m) => m.topic),
    [],
    'no config left',
  )
  t.notOk(
    d.live.messages.slice(mark).some((m) => under(HA)(m) && m.payload.length > 0),
    'nothing announced by the run with the key off',
  )
})
