/**
 * The MQTT message contract between an agent and any backend. Topic layout: `<prefix>/<deviceId>/<leaf>`,
 * prefix `deepn` by default. Pure: no I/O.
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
  /** Agent → backend: `{ id, ok, error? }` for every config/set request. */
  configResult: 'config/result',
  /** Agent → backend: retained reported configuration `{ version, config }`. */
  config: 'config',
  /** Receiver → agent: `{ seq }`, highest contiguous seq durably stored (end-to-end ack mode). */
  ack: 'ack',
  /** Backend → agent: start/cancel on-device calibration `{ id?, frames?, seconds?, scale? }` or `{ id?, cancel: true }`. */
  calibrate: 'calibrate',
  /** Agent → backend: calibration progress and result `{ id, ok, state, table?, report?, error? }`. */
  calibration: 'calibration',
  /** Receiver → world: classification results. */
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
  if (!t.startsWith(prefix + '/')) return undefined
  const rest = t.slice(prefix.length + 1)
  const slash = rest.indexOf('/')
  if (slash <= 0) return undefined
  return { deviceId: rest.slice(0, slash), leaf: rest.slice(slash + 1) }
}

/** Metadata every published frame carries (JPEG APP9 segment, and MQTT 5 user properties when available). */
export interface FrameMetadata {
  seq: number
  capturedAt: string
  tableId: string
  deviceId: string
  width: number
  height: number
  /**
   * `quantDigest()` of the file: each component's quantization steps and sampling. Equal digests, same lossy step;
   * tells apart frames whose table id is the same but whose steps differ (a table re-pushed under its id). Absent
   * from frames of agents before it existed.
   */
  quantDigest?: string
}

export interface StatusMessage {
  /**
   * `online`: connected, every frame is kept. `degraded`: connected, but the buffer is dropping or refusing frames
   * (see `reason`); back to `online` once none has been lost for a few seconds. `offline`: stopped or gone (the
   * last will).
   */
  state: 'online' | 'degraded' | 'offline'
  deviceId: string
  version?: string
  /** When this state began (ISO time). */
  since?: string
  /** `degraded` only: why frames are lost, e.g. `less than 157286 bytes free on the buffer's filesystem (buffer.minFreePercent): oldest unsent frames dropped (drop-oldest)`. */
  reason?: string
}

/** An inclusive seq range. */
export interface SeqSpan {
  from: number
  to: number
}

/** `events/loss`: what the agent knows it lost at start-up. No seq below `resumesAt` missing at the backend will come. */
export interface BufferLossMessage {
  deviceId: string
  /** When the damage was found (ISO time). */
  at: string
  /** `corrupt-database`: the file failed its check and was moved aside; `database-lost`: the file has no record of
   * seqs the sidecar says were used (deleted, replaced, or its -wal truncated); `power-loss`: an unclean end on an
   * earlier boot under synchronous=NORMAL, whose last commits may be gone. */
  cause: 'corrupt-database' | 'database-lost' | 'power-loss'
  detail: string
  /** Buffered (unacknowledged) frames that are gone for good; `frames` of them existed in the range. */
  lost?: SeqSpan & { frames: number }
  /** Seqs that were lost or never used: the agent cannot tell which; either way they will not come. */
  unknown?: SeqSpan
  /** Seqs never given to a frame (the rest of the sidecar's lease block). */
  skipped?: SeqSpan
  /** The first seq of the fresh buffer. */
  resumesAt: number
  /** Where the damaged files were moved (never deleted). */
  movedTo?: string[]
}

export interface ConfigResult {
  id: string | null
  ok: boolean
  error?: string
  applied?: string[]
}

export interface AckMessage {
  seq: number
}

/** Receiver → world on `results`: one classification per stored frame (added by the receiver). */
export interface ResultMessage {
  seq: number
  /** Class name when the model has labels, else the class index as a string. */
  label: string
  index: number
  /** Probability of the winning class (softmax of the model's output unless it already sums to 1). */
  score: number
  deviceId: string
  capturedAt: string
  tableId: string
  /** The frame's quantDigest (recomputed by the receiver from the file). */
  quantDigest: string
  /** Model file name. */
  model: string
  inferenceMs: number
}
