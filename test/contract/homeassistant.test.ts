/**
 * The Home Assistant discovery messages (shared/contract/homeassistant.ts), pure: topic form, node ids Home
 * Assistant accepts and that never collide, unique ids distinct per device and entity, the keys each component's
 * discovery document asks for. The agent publishing them against Mosquitto: test/agent/homeassistant.test.ts.
 */
import t from 'tap'
import {
  DISCOVERY_OBJECTS,
  discoveryMessages,
  discoveryNodeId,
  discoveryTopic,
  discoveryTopics,
  discoveryUniqueId,
} from '../../shared/contract/homeassistant'

const opts = { prefix: 'deepn', deviceId: 'cam-01', discoveryPrefix: 'homeassistant', version: '1.2.3' }

t.test(
  'config topics: <discovery prefix>/<component>/<node id>/<object id>/config, ids in [a-zA-Z0-9_-]',
  async (t) => {
    const msgs = discoveryMessages(opts)
    t.same(
      msgs.map((m) => m.topic),
      discoveryTopics('homeassistant', 'cam-01'),
      'discoveryTopics lists every announced topic, in order',
    )
    for (const m of msgs) {
      t.equal(m.topic, `homeassistant/${m.component}/cam-01/${m.objectId}/config`)
      t.match(m.objectId, /^[a-zA-Z0-9_-]+$/)
    }
    t.same([...new Set(msgs.map((m) => m.component))].sort(), ['binary_sensor', 'camera', 'sensor'])
    t.equal(new Set(msgs.map((m) => m.topic)).size, msgs.length, 'one topic per entity')
    t.equal(
      discoveryTopic('ha', 'sensor', 'x', 'rss'),
      'ha/sensor/x/rss/config',
      'the discovery prefix is the one configured',
    )
  },
)

t.test(
  'node ids: a device id as it is when Home Assistant allows it; a dotted one made valid and kept apart',
  async (t) => {
    t.equal(discoveryNodeId('cam_01-a'), 'cam_01-a')
    const dotted = discoveryNodeId('a.b')
    t.match(dotted, /^[a-zA-Z0-9_-]+$/, `a.b → ${dotted}`)
    t.not(dotted, discoveryNodeId('a_b'), 'a.b and a_b do not share config topics')
    t.not(discoveryNodeId('a.b.c'), discoveryNodeId('a_b.c'))
    t.equal(discoveryNodeId('a.b'), dotted, 'stable')
  },
)

t.test('unique ids: stable, distinct per entity and per device', async (t) => {
  const a = discoveryMessages(opts).map((m) => m.config.unique_id)
  t.same(
    discoveryMessages(opts).map((m) => m.config.unique_id),
    a,
    'the same on every call (no time or random part)',
  )
  t.equal(new Set(a).size, a.length)
  t.equal(a[0], discoveryUniqueId('cam-01', 'camera'))
  const b = discoveryMessages({ ...opts, deviceId: 'cam-02' }).map((m) => m.config.unique_id)
  t.notOk(
    a.some((id) => b.includes(id)),
    'another device, other unique ids',
  )
  // deepn_<deviceId>_<objectId> is unambiguous only if no object id is the `_`-tail of another
  // (device `x_backlog` + `frames` would equal device `x` + `backlog_frames`).
  for (const o of DISCOVERY_OBJECTS) {
    for (const p of DISCOVERY_OBJECTS)
      if (o !== p) t.notOk(o.objectId.endsWith(`_${p.objectId}`), `${o.objectId} does not end in _${p.objectId}`)
  }
})

t.test("each payload carries the keys of its component's discovery document", async (t) => {
  for (const m of discoveryMessages(opts)) {
    const c = m.config
    t.type(c.name, 'string')
    t.match(
      c.device,
      { identifiers: ['deepn_cam-01'], name: 'cam-01', model: String, manufacturer: String, sw_version: '1.2.3' },
      `${m.objectId}: device`,
    )
    t.same(
      c.availability.map((a) => a.topic),
      ['deepn/cam-01/status'],
      `${m.objectId}: availability from status`,
    )
    t.match(c.availability[0], {
      payload_available: 'online',
      payload_not_available: 'offline',
      value_template: /value_json\.state/,
    })
    if (m.component === 'camera') {
      t.equal(c.topic, 'deepn/cam-01/frames', 'camera: topic = frames')
      t.notOk('image_encoding' in c, 'frames are plain JPEG')
    } else {
      t.match(c.state_topic, /^deepn\/cam-01\/(telemetry|config|status)$/, `${m.objectId}: state_topic`)
      t.match(c.value_template, /^\{\{.*value_json\..*\}\}$/, `${m.objectId}: value_template`)
    }
    if (c.state_class !== undefined)
      t.ok(
        ['measurement', 'total', 'total_increasing'].includes(c.state_class as string),
        `${m.objectId}: state_class ${c.state_class}`,
      )
    if (c.entity_category !== undefined)
      t.ok(['diagnostic', 'config'].includes(c.entity_category as string), `${m.objectId}: entity_category`)
    if (c.device_class === 'data_size') t.equal(c.unit_of_measurement, 'B', `${m.objectId}: data_size in bytes`)
    if (m.component === 'binary_sensor')
      t.match(c, { device_class: 'problem', payload_on: 'ON', payload_off: 'OFF', state_topic: 'deepn/cam-01/status' })
  }
})
