/**
 * Home Assistant MQTT discovery (`homeassistant.enabled`): the retained config messages that make one agent a Home
 * Assistant device: a camera showing the `frames` topic, sensors read from `telemetry` and the retained `config`,
 * a binary sensor for `status` `degraded`, all available while `status` is not `offline` (the last will). The keys
 * are those of Home Assistant's MQTT camera / sensor / binary_sensor discovery documents. Topics live under the
 * discovery prefix, not the project's: `<discoveryPrefix>/<component>/<nodeId>/<objectId>/config`. An empty
 * retained payload on such a topic removes the entity. Pure: no I/O.
 */
import { topic } from './topics'

export const DEFAULT_DISCOVERY_PREFIX = 'homeassistant'

export type DiscoveryComponent = 'camera' | 'sensor' | 'binary_sensor'

/** Home Assistant's device block: every entity of one agent names the same identifiers, so they group as one device. */
export interface DiscoveryDevice {
  identifiers: string[]
  name: string
  model: string
  manufacturer: string
  sw_version: string
}

export interface DiscoveryAvailability {
  topic: string
  value_template: string
  payload_available: string
  payload_not_available: string
}

/** The keys every entity carries; the component adds its own (`topic`, or `state_topic` and `value_template`, …). */
export interface DiscoveryConfig {
  name: string
  unique_id: string
  device: DiscoveryDevice
  origin: { name: string; sw_version: string }
  availability: DiscoveryAvailability[]
  [key: string]: unknown
}

export interface DiscoveryMessage {
  component: DiscoveryComponent
  objectId: string
  /** `<discoveryPrefix>/<component>/<nodeId>/<objectId>/config`. */
  topic: string
  config: DiscoveryConfig
}

/** Which project topic an entity reads, and how. */
interface EntitySpec {
  component: DiscoveryComponent
  /** Also the last part of the unique id: no object id may equal the `_`-tail of another (unique ids stay distinct). */
  objectId: string
  name: string
  /** Component keys besides the shared ones, with the project topics filled in. */
  keys(t: { frames: string; telemetry: string; status: string; config: string }): Record<string, unknown>
}

const numberOrNone = (path: string): string => `{{ value_json.${path} if value_json.${path} is defined else none }}`

/**
 * The entities. Sensors read JSON fields of `telemetry` (TelemetryMessage) or the retained `config` report; the
 * test checks every field a template names is in a real telemetry message.
 */
const ENTITIES: readonly EntitySpec[] = [
  // Frames are plain JPEG files (metadata in an APP segment the decoder skips): no image_encoding.
  { component: 'camera', objectId: 'camera', name: 'Camera', keys: (t) => ({ topic: t.frames }) },
  {
    component: 'sensor',
    objectId: 'frames_per_second',
    name: 'Frames per second',
    keys: (t) => ({
      state_topic: t.telemetry,
      value_template: numberOrNone('framesPerSec'),
      unit_of_measurement: 'frames/s',
      state_class: 'measurement',
      icon: 'mdi:camera-timer',
    }),
  },
  {
    component: 'sensor',
    objectId: 'bytes_per_frame',
    name: 'Bytes per frame',
    keys: (t) => ({
      state_topic: t.telemetry,
      value_template: numberOrNone('meanBytesPerFrame'),
      device_class: 'data_size',
      unit_of_measurement: 'B',
      state_class: 'measurement',
    }),
  },
  {
    component: 'sensor',
    objectId: 'backlog_frames',
    name: 'Backlog frames',
    keys: (t) => ({
      state_topic: t.telemetry,
      value_template: '{{ value_json.backlog.frames }}',
      unit_of_measurement: 'frames',
      state_class: 'measurement',
      entity_category: 'diagnostic',
      icon: 'mdi:tray-full',
    }),
  },
  {
    component: 'sensor',
    objectId: 'backlog_bytes',
    name: 'Backlog size',
    keys: (t) => ({
      state_topic: t.telemetry,
      value_template: '{{ value_json.backlog.bytes }}',
      device_class: 'data_size',
      unit_of_measurement: 'B',
      state_class: 'measurement',
      entity_category: 'diagnostic',
    }),
  },
  // Counters since the buffer was created: total_increasing (a new buffer file starts them over, which HA reads as a reset).
  {
    component: 'sensor',
    objectId: 'dropped_frames',
    name: 'Dropped frames',
    keys: (t) => ({
      state_topic: t.telemetry,
      value_template: '{{ value_json.counters.dropped }}',
      unit_of_measurement: 'frames',
      state_class: 'total_increasing',
      entity_category: 'diagnostic',
      icon: 'mdi:delete-clock',
    }),
  },
  {
    component: 'sensor',
    objectId: 'refused_frames',
    name: 'Refused frames',
    keys: (t) => ({
      state_topic: t.telemetry,
      value_template: '{{ value_json.counters.rejected }}',
      unit_of_measurement: 'frames',
      state_class: 'total_increasing',
      entity_category: 'diagnostic',
      icon: 'mdi:cancel',
    }),
  },
  {
    component: 'sensor',
    objectId: 'rss',
    name: 'Memory (RSS)',
    keys: (t) => ({
      state_topic: t.telemetry,
      value_template: '{{ value_json.memory.rss }}',
      device_class: 'data_size',
      unit_of_measurement: 'B',
      state_class: 'measurement',
      entity_category: 'diagnostic',
    }),
  },
  // The retained config report: known at once, not only after the next telemetry. Empty table = IJG quality tables.
  {
    component: 'sensor',
    objectId: 'table',
    name: 'Quantization table',
    keys: (t) => ({
      state_topic: t.config,
      value_template: "{{ value_json.config.encoder.table or ('IJG quality ' ~ value_json.config.encoder.quality) }}",
      entity_category: 'diagnostic',
      icon: 'mdi:table',
    }),
  },
  // `status` is retained; its fields (the `reason` while degraded) become attributes. Offline is left to availability, so OFF.
  {
    component: 'binary_sensor',
    objectId: 'degraded',
    name: 'Buffer degraded',
    keys: (t) => ({
      state_topic: t.status,
      value_template: "{{ 'ON' if value_json.state == 'degraded' else 'OFF' }}",
      payload_on: 'ON',
      payload_off: 'OFF',
      device_class: 'problem',
      entity_category: 'diagnostic',
      json_attributes_topic: t.status,
    }),
  },
]

/** Object ids of every entity announced (fixed: the set of config topics to clear is known without state). */
export const DISCOVERY_OBJECTS: readonly { component: DiscoveryComponent; objectId: string }[] = ENTITIES.map(
  ({ component, objectId }) => ({ component, objectId }),
)

/**
 * The discovery node id for a device id: Home Assistant allows `[a-zA-Z0-9_-]` there, a device id also `.`. A
 * dotted id gets `.` → `_` and a hash of the id, so `a.b` and `a_b` never share config topics.
 */
export function discoveryNodeId(deviceId: string): string {
  if (/^[A-Za-z0-9_-]+$/.test(deviceId)) return deviceId
  return `${deviceId.replace(/[^A-Za-z0-9_-]/g, '_')}_${fnv1a(deviceId).toString(16).padStart(8, '0')}`
}

/** Unique id of one entity: the device id verbatim (Home Assistant allows any string), stable across restarts. */
export function discoveryUniqueId(deviceId: string, objectId: string): string {
  return `deepn_${deviceId}_${objectId}`
}

export function discoveryTopic(
  discoveryPrefix: string,
  component: DiscoveryComponent,
  deviceId: string,
  objectId: string,
): string {
  return `${discoveryPrefix}/${component}/${discoveryNodeId(deviceId)}/${objectId}/config`
}

/** Every config topic this device announces on (what is cleared when discovery is turned off). */
export function discoveryTopics(discoveryPrefix: string, deviceId: string): string[] {
  return DISCOVERY_OBJECTS.map((o) => discoveryTopic(discoveryPrefix, o.component, deviceId, o.objectId))
}

/** Subscription filter matching every config topic of this device (also ones an older version announced). */
export function discoveryFilter(discoveryPrefix: string, deviceId: string): string {
  return `${discoveryPrefix}/+/${discoveryNodeId(deviceId)}/+/config`
}

export interface DiscoveryOptions {
  /** The project's topic prefix (`mqtt.prefix`). */
  prefix: string
  deviceId: string
  discoveryPrefix: string
  version: string
}

/** The config message of every entity of one device. */
export function discoveryMessages(o: DiscoveryOptions): DiscoveryMessage[] {
  const t = {
    frames: topic(o.prefix, o.deviceId, 'frames'),
    telemetry: topic(o.prefix, o.deviceId, 'telemetry'),
    status: topic(o.prefix, o.deviceId, 'status'),
    config: topic(o.prefix, o.deviceId, 'config'),
  }
  const device: DiscoveryDevice = {
    identifiers: [`deepn_${o.deviceId}`],
    name: o.deviceId,
    model: 'deepn-edge camera agent',
    manufacturer: 'deepn-edge',
    sw_version: o.version,
  }
  // `status` is JSON; only `offline` (clean stop or last will) makes the entities unavailable.
  const availability: DiscoveryAvailability[] = [
    {
      topic: t.status,
      value_template: "{{ 'offline' if value_json.state == 'offline' else 'online' }}",
      payload_available: 'online',
      payload_not_available: 'offline',
    },
  ]
  return ENTITIES.map((e) => ({
    component: e.component,
    objectId: e.objectId,
    topic: discoveryTopic(o.discoveryPrefix, e.component, o.deviceId, e.objectId),
    config: {
      name: e.name,
      unique_id: discoveryUniqueId(o.deviceId, e.objectId),
      device,
      origin: { name: 'deepn-edge', sw_version: o.version },
      availability,
      ...e.keys(t),
    },
  }))
}

/** 32-bit FNV-1a of the UTF-16 code units (device ids are ASCII). */
function fnv1a(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h
}
