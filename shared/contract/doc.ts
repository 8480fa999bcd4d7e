/**
 * Renders docs/protocol.md from the contract (`npm run docs:protocol`; a test keeps the committed page current).
 * Every example is made by the message's builder and read back by its parser while rendering, and every field
 * of an example must have a description here, so the page cannot show a message the code would not send or
 * accept. Pure.
 */
import { buildAck, parseAck } from './ack'
import {
  buildCalibrateRequest,
  buildCalibrationResponse,
  calibrationFailed,
  calibrationOk,
  parseCalibrateRequest,
  parseCalibrationResponse,
} from './calibration-messages'
import {
  buildConfigReport,
  buildConfigResult,
  buildConfigSet,
  configApplied,
  configRejected,
  parseConfigReport,
  parseConfigResult,
  parseConfigSet,
} from './config-messages'
import { MAX_REQUEST_ID } from './envelope'
import { frameMetadataRecord, frameUserProperties, parseFrameMetadata, type FrameMetadata } from './frame-metadata'
import {
  DEVICE_ID_PATTERN,
  DEVICE_ID_RULE,
  TABLE_ID_PATTERN,
  TABLE_ID_RULE,
  deviceIdFromHostname,
  isDeviceId,
  isTableId,
} from './ids'
import { buildLossMessage, parseLossMessage } from './loss'
import { decodeJson } from './payload'
import { buildDetectionResult, buildResult, parseDetectionResult, parseResult } from './results'
import { buildStatus, parseStatus, statusMessage } from './status'
import { buildTelemetry, parseTelemetry, type TelemetryMessage } from './telemetry'
import { DEFAULT_DISCOVERY_PREFIX, discoveryMessages } from './homeassistant'
import { DEFAULT_PREFIX, TOPICS, type LeafName } from './topics'

const AT = '2026-12-02T06:00:00.000Z'
const META: FrameMetadata = {
  seq: 1041,
  capturedAt: AT,
  tableId: 'natural-deepn',
  deviceId: 'cam-01',
  width: 640,
  height: 480,
  quantDigest: '9f3b2a6c1d0e8f47',
  keepMap: 'lot-a.v3',
}
const TELEMETRY: TelemetryMessage = {
  deviceId: 'cam-01',
  at: AT,
  version: '0.1.0',
  uptimeSec: 3600,
  backlog: { frames: 12, bytes: 245760 },
  counters: {
    captured: 3600,
    published: 3588,
    dropped: 0,
    rejected: 0,
    expired: 0,
    setAside: 0,
    captureErrors: 0,
    publishErrors: 0,
    bufferRecoveries: 0,
    lostFrames: 0,
  },
  encodeMs: { p50: 9.1, p95: 14.2 },
  encoderKernel: 'wasm-simd',
  meanBytesPerFrame: 20480,
  framesPerSec: 1,
  keepMap: { id: 'lot-a.v3', fullShare: 0.185 },
  memory: { rss: 61865984, heapUsed: 9437184 },
  mqtt: { protocol: '5', maxPacketSize: 268435455 },
  delivery: 'e2e-ack',
}
/** Shortened: a real table has 64 steps per component and a report 64 σ per component. */
const TABLE = {
  id: 'calibrated-cam-01',
  luma: [16, 11, 10],
  chroma: [17, 18, 24],
  source: { calibratedOn: 'device', frames: 100 },
}
const REPORT = { frames: 100, seconds: 41.2, width: 640, height: 480, lumaSigma: [212.4, 41.7, 30.2] }

interface Example {
  title: string
  /** The payload as published. */
  text: string
  /** Reads it back: throws when the example is not a valid message. */
  check: (text: string) => unknown
}

interface MessageDoc {
  leaf: LeafName
  /** Field descriptions; nested fields as `a.b`. Every field of every example must be here. */
  fields: Record<string, string>
  examples: Example[]
  notes?: string[]
}

const ENVELOPE_FIELDS = {
  id: "The request's `id` (a number as its decimal string), or `null` when it had none or it could not be read.",
  status: '`ok` or `error`.',
  data: '`ok` only: the result (fields below).',
  error: '`error` only: why, naming the field or key; nothing was changed.',
  ok: '`status === "ok"`. Kept for backends written before the envelope.',
}

const MESSAGES: MessageDoc[] = [
  {
    leaf: 'frames',
    fields: {
      seq: 'Buffer sequence number: gap-free per device unless `events/loss` says otherwise; the de-duplication key with `deviceId`.',
      capturedAt: 'Capture time (ISO).',
      tableId:
        'Quantization table in force; `<id>*<factor>` when the frame was re-encoded coarser to fit the payload limit.',
      deviceId: "Equals the topic's device id (the receiver refuses a frame where it does not).",
      width: "Pixels; equals the JPEG frame header's.",
      height: "Pixels; equals the JPEG frame header's.",
      quantDigest:
        "Optional: 16 hex digits, digest of the file's quantization steps and sampling (tells apart tables re-pushed under one id).",
      keepMap:
        'Optional: id of the keep map (`encoder.keepMap`) the frame was encoded with: its cells kept only their first zig-zag coefficients, cells where something moved more. Absent when no map applied.',
    },
    examples: [
      {
        title: 'APP9 segment JSON (also sent as MQTT 5 user properties, as strings)',
        text: JSON.stringify(frameMetadataRecord(META)),
        check: (s) => parseFrameMetadata(decodeJson(s) as Record<string, unknown>),
      },
    ],
    notes: [
      'The payload is the JPEG file itself; the metadata is a JSON object in an APP9 segment starting with `DEEPN\\0` (after SOI, or after the JFIF APP0). Decoders skip it.',
      `MQTT 5 user properties: ${Object.keys(frameUserProperties(META))
        .map((k) => `\`${k}\``)
        .join(', ')} (numbers as decimal strings).`,
    ],
  },
  {
    leaf: 'status',
    fields: {
      state:
        '`online` (every frame kept), `degraded` (frames being dropped or refused, see `reason`), `offline` (stopped, or the last will).',
      deviceId: 'The device.',
      version: 'Optional: agent version.',
      since: 'Optional: when this state began (ISO).',
      reason: '`degraded` only: why frames are lost, naming the setting.',
    },
    examples: [
      {
        title: 'degraded',
        text: buildStatus(
          statusMessage('degraded', 'cam-01', {
            version: '0.1.0',
            since: new Date(AT),
            reason:
              "less than 157286 bytes free on the buffer's filesystem (buffer.minFreePercent): oldest unsent frames dropped (drop-oldest)",
          }),
        ),
        check: parseStatus,
      },
      { title: 'last will', text: buildStatus(statusMessage('offline', 'cam-01')), check: parseStatus },
    ],
  },
  {
    leaf: 'telemetry',
    fields: {
      deviceId: 'The device.',
      at: 'When measured (ISO).',
      version: 'Agent version.',
      uptimeSec: 'Seconds since start.',
      backlog: 'Frames waiting in the buffer.',
      'backlog.frames': 'Count.',
      'backlog.bytes': 'JPEG bytes.',
      counters: 'Since start.',
      'counters.captured': 'Frames captured.',
      'counters.published': 'Frames acknowledged by the broker.',
      'counters.dropped': 'Frames dropped by the buffer (bounds, free-space floor).',
      'counters.rejected': 'Frames the buffer refused (`reject-new`).',
      'counters.expired': 'Frames older than `buffer.maxAgeSec`, removed.',
      'counters.setAside': 'Frames that could not be published (too large, damaged).',
      'counters.captureErrors': 'Failed captures.',
      'counters.publishErrors': 'Failed publishes.',
      'counters.bufferRecoveries': 'Buffer files found damaged and replaced.',
      'counters.lostFrames': 'Frames lost with a damaged buffer (see `events/loss`).',
      encodeMs: 'Encode time percentiles.',
      'encodeMs.p50': 'Optional: median, ms.',
      'encodeMs.p95': 'Optional: 95th percentile, ms.',
      encoderKernel: '`wasm-simd`, or `typescript` on runtimes without WebAssembly SIMD (same bytes, slower).',
      meanBytesPerFrame: 'Optional: mean JPEG bytes of the frames encoded since start.',
      framesPerSec: 'Optional: frames encoded per second over the last minute.',
      keepMap:
        'Optional, while `encoder.keepMap` is set: `{id, fullShare}`, the map id and the mean share (0..1) of its cells that kept all 64 coefficients (by the map or raised by motion) over the recent frames.',
      memory: 'Process memory.',
      'memory.rss': 'Bytes.',
      'memory.heapUsed': 'Bytes.',
      mqtt: 'The connection.',
      'mqtt.protocol': 'Optional: `5` or `3.1.1`.',
      'mqtt.maxPacketSize': "Optional: the broker's limit.",
      delivery: '`puback` or `e2e-ack`.',
      lastError: 'Optional: `{ at, message }` of the last error.',
    },
    examples: [{ title: 'report', text: buildTelemetry(TELEMETRY), check: parseTelemetry }],
  },
  {
    leaf: 'config/set',
    fields: {
      id: `Optional transaction id: a string of at most ${MAX_REQUEST_ID} characters, or a number.`,
      config:
        'A partial configuration nested by section, remote keys only ([config.md](config.md)); pushed tables go in `encoder.tables` by id (`null` deletes one).',
    },
    examples: [
      {
        title: 'push and select a table, change the interval',
        text: buildConfigSet('req-7', {
          capture: { intervalMs: 500 },
          encoder: { table: 'mine', tables: { mine: { luma: [16, 11, 10], chroma: [17, 18, 24] } } },
        }),
        check: (s) => parseConfigSet(s, 65536),
      },
    ],
    notes: [
      'Publish it retained to reach a device that is offline: it is applied on the next connect (a request that changes nothing is a no-op).',
    ],
  },
  {
    leaf: 'config/result',
    fields: {
      ...ENVELOPE_FIELDS,
      'data.applied': 'Keys whose values changed (empty: nothing to change).',
      applied: 'Copy of `data.applied` (before the envelope).',
    },
    examples: [
      {
        title: 'applied',
        text: buildConfigResult(configApplied('req-7', ['capture.intervalMs', 'encoder.table', 'encoder.tables'])),
        check: parseConfigResult,
      },
      {
        title: 'rejected',
        text: buildConfigResult(configRejected('req-8', "config: 'buffer.path' cannot be set remotely (file path)")),
        check: parseConfigResult,
      },
    ],
  },
  {
    leaf: 'config',
    fields: {
      version: 'Count of applied remote changes (persisted); 0 = none.',
      config: 'Every key in force, nested by section; secrets `***`.',
    },
    examples: [
      {
        title: 'report (shortened)',
        text: buildConfigReport(3, {
          deviceId: 'cam-01',
          delivery: 'e2e-ack',
          capture: { intervalMs: 500 },
          encoder: { table: 'mine' },
        }),
        check: parseConfigReport,
      },
    ],
  },
  {
    leaf: 'ack',
    fields: { seq: 'Every seq of this device from the lowest the receiver stored through `seq` is durably stored.' },
    examples: [{ title: 'ack', text: buildAck(1041), check: parseAck }],
    notes: ['The agent ignores acks unless `delivery` is `e2e-ack`, and logs malformed ones.'],
  },
  {
    leaf: 'calibrate',
    fields: {
      id: `Optional transaction id: a string of at most ${MAX_REQUEST_ID} characters, or a number.`,
      frames: 'Optional: frames to collect, 1..10000 (default 100).',
      seconds: 'Optional: stop after this long, (0, 86400].',
      scale: 'Optional: multiplies the steps, (0, 32].',
      cancel: '`true`: cancel the calibration running (answered `cancelled` with what it collected).',
    },
    examples: [
      {
        title: 'start',
        text: buildCalibrateRequest({ id: 'cal-1', frames: 100, seconds: 60 }),
        check: (s) => parseCalibrateRequest(s, 65536),
      },
      {
        title: 'cancel',
        text: buildCalibrateRequest({ id: 'cal-1', cancel: true }),
        check: (s) => parseCalibrateRequest(s, 65536),
      },
    ],
  },
  {
    leaf: 'calibration',
    fields: {
      ...ENVELOPE_FIELDS,
      'data.state': '`started`, then `done` or `cancelled`.',
      'data.frames': '`started`: frames to collect; `cancelled` with none collected: 0.',
      'data.seconds': '`started`, when asked for: the time limit.',
      'data.table':
        '`done` (and `cancelled` after some frames): the DeepN table file `{ id, luma, chroma, source }` (64 steps each).',
      'data.report':
        '`done` (and `cancelled` after some frames): the σ report `{ frames, seconds, width, height, lumaSigma, … }`.',
      state: 'Copy of `data.state` (before the envelope).',
      frames: 'Copy of `data.frames`.',
      seconds: 'Copy of `data.seconds`.',
      table: 'Copy of `data.table`.',
      report: 'Copy of `data.report`.',
    },
    examples: [
      {
        title: 'started',
        text: buildCalibrationResponse(calibrationOk('cal-1', { state: 'started', frames: 100, seconds: 60 })),
        check: parseCalibrationResponse,
      },
      {
        title: 'done (table and report shortened)',
        text: buildCalibrationResponse(calibrationOk('cal-1', { state: 'done', table: TABLE, report: REPORT })),
        check: parseCalibrationResponse,
      },
      {
        title: 'busy',
        text: buildCalibrationResponse(
          calibrationFailed('cal-2', 'a calibration is already running (37 frames collected); cancel it first'),
        ),
        check: parseCalibrationResponse,
      },
    ],
  },
  {
    leaf: 'events/loss',
    fields: {
      deviceId: "Equals the topic's device id.",
      at: 'When the damage was found (ISO).',
      cause:
        '`corrupt-database` (failed its check, moved aside), `database-lost` (the file has no record of seqs known used), `power-loss` (an unclean end under `synchronous=NORMAL`).',
      detail: 'What was found.',
      lost: 'Optional `{ from, to, frames }`: unacknowledged frames gone for good; `frames` of them existed.',
      unknown: 'Optional `{ from, to }`: lost or never used (the agent cannot tell); either way they will not come.',
      skipped: 'Optional `{ from, to }`: never used.',
      resumesAt: 'First seq of the fresh buffer.',
      movedTo: 'Optional: where the damaged files were moved (never deleted).',
    },
    examples: [
      {
        title: 'a corrupt buffer',
        text: buildLossMessage({
          deviceId: 'cam-01',
          at: AT,
          cause: 'corrupt-database',
          detail: 'integrity check failed',
          lost: { from: 1038, to: 1056, frames: 19 },
          skipped: { from: 1057, to: 2048 },
          resumesAt: 2049,
          movedTo: ['/var/lib/deepn/buffer.db.corrupt-2026-12-02T06-00-00Z'],
        }),
        check: (s) => parseLossMessage('cam-01', s),
      },
    ],
  },
  {
    leaf: 'results',
    fields: {
      seq: "The frame's seq.",
      label: 'Class name, or the class index as a string without labels.',
      index: 'Class index.',
      score: 'Probability of the winning class.',
      deviceId: 'The device.',
      capturedAt: "The frame's capture time.",
      tableId: "The frame's table id.",
      quantDigest: 'Recomputed from the file.',
      model: 'Model file name (a detector: its name).',
      inferenceMs: 'Inference time.',
      detections:
        'Detection results only (instead of `label`, `index`, `score`): `[{ class, score, bbox: [x, y, width, height] }]` in frame pixels, highest score first.',
    },
    examples: [
      {
        title: 'result',
        text: buildResult({
          seq: 1041,
          label: 'Sneaker',
          index: 7,
          score: 0.93,
          deviceId: 'cam-01',
          capturedAt: AT,
          tableId: 'natural-deepn',
          quantDigest: '9f3b2a6c1d0e8f47',
          model: 'fmnist-cnn.onnx',
          inferenceMs: 2.4,
        }),
        check: parseResult,
      },
      {
        title: 'detection result (`deepn demo --video`)',
        text: buildDetectionResult({
          seq: 1041,
          deviceId: 'cam-01',
          capturedAt: AT,
          tableId: 'vtest-ssd',
          quantDigest: '9f3b2a6c1d0e8f47',
          model: 'coco-ssd',
          inferenceMs: 212.5,
          detections: [{ class: 'person', score: 0.91, bbox: [412.3, 180.6, 38.2, 96.4] }],
        }),
        check: parseDetectionResult,
      },
    ],
  },
]

/** Dotted paths of an example's fields, down one level into objects the descriptions list by part. */
function paths(v: unknown, fields: Record<string, string>, prefix = ''): string[] {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return []
  return Object.entries(v).flatMap(([k, x]) => {
    const p = prefix + k
    const nested = Object.keys(fields).some((f) => f.startsWith(`${p}.`))
    return [p, ...(nested ? paths(x, fields, `${p}.`) : [])]
  })
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|')
}

function messageSection(m: MessageDoc): string[] {
  const spec = TOPICS.find((t) => t.leaf === m.leaf)
  if (!spec) throw new Error(`doc: no topic '${m.leaf}' in TOPICS`)
  const out = [
    `### \`${m.leaf}\``,
    '',
    `${spec.from} → ${spec.to}, QoS ${spec.qos}, ${spec.retained ? '**retained**' : 'not retained'}; payload ${spec.payload}. ${spec.doc}`,
    '',
  ]
  for (const ex of m.examples) {
    ex.check(ex.text)
    for (const p of paths(decodeJson(ex.text), m.fields)) {
      if (!(p in m.fields)) throw new Error(`doc: field '${p}' of a '${m.leaf}' example has no description`)
    }
  }
  out.push('| Field | Description |', '| --- | --- |')
  for (const [f, d] of Object.entries(m.fields)) out.push(`| \`${f}\` | ${cell(d)} |`)
  out.push('')
  for (const ex of m.examples) out.push(`${ex.title}:`, '', '```json', ex.text, '```', '')
  for (const n of m.notes ?? []) out.push(n, '')
  return out
}

export function renderProtocolDoc(): string {
  const long = 'a'.repeat(65)
  const shown = (id: string): string => (id === long ? '65 × `a`' : `\`${JSON.stringify(id)}\``)
  const sample = (ids: string[], test: (id: string) => boolean): string =>
    ids.map((id) => `${shown(id)} ${test(id) ? 'yes' : 'no'}`).join(', ')
  const lines: string[] = [
    '# Protocol: agent ↔ backend over MQTT',
    '',
    '<!-- Generated from shared/contract by `npm run docs:protocol`. Do not edit by hand. -->',
    '',
    `Topics are \`<prefix>/<deviceId>/<leaf>\`, prefix \`${DEFAULT_PREFIX}\` by default (\`mqtt.prefix\`). JSON payloads are UTF-8, decoded`,
    'strictly (bytes that are not UTF-8 are refused, never replaced). The protocol is code in `shared/contract`; a backend',
    'imports its builders and parsers from the package:',
    '',
    '```ts',
    "import { Leaf, topic, parseTopic, readFrameMetadata, buildAck, buildConfigSet, parseConfigResult } from 'deepn-edge/contract'",
    '```',
    '',
    'Every parser throws a `ContractError` whose message names the wrong field (and whose `field` property holds its path).',
    '',
    '## Topics',
    '',
    '| Leaf | From → to | Retained | QoS | Payload | Build / parse |',
    '| --- | --- | --- | --- | --- | --- |',
  ]
  for (const s of TOPICS)
    lines.push(
      `| \`${s.leaf}\` | ${s.from} → ${s.to} | ${s.retained ? 'yes' : 'no'} | ${s.qos} | ${s.payload} | ${cell(s.code)} |`,
    )
  lines.push(
    '',
    'The agent connects with a clean session and subscribes to `config/set`, `calibrate` and `ack`; its MQTT last will',
    'is `status` `offline` (retained). The reference receiver (`deepn receive`) subscribes to `+/frames` and `+/events/loss`',
    'and publishes `ack` and `results`.',
    '',
    '## Ids',
    '',
    `**Device id**: ${DEVICE_ID_RULE} (\`${DEVICE_ID_PATTERN.source}\`). It is a topic level and the receiver's folder`,
    'name, so it can hold no MQTT wildcard or separator and is never `.`, `..` or an option-like `-name`. The agent refuses',
    'any other in its configuration, the receiver refuses frames under any other, push-table refuses to address one.',
    `An empty \`deviceId\` means the host name, made into a device id (\`my pi\` → \`${deviceIdFromHostname('my pi')}\`).`,
    `Examples: ${sample(['cam-01', 'constructor', '_cam', '-cam', '..', 'a/b', '+', '#', 'caméra', long], isDeviceId)}.`,
    '',
    `**Table id**: ${TABLE_ID_RULE} (\`${TABLE_ID_PATTERN.source}\`). Used by pushed tables, \`encoder.table\`, table files and`,
    `push-table. Examples: ${sample(['natural-deepn', 'fmnist-optimized', '.5', 'no spaces', 'constructor', long], isTableId)}.`,
    '',
    '## Requests and responses',
    '',
    "The request topics (`config/set`, `calibrate`) share one envelope, after zigbee2mqtt's `bridge/request/*` →",
    "`bridge/response/*`. A request is a JSON object with an optional transaction `id` and the topic's fields; its",
    'response comes on the paired topic (`config/result`, `calibration`), QoS 1, not retained:',
    '',
    '```json',
    buildConfigResult(configApplied('req-7', ['capture.intervalMs'])),
    buildConfigResult(configRejected(null, 'not UTF-8 JSON: the bytes are not valid UTF-8')),
    '```',
    '',
    '| Field | Description |',
    '| --- | --- |',
    ...Object.entries(ENVELOPE_FIELDS).map(([f, d]) => `| \`${f}\` | ${cell(d)} |`),
    '',
    'Every request is checked the same way, in this order, and refused with a reason naming what is wrong: at most',
    '`mqtt.maxConfigBytes` bytes; strict UTF-8 JSON; an object; `id` absent, a number, or a string of at most',
    `${MAX_REQUEST_ID} characters; no field the topic does not define; then the topic's own fields. Once the \`id\` could be read, the`,
    'error response carries it. Compatibility: an `ok` response also repeats the fields of `data` at the top level, the',
    'shape agents sent before the envelope (`{ id, ok, applied }`, `{ id, ok, state, table, report }`); new backends',
    'should read `status` and `data`. The parsers read both shapes.',
    '',
    '## Messages',
    '',
  )
  for (const m of MESSAGES) lines.push(...messageSection(m))
  lines.push(...homeAssistantSection())
  const missing = TOPICS.filter((t) => !MESSAGES.some((m) => m.leaf === t.leaf))
  if (missing.length) throw new Error(`doc: no section for topic(s) ${missing.map((t) => t.leaf).join(', ')}`)
  return lines.join('\n')
}

/** The discovery topics: under Home Assistant's prefix, not the project's, so not in TOPICS. */
function homeAssistantSection(): string[] {
  const msgs = discoveryMessages({
    prefix: DEFAULT_PREFIX,
    deviceId: 'cam-01',
    discoveryPrefix: DEFAULT_DISCOVERY_PREFIX,
    version: '0.1.0',
  })
  const reads = (c: Record<string, unknown>): string => {
    const from = (c.topic ?? c.state_topic) as string
    return `\`${from.slice(from.indexOf('/', DEFAULT_PREFIX.length + 1) + 1)}\`${c.value_template ? ` \`${c.value_template}\`` : ''}`
  }
  const out = [
    '## Home Assistant discovery',
    '',
    `With \`homeassistant.enabled\` the agent announces itself to Home Assistant's MQTT discovery: retained, QoS 1, under`,
    `\`homeassistant.prefix\` (\`${DEFAULT_DISCOVERY_PREFIX}\`), one config topic per entity,`,
    '`<discovery prefix>/<component>/<node id>/<object id>/config`. The node id is the device id (a dotted one: `.` → `_`',
    'plus a hash of the id); unique ids are `deepn_<deviceId>_<object id>`; all entities share one device',
    '(`identifiers: ["deepn_<deviceId>"]`) and are available while `status` is not `offline` (the last will). Turning the',
    'key off publishes an empty retained payload to each, which removes the entities; the agent also stays subscribed to',
    '`<discovery prefix>/+/<node id>/+/config` and clears any config there it does not announce now.',
    '',
    '| Config topic (device `cam-01`) | Entity | Reads |',
    '| --- | --- | --- |',
    ...msgs.map((m) => `| \`${m.topic}\` | ${m.component} ${cell(m.config.name)} | ${cell(reads(m.config))} |`),
    '',
  ]
  for (const m of msgs.filter((x) => x.objectId === 'camera' || x.objectId === 'backlog_bytes')) {
    out.push(`\`${m.topic}\`:`, '', '```json', JSON.stringify(m.config, null, 2), '```', '')
  }
  return out
}
