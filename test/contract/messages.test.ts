/**
 * Every message of the protocol round-trips through its builder and its parser, and a malformed one is refused
 * with a ContractError whose message and `field` name what is wrong.
 */
import t, { type Test } from 'tap'
import { metadataSegment } from '../../shared/codec/metadata'
import {
  ContractError,
  buildAck,
  buildCalibrateRequest,
  buildCalibrationResponse,
  buildConfigReport,
  buildConfigResult,
  buildConfigSet,
  buildDetectionResult,
  buildLossMessage,
  buildResult,
  buildStatus,
  buildTelemetry,
  calibrationFailed,
  calibrationOk,
  configApplied,
  configRejected,
  frameMetadataRecord,
  frameUserProperties,
  parseAck,
  parseCalibrateRequest,
  parseCalibrationResponse,
  parseConfigReport,
  parseConfigResult,
  parseConfigSet,
  parseDetectionResult,
  parseFrameMetadata,
  parseFrameUserProperties,
  parseLossMessage,
  parseResult,
  parseStatus,
  parseTelemetry,
  readFrameMetadata,
  statusMessage,
  type BufferLossMessage,
  type DetectionResultMessage,
  type FrameMetadata,
  type ResultMessage,
  type TelemetryMessage,
} from '../../shared/contract'
import { stampMetadata } from '../../agent/pipeline/stamp'
import { makeFrame } from '../backend/receive/helpers/frames'
import { stripSegment } from '../helpers/jpeg-segments'

/** Asserts `fn` throws a ContractError naming `field` in its `field` and its message. */
function refuses(t: Test, fn: () => unknown, field: string, re: RegExp, name: string): void {
  let err: unknown
  try {
    fn()
  } catch (e) {
    err = e
  }
  t.ok(err instanceof ContractError, `${name}: refused with a ContractError`, { err })
  if (!(err instanceof ContractError)) return
  t.equal(err.field, field, `${name}: names the field '${field}'`)
  t.match(err.message, re, `${name}: ${err.message}`)
  t.ok(err.message.includes(field.split('.').pop()!), `${name}: the message names '${field}'`)
}

const META: Required<FrameMetadata> = {
  seq: 42,
  capturedAt: '2026-12-02T06:00:00.000Z',
  tableId: 'natural-deepn*1.3',
  deviceId: 'cam-1',
  width: 32,
  height: 24,
  quantDigest: '0123456789abcdef',
  keepMap: 'lot-a.v3',
}

t.test('frame metadata: APP9 record, user properties and the stamped JPEG read back the same', async (t) => {
  t.same(parseFrameMetadata(frameMetadataRecord(META)), META)
  t.same(
    Object.keys(frameMetadataRecord(META)),
    ['seq', 'capturedAt', 'tableId', 'deviceId', 'width', 'height', 'quantDigest', 'keepMap'],
    'documented field order',
  )
  t.same(parseFrameUserProperties(frameUserProperties(META)), META)
  t.same(frameUserProperties(META).seq, '42', 'user properties are strings')
  const { quantDigest: _, keepMap: __, ...old } = META
  t.same(parseFrameMetadata(frameMetadataRecord(old)), old, 'agents before quantDigest')
  const { keepMap: ___, ...noMap } = META
  t.same(parseFrameMetadata(frameMetadataRecord(noMap)), noMap, 'no keep map: no field')
  t.notOk('keepMap' in frameUserProperties(noMap), 'nor user property')
  const jpeg = stripSegment(makeFrame({ deviceId: 'cam-1', seq: 1 }), 0xe9)
  t.same(readFrameMetadata(stampMetadata(jpeg, META)), META, 'stamped into a real JPEG and read back')
  t.equal(readFrameMetadata(jpeg), undefined, 'no segment: undefined')
  t.same(
    parseFrameMetadata({ ...frameMetadataRecord(META), futureField: 1 }),
    META,
    'fields of newer agents are ignored',
  )
  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['seq', { seq: -1 }, /metadata seq must be a non-negative integer, got -1/],
    ['seq', { seq: '1' }, /seq must be a non-negative integer, got "1"/],
    ['capturedAt', { capturedAt: 'yesterday' }, /capturedAt must be an ISO date-time string/],
    ['tableId', { tableId: 7 }, /tableId must be a string/],
    ['deviceId', { deviceId: null }, /deviceId must be a string, got null/],
    ['width', { width: 0 }, /width must be a positive integer, got 0/],
    ['height', { height: 2.5 }, /height must be a positive integer/],
    ['quantDigest', { quantDigest: 'XYZ' }, /quantDigest must be 16 lowercase hex digits/],
    ['keepMap', { keepMap: 'a/b' }, /keepMap must be a keep map id/],
    ['keepMap', { keepMap: 3 }, /keepMap must be a keep map id/],
  ]
  for (const [field, patch, re] of bad)
    refuses(t, () => parseFrameMetadata({ ...frameMetadataRecord(META), ...patch }), field, re, `metadata ${field}`)
  refuses(
    t,
    () => parseFrameUserProperties({ ...frameUserProperties(META), width: 'wide' }),
    'width',
    /width must be a positive integer, got "wide"/,
    'user property width',
  )
  refuses(t, () => readFrameMetadata(stampMetadata(jpeg, { ...META, seq: 1.5 })), 'seq', /seq/, 'stamped bad seq')
  t.throws(() => metadataSegment({ big: 'x'.repeat(70000) }), /one APP9 segment holds at most/)
})

t.test('ack', async (t) => {
  t.same(parseAck(buildAck(0)), { seq: 0 })
  t.same(parseAck(Buffer.from(buildAck(123456))), { seq: 123456 })
  refuses(t, () => parseAck('{"seq": -1}'), 'seq', /ack 'seq' must be a non-negative integer, got -1/, 'negative')
  refuses(t, () => parseAck('{}'), 'seq', /'seq' must be a non-negative integer, got nothing/, 'missing')
  refuses(t, () => parseAck('{"seq": 1e300}'), 'seq', /'seq'/, 'unsafe integer')
  t.throws(() => parseAck('[1]'), /expected a JSON object \{"seq": <integer>\}, got an array/)
  t.throws(() => parseAck(Buffer.from([0x7b, 0xff, 0x7d])), /not UTF-8 JSON: the bytes are not valid UTF-8/)
})

t.test('status', async (t) => {
  const since = new Date('2026-12-02T06:00:00Z')
  for (const m of [
    statusMessage('online', 'cam-1', { version: '0.1.0', since }),
    statusMessage('degraded', 'cam-1', { version: '0.1.0', since, reason: 'disk full' }),
    statusMessage('offline', 'cam-1'),
  ]) {
    t.same(parseStatus(buildStatus(m)), m, m.state)
  }
  refuses(
    t,
    () => parseStatus('{"state":"sleeping","deviceId":"c"}'),
    'state',
    /'state' must be one of 'online', 'degraded', 'offline', got "sleeping"/,
    'state',
  )
  refuses(t, () => parseStatus('{"state":"online"}'), 'deviceId', /'deviceId' must be a non-empty string/, 'deviceId')
  refuses(t, () => parseStatus('{"state":"online","deviceId":"c","since":"then"}'), 'since', /ISO date-time/, 'since')
})

const TELEMETRY: TelemetryMessage = {
  deviceId: 'cam-1',
  at: '2026-12-02T06:00:00.000Z',
  version: '0.1.0',
  uptimeSec: 61,
  backlog: { frames: 3, bytes: 60000 },
  counters: {
    captured: 10,
    published: 7,
    dropped: 0,
    rejected: 0,
    expired: 0,
    setAside: 0,
    captureErrors: 1,
    publishErrors: 0,
    bufferRecoveries: 0,
    lostFrames: 0,
  },
  encodeMs: { p50: 4.5, p95: 9.25 },
  encoderKernel: 'wasm-simd',
  meanBytesPerFrame: 20000,
  keepMap: { id: 'lot-a.v3', fullShare: 0.25 },
  memory: { rss: 50_000_000, heapUsed: 9_000_000 },
  mqtt: { protocol: '5', maxPacketSize: 268435455 },
  delivery: 'puback',
  lastError: { at: '2026-12-02T05:59:00.000Z', message: 'camera timeout' },
}

t.test('telemetry', async (t) => {
  t.same(parseTelemetry(buildTelemetry(TELEMETRY)), TELEMETRY)
  const { lastError: _l, meanBytesPerFrame: _m, keepMap: _k, ...minimal } = { ...TELEMETRY, encodeMs: {}, mqtt: {} }
  t.same(parseTelemetry(buildTelemetry(minimal as TelemetryMessage)), minimal, 'optional parts absent')
  const bad = (patch: object): string => JSON.stringify({ ...TELEMETRY, ...patch })
  refuses(
    t,
    () => parseTelemetry(bad({ counters: { ...TELEMETRY.counters, published: -1 } })),
    'counters.published',
    /telemetry 'counters\.published' must be a non-negative integer/,
    'counter',
  )
  refuses(
    t,
    () => parseTelemetry(bad({ encoderKernel: 'gpu' })),
    'encoderKernel',
    /one of 'wasm-simd', 'typescript'/,
    'kernel',
  )
  refuses(t, () => parseTelemetry(bad({ backlog: 5 })), 'backlog', /'backlog' must be an object, got 5/, 'backlog')
  refuses(
    t,
    () => parseTelemetry(bad({ mqtt: { protocol: '4' } })),
    'mqtt.protocol',
    /'mqtt\.protocol' must be one of '5', '3\.1\.1'/,
    'protocol',
  )
  refuses(
    t,
    () => parseTelemetry(bad({ keepMap: { id: 'lot-a', fullShare: 1.5 } })),
    'keepMap.fullShare',
    /'keepMap\.fullShare' must be a share between 0 and 1, got 1\.5/,
    'keepMap share',
  )
  refuses(t, () => parseTelemetry(bad({ keepMap: { fullShare: 0.5 } })), 'keepMap.id', /'keepMap\.id'/, 'keepMap id')
})

const LOSS: BufferLossMessage = {
  deviceId: 'cam-1',
  at: '2026-12-02T06:00:00.000Z',
  cause: 'corrupt-database',
  detail: 'integrity check failed',
  lost: { from: 38, to: 56, frames: 19 },
  skipped: { from: 57, to: 1024 },
  resumesAt: 1025,
  movedTo: ['/data/buffer.db.corrupt-1'],
}

t.test('events/loss', async (t) => {
  t.same(parseLossMessage('cam-1', buildLossMessage(LOSS)), LOSS)
  const unknown: BufferLossMessage = {
    deviceId: 'cam-1',
    at: LOSS.at,
    cause: 'database-lost',
    detail: 'd',
    unknown: { from: 1, to: 99 },
    resumesAt: 100,
  }
  t.same(parseLossMessage('cam-1', buildLossMessage(unknown)), unknown)
  const bad = (patch: object): string => JSON.stringify({ ...LOSS, ...patch })
  refuses(
    t,
    () => parseLossMessage('cam-2', buildLossMessage(LOSS)),
    'deviceId',
    /deviceId 'cam-1' differs from the topic's 'cam-2'/,
    'deviceId',
  )
  refuses(
    t,
    () => parseLossMessage('..', bad({ deviceId: '..' })),
    'deviceId',
    /loss event deviceId: device id '\.\.' is not usable as a folder name/,
    'a device id outside the rule',
  )
  refuses(t, () => parseLossMessage('cam-1', bad({ cause: 'x' })), 'cause', /unknown cause 'x'/, 'cause')
  refuses(
    t,
    () => parseLossMessage('cam-1', bad({ skipped: { from: 9, to: 3 } })),
    'skipped',
    /'skipped' must be \{from, to\}/,
    'skipped',
  )
  refuses(
    t,
    () => parseLossMessage('cam-1', bad({ lost: { from: 1, to: 3 } })),
    'lost.frames',
    /'lost\.frames' must be a non-negative integer/,
    'lost.frames',
  )
  refuses(
    t,
    () => parseLossMessage('cam-1', bad({ resumesAt: 0 })),
    'resumesAt',
    /'resumesAt' must be a positive integer, got 0/,
    'resumesAt',
  )
  refuses(
    t,
    () => parseLossMessage('cam-1', bad({ movedTo: 'x' })),
    'movedTo',
    /'movedTo' must be an array of paths/,
    'movedTo',
  )
})

t.test('results', async (t) => {
  const r: ResultMessage = {
    seq: 4,
    label: 'sneaker',
    index: 7,
    score: 0.93,
    deviceId: 'cam-1',
    capturedAt: META.capturedAt,
    tableId: 't',
    quantDigest: META.quantDigest,
    model: 'fmnist-cnn.onnx',
    inferenceMs: 3.25,
  }
  t.same(parseResult(buildResult(r)), r)
  refuses(
    t,
    () => parseResult(JSON.stringify({ ...r, score: 'high' })),
    'score',
    /'score' must be a number, got "high"/,
    'score',
  )
})

t.test('detection results', async (t) => {
  const r: DetectionResultMessage = {
    seq: 9,
    deviceId: 'cam-1',
    capturedAt: META.capturedAt,
    tableId: 'vtest-ssd',
    quantDigest: META.quantDigest!,
    model: 'coco-ssd',
    inferenceMs: 212.5,
    detections: [
      { class: 'person', score: 0.91, bbox: [10, 20, 30, 80] },
      { class: 'car', score: 0.6, bbox: [300.5, 200, 120, 60] },
    ],
  }
  t.same(parseDetectionResult(buildDetectionResult(r)), r)
  t.same(parseDetectionResult(buildDetectionResult({ ...r, detections: [] })).detections, [], 'nothing found')
  refuses(
    t,
    () => parseDetectionResult(JSON.stringify({ ...r, detections: 'none' })),
    'detections',
    /'detections' must be an array of \{class, score, bbox\}/,
    'detections',
  )
  refuses(
    t,
    () => parseDetectionResult(JSON.stringify({ ...r, detections: [{ class: 'car', score: 0.5, bbox: [1, 2, 3] }] })),
    'detections.0.bbox',
    /'detections\.0\.bbox' must be an array of 4 numbers/,
    'short bbox',
  )
  refuses(
    t,
    () => parseResult(buildDetectionResult(r)),
    'label',
    /'label' must be a string/,
    'a classification parser refuses a detection result',
  )
})

t.test('config/set, config/result and the config report', async (t) => {
  t.same(parseConfigSet(buildConfigSet('r1', { capture: { width: 96 } }), 1000), {
    id: 'r1',
    config: { capture: { width: 96 } },
  })
  t.same(parseConfigSet(buildConfigSet(undefined, {}), 1000), { id: null, config: {} })
  refuses(t, () => parseConfigSet('{"id":"r2"}', 1000), 'config', /missing 'config'/, 'config')

  const ok = configApplied('r1', ['capture.width'])
  t.same(parseConfigResult(buildConfigResult(ok)), {
    id: 'r1',
    status: 'ok',
    data: { applied: ['capture.width'] },
    ok: true,
  })
  t.same(
    JSON.parse(buildConfigResult(ok)),
    { id: 'r1', status: 'ok', data: { applied: ['capture.width'] }, ok: true, applied: ['capture.width'] },
    'the envelope plus the fields backends read before it',
  )
  const no = configRejected(null, "unknown key 'nope'")
  t.same(parseConfigResult(buildConfigResult(no)), no)
  t.same(JSON.parse(buildConfigResult(no)), { id: null, status: 'error', error: "unknown key 'nope'", ok: false })
  t.same(
    parseConfigResult('{"id":"old","ok":true,"applied":["delivery"]}'),
    { id: 'old', status: 'ok', data: { applied: ['delivery'] }, ok: true },
    'an agent before the envelope',
  )
  t.same(parseConfigResult('{"id":"old","ok":false,"error":"why"}'), {
    id: 'old',
    status: 'error',
    error: 'why',
    ok: false,
  })
  refuses(
    t,
    () => parseConfigResult('{"id":"x","status":"maybe"}'),
    'status',
    /'status' must be one of 'ok', 'error'/,
    'status',
  )
  refuses(
    t,
    () => parseConfigResult('{"id":"x","status":"error"}'),
    'error',
    /'error' must be a non-empty string/,
    'error',
  )
  refuses(
    t,
    () => parseConfigResult('{"id":"x","status":"ok","data":{"applied":"all"}}'),
    'applied',
    /'applied' must be an array of key names/,
    'applied',
  )
  refuses(t, () => parseConfigResult('{"id":7,"status":"ok","data":{}}'), 'id', /'id' must be a string or null/, 'id')
  refuses(
    t,
    () => parseConfigResult('{"id":"x","status":"ok","ok":false,"data":{}}'),
    'ok',
    /'ok' must be true when 'status' is 'ok'/,
    'ok vs status',
  )

  t.same(parseConfigReport(buildConfigReport(3, { deviceId: 'cam-1' })), { version: 3, config: { deviceId: 'cam-1' } })
  refuses(
    t,
    () => parseConfigReport('{"version":-1,"config":{}}'),
    'version',
    /'version' must be a non-negative integer/,
    'version',
  )
})

t.test('calibrate and calibration', async (t) => {
  t.same(parseCalibrateRequest(buildCalibrateRequest({ id: 'c1', frames: 5, seconds: 2.5, scale: 1.5 }), 1000), {
    id: 'c1',
    frames: 5,
    seconds: 2.5,
    scale: 1.5,
  })
  t.same(parseCalibrateRequest(buildCalibrateRequest({ cancel: true }), 1000), { id: null, cancel: true })
  refuses(
    t,
    () => parseCalibrateRequest('{"frames": 0}', 1000),
    'frames',
    /'frames' must be an integer 1\.\.10000, got 0/,
    'frames',
  )
  refuses(
    t,
    () => parseCalibrateRequest('{"frames": 50}', 1000, 20),
    'frames',
    /'frames' must be an integer 1\.\.20, got 50/,
    "frames over the agent's limit",
  )
  refuses(
    t,
    () => parseCalibrateRequest('{"seconds": -1}', 1000),
    'seconds',
    /'seconds' must be a number in \(0, 86400\], got -1/,
    'seconds',
  )
  refuses(
    t,
    () => parseCalibrateRequest('{"scale": 33}', 1000),
    'scale',
    /'scale' must be a number in \(0, 32\]/,
    'scale',
  )
  refuses(
    t,
    () => parseCalibrateRequest('{"cancel": false}', 1000),
    'cancel',
    /'cancel' must be true when present/,
    'cancel',
  )

  const report = { frames: 3, seconds: 0.5, lumaSigma: [80] }
  const table = { id: 'calibrated-cam-1', luma: [1], chroma: [1] }
  for (const r of [
    calibrationOk('c1', { state: 'started', frames: 3, seconds: 10 }),
    calibrationOk('c1', { state: 'done', table, report }),
    calibrationOk('c1', { state: 'cancelled', frames: 0 }),
    calibrationOk(null, { state: 'cancelled', table, report }),
    calibrationFailed('c2', 'a calibration is already running'),
  ]) {
    const envelope = r.status === 'ok' ? { id: r.id, status: r.status, data: r.data, ok: r.ok } : r
    t.same(
      parseCalibrationResponse(buildCalibrationResponse(r)),
      envelope,
      `${r.status} ${r.status === 'ok' ? r.data.state : ''}`,
    )
  }
  t.match(
    JSON.parse(buildCalibrationResponse(calibrationOk('c1', { state: 'done', table, report }))),
    { id: 'c1', status: 'ok', ok: true, state: 'done', table, report, data: { state: 'done', table, report } },
    'old top-level fields kept',
  )
  t.same(
    parseCalibrationResponse('{"id":"c1","ok":true,"state":"started","frames":3}'),
    { id: 'c1', status: 'ok', data: { state: 'started', frames: 3 }, ok: true },
    'an agent before the envelope',
  )
  refuses(
    t,
    () => parseCalibrationResponse('{"id":"c1","status":"ok","data":{"state":"done","report":{"frames":1}}}'),
    'table',
    /'table' must be an object, got nothing/,
    'done without table',
  )
  refuses(
    t,
    () => parseCalibrationResponse('{"id":"c1","status":"ok","data":{"state":"paused"}}'),
    'state',
    /'state' must be one of 'started', 'done', 'cancelled'/,
    'state',
  )
})
