/**
 * The agent in-process (real Mosquitto, real SQLite file, real encoder, synthetic camera): frames arrive complete
 * and in order, remote config changes the next frames, oversized frames are re-encoded to fit.
 */
import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import jpeg from 'jpeg-js'
import { readJpegMetadata } from '../../shared/codec/metadata'
import { quantDigest } from '../../shared/codec/quant-digest'
import { validatePartial } from '../../shared/config'
import { createAgent } from '../../agent/commands/run'
import { loadLocalConfig } from '../../agent/config-file'
import { createLogger } from '../../agent/log'
import { memoryLogger } from '../helpers/log'
import { startMosquitto } from '../helpers/mosquitto'
import { subscribe, type Received } from '../helpers/subscriber'

const log = memoryLogger('warn')

function agentFor(
  url: string,
  extra: Record<string, unknown> = {},
  deviceId = `cam-${Math.random().toString(16).slice(2, 8)}`,
) {
  const dir = mkdtempSync(join(tmpdir(), 'deepn-agent-'))
  const env = {
    DEEPN_MQTT_URL: url,
    DEEPN_DEVICE_ID: deviceId,
    DEEPN__BUFFER__PATH: join(dir, 'buffer.db'),
    DEEPN_LOG_LEVEL: 'warn',
    DEEPN__CAPTURE__WIDTH: '64',
    DEEPN__CAPTURE__HEIGHT: '48',
    DEEPN__CAPTURE__INTERVAL_MS: '20',
  }
  const local = loadLocalConfig({ env })
  local.local = { ...local.local, ...validatePartial(extra, { remote: false }) }
  return { agent: createAgent(local, log), deviceId, dir }
}

const metaOf = (m: Received) => readJpegMetadata(new Uint8Array(m.payload)) as Record<string, unknown>

t.test('N frames arrive with contiguous seqs, decodable, with metadata and MQTT 5 properties', async (t) => {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const { agent, deviceId } = agentFor(broker.url, { capture: { maxFrames: 15 } })
  const sub = await subscribe(broker.url, [`deepn/${deviceId}/#`])
  t.teardown(() => sub.close())
  await agent.start()
  await sub.waitFor(() => sub.on('frames').length >= 15, 30000, '15 frames')
  await new Promise((r) => setTimeout(r, 300))
  const frames = sub.on('frames')
  t.equal(frames.length, 15, 'exactly the captured frames (no duplicates without a reconnect)')
  frames.forEach((m, i) => {
    const meta = metaOf(m)
    t.equal(meta.seq, i + 1, `seq ${i + 1}`)
    t.equal(meta.deviceId, deviceId)
    t.equal(meta.width, 64)
    const img = jpeg.decode(m.payload, { useTArray: true })
    t.equal(img.width, 64)
    t.equal(img.height, 48)
    t.equal(m.properties?.contentType, 'image/jpeg')
    t.equal(m.properties?.userProperties?.seq, String(i + 1))
    t.equal(meta.quantDigest, quantDigest(new Uint8Array(m.payload)), "quantDigest is the file's own")
    t.equal(m.properties?.userProperties?.quantDigest, meta.quantDigest)
  })
  t.equal(metaOf(frames[0]).tableId, 'natural-deepn', 'default: the shipped DeepN table')
  const status = sub.on('status')
  t.match(JSON.parse(status[0].payload.toString()), { state: 'online', deviceId })
  const reported = sub.on('config')
  t.ok(reported.length >= 1, 'reported config published')
  t.match(JSON.parse(reported[0].payload.toString()), { version: 0, config: { deviceId, capture: { width: 64 } } })
  await sub.waitFor(() => agent.stats.published === 15, 5000, 'published counter')
  t.equal(agent['o'].store.stats().frames, 0, 'PUBACKed frames left the buffer')
  await agent.stop()
  await sub.waitFor(
    () => sub.on('status').some((m) => JSON.parse(m.payload.toString()).state === 'offline'),
    5000,
    'offline status',
  )
})

t.test('remote config changes the next frames; bad requests are rejected with reasons', async (t) => {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const { agent, deviceId } = agentFor(broker.url)
  const sub = await subscribe(broker.url, [`deepn/${deviceId}/#`])
  t.teardown(() => sub.close())
  await agent.start()
  t.teardown(() => agent.stop())
  await sub.waitFor(() => sub.on('frames').length >= 3, 30000, 'first frames')
  const table = Array.from({ length: 64 }, (_, i) => 2 + (i % 7))
  await sub.client.publishAsync(
    `deepn/${deviceId}/config/set`,
    JSON.stringify({
      id: 'r1',
      config: {
        capture: { width: 96 },
        encoder: { table: 'pushed', tables: { pushed: { luma: table, chroma: table } } },
      },
    }),
    { qos: 1 },
  )
  await sub.waitFor(() => sub.on('config/result').length >= 1, 10000, 'config/result')
  const res = JSON.parse(sub.on('config/result')[0].payload.toString())
  t.match(res, { id: 'r1', ok: true })
  t.ok(res.applied.includes('capture.width'))
  await sub.waitFor(() => sub.on('frames').some((m) => metaOf(m).width === 96), 10000, 'a 96-wide frame')
  const first96 = sub.on('frames').find((m) => metaOf(m).width === 96)!
  t.equal(jpeg.decode(first96.payload).width, 96)
  t.equal(metaOf(first96).tableId, 'pushed')
  t.match(JSON.parse(sub.on('config').at(-1)!.payload.toString()), {
    version: 1,
    config: { capture: { width: 96 }, encoder: { table: 'pushed' } },
  })

  const bad: [unknown, RegExp][] = [
    [{ id: 'b1', config: { capture: { width: 'wide' } } }, /'capture\.width' must be a number/],
    [{ id: 'b2', config: { buffer: { path: '/tmp/evil.db' } } }, /'buffer\.path' cannot be set remotely \(file path\)/],
    [{ id: 'b3', config: { mqtt: { password: 'x' } } }, /cannot be set remotely \(credential\)/],
    [{ id: 'b4', config: { nope: 1 } }, /unknown key 'nope'/],
    [{ id: 'b5', config: { encoder: { table: 'missing' } } }, /no table 'missing'/],
    [{ id: 'b6', config: { capture: { width: 80 } }, extra: 1 }, /unknown field 'extra'/],
  ]
  for (const [doc] of bad)
    await sub.client.publishAsync(`deepn/${deviceId}/config/set`, JSON.stringify(doc), { qos: 1 })
  await sub.client.publishAsync(`deepn/${deviceId}/config/set`, 'not json{', { qos: 1 })
  await sub.client.publishAsync(`deepn/${deviceId}/config/set`, Buffer.alloc(70000, 32), { qos: 1 })
  await sub.waitFor(() => sub.on('config/result').length >= 1 + bad.length + 2, 10000, 'all results')
  const results = sub
    .on('config/result')
    .slice(1)
    .map((m) => JSON.parse(m.payload.toString()))
  for (const [doc, re] of bad) {
    const r = results.find((x) => x.id === (doc as { id: string }).id)
    t.equal(r?.ok, false, `${(doc as { id: string }).id} rejected`)
    t.match(r?.error, re)
  }
  t.match(
    results.find((x) => /not UTF-8 JSON/.test(x.error ?? '')),
    { id: null, ok: false },
  )
  t.match(
    results.find((x) => /limit is 65536/.test(x.error ?? '')),
    { id: null, ok: false },
  )
  t.equal(agent.config.capture.width, 96, 'nothing changed')
  t.equal(agent.version, 1)

  // The same id pushed again with other steps: the id stays, the digest tells the frames apart.
  const finer = table.map((v) => v - 1)
  await sub.client.publishAsync(
    `deepn/${deviceId}/config/set`,
    JSON.stringify({
      id: 'r2',
      config: { encoder: { tables: { pushed: { luma: finer, chroma: finer } } } },
    }),
    { qos: 1 },
  )
  await sub.waitFor(
    () => sub.on('config/result').some((m) => JSON.parse(m.payload.toString()).id === 'r2'),
    10000,
    'r2 result',
  )
  const before = metaOf(first96).quantDigest
  await sub.waitFor(
    () => sub.on('frames').some((m) => metaOf(m).tableId === 'pushed' && metaOf(m).quantDigest !== before),
    10000,
    'a frame with the re-pushed steps',
  )
  const repushed = sub.on('frames').find((m) => metaOf(m).tableId === 'pushed' && metaOf(m).quantDigest !== before)!
  t.equal(metaOf(repushed).quantDigest, quantDigest(new Uint8Array(repushed.payload)))
  t.ok(
    sub
      .on('frames')
      .filter((m) => metaOf(m).tableId === 'pushed')
      .every((m) => [before, metaOf(repushed).quantDigest].includes(metaOf(m).quantDigest)),
    'two digests under one id, one per pushed table',
  )
})

t.test('frames over mqtt.maxPayloadBytes are re-encoded coarser until they fit', async (t) => {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const { agent, deviceId } = agentFor(broker.url, {
    capture: { maxFrames: 4, width: 320, height: 240 },
    encoder: { table: '', quality: 95 },
  })
  // Find the natural size first, then cap below it.
  const sub = await subscribe(broker.url, [`deepn/${deviceId}/frames`])
  t.teardown(() => sub.close())
  const probe = agentFor(
    broker.url,
    { capture: { maxFrames: 1, width: 320, height: 240 }, encoder: { table: '', quality: 95 } },
    `${deviceId}p`,
  )
  const psub = await subscribe(broker.url, [`deepn/${deviceId}p/frames`])
  await probe.agent.start()
  await psub.waitFor(() => psub.on('frames').length >= 1, 20000, 'probe frame')
  const natural = psub.on('frames')[0].payload.length
  await probe.agent.stop()
  await psub.close()
  const cap = Math.floor(natural * 0.6)
  agent.applyRemote(validatePartial({ mqtt: { maxPayloadBytes: cap } }, { remote: true }))
  await agent.start()
  t.teardown(() => agent.stop())
  await sub.waitFor(() => sub.on('frames').length >= 4, 20000, '4 frames')
  for (const m of sub.on('frames')) {
    t.ok(m.payload.length <= cap, `${m.payload.length} <= ${cap}`)
    t.match(metaOf(m).tableId, /^q95\*/, 'tableId records the coarser scale')
    t.equal(jpeg.decode(m.payload).width, 320)
  }
  t.same(
    sub.on('frames').map((m) => metaOf(m).seq),
    [1, 2, 3, 4],
  )
})

t.test('remote config persists across a restart; telemetry reports counters, backlog and encode times', async (t) => {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const deviceId = `persist-${Math.random().toString(16).slice(2, 8)}`
  const dir = mkdtempSync(join(tmpdir(), 'deepn-agent-'))
  const env = {
    DEEPN_MQTT_URL: broker.url,
    DEEPN_DEVICE_ID: deviceId,
    DEEPN__BUFFER__PATH: join(dir, 'buffer.db'),
    DEEPN_LOG_LEVEL: 'warn',
    DEEPN__CAPTURE__WIDTH: '64',
    DEEPN__CAPTURE__HEIGHT: '48',
    DEEPN__CAPTURE__INTERVAL_MS: '50',
  }
  const sub = await subscribe(broker.url, [`deepn/${deviceId}/#`])
  t.teardown(() => sub.close())
  const first = createAgent(loadLocalConfig({ env }), log)
  t.teardown(() => first.stop())
  await first.start()
  await sub.waitFor(() => sub.on('config').length >= 1, 10000, 'reported config (the agent is subscribed)')
  await sub.client.publishAsync(
    `deepn/${deviceId}/config/set`,
    JSON.stringify({ id: 'p1', config: { capture: { width: 80 }, telemetry: { intervalMs: 1000 } } }),
    { qos: 1 },
  )
  await sub.waitFor(() => sub.on('config/result').length >= 1, 10000, 'result')
  t.match(JSON.parse(sub.on('config/result')[0].payload.toString()), { id: 'p1', ok: true })
  await sub.waitFor(() => sub.on('telemetry').length >= 1, 10000, 'telemetry')
  const tm = JSON.parse(sub.on('telemetry').at(-1)!.payload.toString())
  t.match(tm, {
    deviceId,
    backlog: { frames: Number, bytes: Number },
    counters: { captured: Number, published: Number, dropped: 0, setAside: 0, captureErrors: 0 },
    encodeMs: { p50: Number, p95: Number },
    meanBytesPerFrame: Number,
    memory: { rss: Number, heapUsed: Number },
    mqtt: { protocol: '5' },
    delivery: 'puback',
    uptimeSec: Number,
    encoderKernel: 'wasm-simd',
  })
  t.ok(tm.counters.captured > 0 && tm.encodeMs.p95 >= tm.encodeMs.p50)
  await first.stop()

  const second = createAgent(loadLocalConfig({ env }), log)
  t.equal(second.config.capture.width, 80, 'remote width survives the restart')
  t.equal(second.config.telemetry.intervalMs, 1000)
  t.equal(second.version, 1)
  const before = sub.on('frames').length
  await second.start()
  t.teardown(() => second.stop())
  await sub.waitFor(() => sub.on('frames').length > before + 2, 10000, 'frames after restart')
  const meta = sub.on('frames').slice(before).map(metaOf)
  t.ok(
    meta.every((m) => m.width === 80),
    'the persisted width is in force',
  )
  const seqsAll = sub.on('frames').map((m) => metaOf(m).seq as number)
  t.ok(Math.min(...seqsAll.slice(before)) > Math.max(...seqsAll.slice(0, before)), 'seqs continue after the restart')
})

t.test('a failing camera is logged, counted and retried; the agent stays up', async (t) => {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const dir = mkdtempSync(join(tmpdir(), 'deepn-badcam-'))
  writeFileSync(join(dir, 'broken.png'), 'this is not a PNG')
  const { agent, deviceId } = agentFor(broker.url, {
    capture: { source: 'files', filesDir: dir, retryMinMs: 20, retryMaxMs: 100 },
  })
  const sub = await subscribe(broker.url, [`deepn/${deviceId}/status`])
  t.teardown(() => sub.close())
  t.teardown(() => agent.stop())
  await agent.start()
  const deadline = Date.now() + 15000
  while (agent.stats.captureErrors < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  t.ok(agent.stats.captureErrors >= 4, `${agent.stats.captureErrors} capture errors, retried`)
  t.match(agent.stats.lastError?.message, /capture/)
  t.equal(agent.stats.captured, 0)
  t.match(JSON.parse(sub.messages.at(-1)!.payload.toString()), { state: 'online' })
  await agent.stop()
})

t.test('a persisted remote config that no longer resolves is dropped with a warning, not fatal', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'deepn-agent-'))
  const env = {
    DEEPN_MQTT_URL: 'mqtt://127.0.0.1:9',
    DEEPN_DEVICE_ID: 'stale',
    DEEPN__BUFFER__PATH: join(dir, 'buffer.db'),
    DEEPN_LOG_LEVEL: 'error',
  }
  const first = createAgent(loadLocalConfig({ env }), log)
  t.same(first.applyRemote(validatePartial({ encoder: { table: 'fmnist-deepn' } }, { remote: true })), [
    'encoder.table',
  ])
  await first.stop()
  const lines: string[] = []
  const second = createAgent(
    loadLocalConfig({
      env: { ...env, DEEPN__ENCODER__TABLES_DIR: mkdtempSync(join(tmpdir(), 'no-tables-')), DEEPN__ENCODER__TABLE: '' },
    }),
    createLogger({ level: 'warn', write: (l) => lines.push(l) }),
  )
  t.equal(second.config.encoder.table, '', 'falls back to the local configuration')
  t.match(lines.join('\n'), /saved remote configuration: leaving out 'encoder\.table': .*no table 'fmnist-deepn'/)
  await second.stop()
})

t.test('a retained config/set reaches an agent that was offline, and is a no-op when seen again', async (t) => {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const deviceId = `ret-${Math.random().toString(16).slice(2, 8)}`
  const dir = mkdtempSync(join(tmpdir(), 'deepn-agent-'))
  const env = {
    DEEPN_MQTT_URL: broker.url,
    DEEPN_DEVICE_ID: deviceId,
    DEEPN__BUFFER__PATH: join(dir, 'buffer.db'),
    DEEPN_LOG_LEVEL: 'error',
    DEEPN__CAPTURE__INTERVAL_MS: '200',
    DEEPN__CAPTURE__WIDTH: '64',
    DEEPN__CAPTURE__HEIGHT: '48',
  }
  const sub = await subscribe(broker.url, [`deepn/${deviceId}/config/result`])
  t.teardown(() => sub.close())
  await sub.client.publishAsync(
    `deepn/${deviceId}/config/set`,
    JSON.stringify({ id: 'while-offline', config: { capture: { width: 96 } } }),
    { qos: 1, retain: true },
  )
  for (const round of [1, 2]) {
    const agent = createAgent(loadLocalConfig({ env }), log)
    await agent.start()
    await sub.waitFor(() => sub.messages.length >= round, 10000, `result ${round}`)
    t.match(JSON.parse(sub.messages[round - 1].payload.toString()), {
      id: 'while-offline',
      ok: true,
      applied: round === 1 ? ['capture.width'] : [],
    })
    t.equal(agent.config.capture.width, 96)
    t.equal(agent.version, 1, `version after round ${round}`)
    await agent.stop()
  }
})
