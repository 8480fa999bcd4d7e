/**
 * The MQTT topics between an agent and any backend. Topic layout: `<prefix>/<deviceId>/<leaf>`, prefix `deepn`
 * by default; `TOPICS` says for each leaf who publishes it, whether it is retained, its QoS and its payload
 * (docs/protocol.md is rendered from it). Pure: no I/O.
 */
export const DEFAULT_PREFIX = 'deepn'

export const Leaf = {
  /** JPEG file bytes, QoS 1; metadata inside the JPEG's APP9 "DEEPN" segment (see shared/codec/metadata.ts). */
  frames: 'frames',
  /** Retained JSON StatusMessage: online, degraded (frames being dropped or refused, with a reason); last will says offline. */
  status: 'status',
  /** Periodic JSON telemetry. */
  telemetry: 'telemetry',
  /** Backend → agent: partial desired configuration, JSON `{ id?, config }`. */
  configSet: 'config/set',
  /** Agent → backend: the response envelope for every config/set request. */
  configResult: 'config/result',
  /** Agent → backend: retained reported configuration `{ version, config }`. */
  config: 'config',
  /** Receiver → agent: `{ seq }`, highest contiguous seq durably stored (end-to-end ack mode). */
  ack: 'ack',
  /** Backend → agent: start/cancel on-device calibration `{ id?, frames?, seconds?, scale? }` or `{ id?, cancel: true }`. */
  calibrate: 'calibrate',
  /** Agent → backend: the response envelope for every calibrate request (started, then done or cancelled). */
  calibration: 'calibration',
  /** Receiver → world: classification or detection results. */
  results: 'results',
  /**
   * Agent → backend, retained, QoS 1: BufferLossMessage, frames lost to buffer damage found at start-up (corrupt
   * file, lost database or WAL, power cut) and the seqs never used, so a backend stops waiting for them.
   */
  loss: 'events/loss',
} as const

export type LeafName = (typeof Leaf)[keyof typeof Leaf]

export function topic(prefix: string, deviceId: string, leaf: LeafName): string {
  return `${prefix}/${deviceId}/${leaf}`
}

/** Parses `<prefix>/<deviceId>/<leaf...>`; returns undefined for topics outside the contract. */
export function parseTopic(prefix: string, t: string): { deviceId: string; leaf: string } | undefined {
  if (!t.startsWith(`${prefix}/`)) return undefined
  const rest = t.slice(prefix.length + 1)
  const slash = rest.indexOf('/')
  if (slash <= 0) return undefined
  return { deviceId: rest.slice(0, slash), leaf: rest.slice(slash + 1) }
}

export interface TopicSpec {
  leaf: LeafName
  from: 'agent' | 'backend' | 'receiver'
  to: 'agent' | 'backend' | 'world'
  retained: boolean
  qos: 0 | 1
  /** Payload type (`image/jpeg` or the JSON message's type name in shared/contract). */
  payload: string
  /** The contract functions that build and parse it. */
  code: string
  doc: string
}

/** Every topic of the protocol. */
export const TOPICS: readonly TopicSpec[] = [
  {
    leaf: Leaf.frames,
    from: 'agent',
    to: 'backend',
    retained: false,
    qos: 1,
    payload: 'image/jpeg',
    code: 'frameMetadataRecord, frameUserProperties / readFrameMetadata, parseFrameMetadata',
    doc: 'One baseline JPEG per frame, oldest first, carrying its FrameMetadata in an APP9 `DEEPN\\0` segment (and, over MQTT 5, as user properties). Delivery is at least once: de-duplicate by (deviceId, seq).',
  },
  {
    leaf: Leaf.status,
    from: 'agent',
    to: 'backend',
    retained: true,
    qos: 1,
    payload: 'StatusMessage',
    code: 'statusMessage, buildStatus / parseStatus',
    doc: '`online` on every connect; `degraded` with a `reason` while the buffer drops or refuses frames; `offline` on a clean stop and as the MQTT last will.',
  },
  {
    leaf: Leaf.telemetry,
    from: 'agent',
    to: 'backend',
    retained: false,
    qos: 0,
    payload: 'TelemetryMessage',
    code: 'buildTelemetry / parseTelemetry',
    doc: 'Health report every `telemetry.intervalMs` and on every connect.',
  },
  {
    leaf: Leaf.configSet,
    from: 'backend',
    to: 'agent',
    retained: false,
    qos: 1,
    payload: 'ConfigSetRequest',
    code: 'buildConfigSet / parseConfigSet',
    doc: 'A request: a partial configuration (remote keys only, docs/config.md), applied live and persisted. May be published retained to reach an offline device.',
  },
  {
    leaf: Leaf.configResult,
    from: 'agent',
    to: 'backend',
    retained: false,
    qos: 1,
    payload: 'ConfigResult',
    code: 'configApplied, configRejected, buildConfigResult / parseConfigResult',
    doc: 'The response to each `config/set`: `data.applied` lists the keys that changed, or `error` says why nothing changed.',
  },
  {
    leaf: Leaf.config,
    from: 'agent',
    to: 'backend',
    retained: true,
    qos: 1,
    payload: 'ConfigReport',
    code: 'buildConfigReport / parseConfigReport',
    doc: 'The configuration in force (secrets redacted), on every connect and after every applied change.',
  },
  {
    leaf: Leaf.ack,
    from: 'receiver',
    to: 'agent',
    retained: false,
    qos: 1,
    payload: 'AckMessage',
    code: 'buildAck / parseAck',
    doc: '`delivery: e2e-ack` only: every frame through `seq` is durably stored; the agent releases them from its buffer. Never retained: it would outlive the dataset it speaks for.',
  },
  {
    leaf: Leaf.calibrate,
    from: 'backend',
    to: 'agent',
    retained: false,
    qos: 1,
    payload: 'CalibrateRequest',
    code: 'buildCalibrateRequest / parseCalibrateRequest',
    doc: 'A request: collect DCT statistics from the next frames and build a DeepN table, or cancel the calibration running.',
  },
  {
    leaf: Leaf.calibration,
    from: 'agent',
    to: 'backend',
    retained: false,
    qos: 1,
    payload: 'CalibrationResponse',
    code: 'calibrationOk, calibrationFailed, buildCalibrationResponse / parseCalibrationResponse',
    doc: 'Responses to `calibrate`: `started` at once, then `done` with `table` and `report` (or `cancelled`), or an error.',
  },
  {
    leaf: Leaf.loss,
    from: 'agent',
    to: 'backend',
    retained: true,
    qos: 1,
    payload: 'BufferLossMessage',
    code: 'buildLossMessage / parseLossMessage',
    doc: 'Frames lost to buffer damage found at start-up, and seqs never used: seqs in these ranges will not come.',
  },
  {
    leaf: Leaf.results,
    from: 'receiver',
    to: 'world',
    retained: false,
    qos: 1,
    payload: 'ResultMessage or DetectionResultMessage',
    code: 'buildResult, buildDetectionResult / parseResult, parseDetectionResult',
    doc: '`deepn receive --model`: one classification per newly stored frame; `deepn demo --video`: one detection result (every object found) per stored frame.',
  },
]

// The message types, for code that imported them from here before each message had its own file.
export type { FrameMetadata } from './frame-metadata'
export type { StatusMessage } from './status'
export type { SeqSpan, BufferLossMessage } from './loss'
export type { ConfigResult } from './config-messages'
export type { AckMessage } from './ack'
export type { DetectionResultMessage, ResultMessage } from './results'
export type { TelemetryMessage } from './telemetry'
