/**
 * `deepn push-table --devices PATTERN --canary K` against a real Mosquitto and three real agents (in-process,
 * synthetic 32x32 camera, SQLite buffers): a table that makes frames far bigger is caught on the canary, which gets
 * its previous table back while the other two never receive the push; a sound table goes to the canary first,
 * then to the other two; the JSON report says so device by device. A failed push after the canaries stops the
 * roll-out at its batch; a canary that goes offline during the watch fails it (and its roll-back is reported as
 * unconfirmed). Bad flags and a pattern matching nothing fail with one line naming what is wrong.
 */
import t, { type Test } from 'tap'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { createAgent } from '../../agent/commands/run'
import { loadLocalConfig } from '../../agent/config-file'
import { readFrameMetadata } from '../../shared/contract/frame-metadata'
import { rolloutTable } from '../../scripts/backend/push-table/rollout'
import { parseTableFile } from '../../shared/codec/tables'
import type { RolloutReport } from '../../scripts/backend/push-table/rollout'
import { devicePattern } from '../../scripts/backend/push-table/device-pattern'
import { memoryLogger } from '../helpers/log'
import { startMosquitto } from '../helpers/mosquitto'
import { subscribe } from '../helpers/subscriber'
import { runCli } from '../helpers/cli'

const dir = mkdtempSync(join(tmpdir(), 'deepn-rollout-'))
const natural = parseTableFile(
  readFileSync(join(__dirname, '../../config/tables/natural-deepn.json'), 'utf8'),
  'natural',
)
/** Nearly the shipped table: frames about the same size. */
const sound = {
  id: 'natural-v2',
  luma: Array.from(natural.luma, (v) => Math.min(255, v + 1)),
  chroma: Array.from(natural.chroma, (v) => Math.min(255, v + 1)),
}
/** Every step 1: frames several times bigger than with the shipped table. */
const huge = { id: 'all-ones', luma: Array(64).fill(1), chroma: Array(64).fill(1) }
const file = (tbl: object, name: string) => {
  const p = join(dir, name)
  writeFileSync(p, JSON.stringify(tbl))
  return p
}

async function startAgent(t: Test, url: string, deviceId: string) {
  const local = loadLocalConfig({
    env: {
      DEEPN_MQTT_URL: url,
      DEEPN_DEVICE_ID: deviceId,
      DEEPN__BUFFER__PATH: join(dir, `${deviceId}.db`),
      DEEPN_LOG_LEVEL: 'warn',
      DEEPN__CAPTURE__WIDTH: '32',
      DEEPN__CAPTURE__HEIGHT: '32',
      DEEPN__CAPTURE__INTERVAL_MS: '25',
    },
  })
  const agent = createAgent(local, memoryLogger('warn'))
  await agent.start()
  t.teardown(() => agent.stop())
  return agent
}

/** The device's retained config report's encoder.table. */
async function tableInForce(url: string, deviceId: string): Promise<string> {
  const sub = await subscribe(url, [`deepn/${deviceId}/config`])
  try {
    await sub.waitFor(() => sub.messages.length > 0, 5000, `${deviceId} config report`)
    return JSON.parse(sub.messages[sub.messages.length - 1].payload.toString()).config.encoder.table
  } finally {
    await sub.close()
  }
}

t.test('device patterns: globs on ids, nothing else', async (t) => {
  const m = devicePattern('cam-?.*')
  t.ok(m('cam-1.lobby'))
  t.notOk(m('cam-12.lobby'), '? is one character')
  t.notOk(devicePattern('cam.1')('camx1'), "'.' is literal")
  t.throws(() => devicePattern('cam/+'), /'cam\/\+' is not a device pattern/)
})

t.test('bad flags are refused naming the flag', async (t) => {
  const base = ['push-table', '--url', 'mqtt://127.0.0.1:1', '--table', file(sound, 'sound.json')]
  for (const [args, msg] of [
    [['--devices', 'cam/#'], /--devices: 'cam\/#' is not a device pattern/],
    [['--devices', 'cam-*', '--canary', '0'], /--canary must be an integer >= 1, got '0'/],
    [['--devices', 'cam-*', '--max-bytes-ratio', 'x'], /--max-bytes-ratio must be a positive number, got 'x'/],
    [['--devices', 'cam-*', '--watch-frames', '2.5'], /--watch-frames must be an integer >= 1, got '2.5'/],
    [['--devices', 'cam-*', '--canary', '2', '--canary-ids', 'cam-a'], /--canary 2 disagrees with the 1 id/],
    [['--device', 'cam-a', '--canary', '1'], /--canary belongs to a roll-out: use it with --devices/],
    [['--device', 'cam-a', '--devices', 'cam-*'], /give --device or --devices, not both/],
  ] as const) {
    const r = await runCli([...base, ...args])
    t.equal(r.code, 2, args.join(' '))
    t.match(r.err, msg)
    t.equal(r.err.split('\n').length, 1, 'one line')
  }
})

t.test('canary roll-back, then a roll-out, on three real agents', async (t) => {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const ids = ['cam-a', 'cam-b', 'cam-c']
  for (const id of ids) await startAgent(t, broker.url, id)
  // a device outside the pattern, online: it must never be asked anything
  const other = await mqtt.connectAsync(broker.url)
  t.teardown(() => other.endAsync())
  await other.publishAsync('deepn/door-1/status', JSON.stringify({ state: 'online', deviceId: 'door-1' }), {
    qos: 1,
    retain: true,
  })
  const sets = await subscribe(broker.url, ['deepn/+/config/set'])
  t.teardown(() => sets.close())
  const frames = await subscribe(broker.url, ['deepn/cam-a/frames'])
  t.teardown(() => frames.close())
  for (const id of ids) {
    const s = await subscribe(broker.url, [`deepn/${id}/config`])
    await s.waitFor(() => s.messages.length > 0, 30000, `${id} online with its config report`)
    await s.close()
  }
  const setsTo = (id: string) => sets.messages.filter((m) => m.topic === `deepn/${id}/config/set`)
  const flags = ['--url', broker.url, '--devices', 'cam-*', '--watch-frames', '4', '--discovery-ms', '500']

  await t.test('a table that blows up frames: the canary is rolled back, the others never get it', async (t) => {
    const reportFile = join(dir, 'rollback.json')
    const r = await runCli([
      'push-table',
      ...flags,
      '--table',
      file(huge, 'huge.json'),
      '--max-bytes-ratio',
      '1.5',
      '--report',
      reportFile,
    ])
    t.equal(r.code, 1, 'exit 1 on a roll-back')
    t.comment(r.out)
    t.match(r.out, /table all-ones to 'cam-\*': rolled-back \(1 rolled-back, 2 not-pushed\)/)
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as RolloutReport
    t.equal(report.result, 'rolled-back')
    t.same(
      report.devices.map((d) => [d.deviceId, d.phase, d.outcome]),
      [
        ['cam-a', 'canary', 'rolled-back'],
        ['cam-b', 'rollout', 'not-pushed'],
        ['cam-c', 'rollout', 'not-pushed'],
      ],
    )
    const a = report.devices[0]
    t.equal(a.previousTable, 'natural-deepn')
    t.ok(a.framesBefore! >= 4 && a.framesAfter! >= 4, 'frames measured before and after')
    t.ok(a.bytesRatio! > 1.5, `bytes per frame grew ${a.bytesRatio}x`)
    t.equal(a.bytesRatio, Math.round((a.bytesAfter! / a.bytesBefore!) * 1000) / 1000, 'ratio from the two means')
    t.match(a.reason, /bytes per frame grew [\d.]+x \(\d+ -> \d+\), above the limit 1\.5x/)
    t.equal(setsTo('cam-a').length, 2, 'the canary got the push and the roll-back')
    t.same(JSON.parse(setsTo('cam-a')[1].payload.toString()).config, { encoder: { table: 'natural-deepn' } })
    t.equal(setsTo('cam-b').length + setsTo('cam-c').length + setsTo('door-1').length, 0, 'nobody else was asked')
    t.equal(await tableInForce(broker.url, 'cam-a'), 'natural-deepn', "the canary's config is back")
    const mark = frames.messages.length
    await frames.waitFor(
      () => frames.messages.slice(mark).some((m) => readFrameMetadata(m.payload)?.tableId === 'natural-deepn'),
      10000,
      'frames with the previous table',
    )
  })

  await t.test('a sound table: canary first, then the other two; the report says so', async (t) => {
    sets.messages.length = 0
    const reportFile = join(dir, 'rollout.json')
    const r = await runCli(['push-table', ...flags, '--table', file(sound, 'sound.json'), '--report', reportFile])
    t.equal(r.code, 0, r.err)
    t.match(r.out, /table natural-v2 to 'cam-\*': rolled-out \(3 rolled-out\)/)
    t.match(r.out, /cam-a\s+canary\s+rolled-out\s+natural-deepn\s+\d+ -> \d+\s+[\d.]+x/)
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as RolloutReport
    t.equal(report.result, 'rolled-out')
    t.same(
      report.devices.map((d) => [d.deviceId, d.phase, d.outcome, d.previousTable]),
      [
        ['cam-a', 'canary', 'rolled-out', 'natural-deepn'],
        ['cam-b', 'rollout', 'rolled-out', 'natural-deepn'],
        ['cam-c', 'rollout', 'rolled-out', 'natural-deepn'],
      ],
    )
    t.ok(report.devices[0].bytesRatio! <= 1.5, `canary ratio ${report.devices[0].bytesRatio}`)
    t.same(report.settings, { canary: 1, batch: 10, watchFrames: 4, watchSeconds: 0, maxBytesRatio: 1.5 })
    t.same(sets.messages.map((m) => m.topic.split('/')[1]).slice(0, 1), ['cam-a'], 'the canary was pushed first')
    t.same(sets.messages.map((m) => m.topic.split('/')[1]).sort(), ids, 'one push each, door-1 untouched')
    for (const id of ids) t.equal(await tableInForce(broker.url, id), 'natural-v2', `${id} has it in force`)
  })

  await t.test('a push that fails after the canaries stops the roll-out at its batch', async (t) => {
    // cam-b0 says it is online (retained status) but nothing answers its config/set
    await other.publishAsync('deepn/cam-b0/status', JSON.stringify({ state: 'online', deviceId: 'cam-b0' }), {
      qos: 1,
      retain: true,
    })
    const v3 = { ...sound, id: 'natural-v3', luma: sound.luma.map((v) => Math.min(255, v + 1)) }
    const reportFile = join(dir, 'failed.json')
    const r = await runCli([
      'push-table',
      ...flags,
      '--batch',
      '1',
      '--timeout',
      '2000',
      '--table',
      file(v3, 'v3.json'),
      '--report',
      reportFile,
    ])
    t.equal(r.code, 1, 'exit 1 when a push fails')
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as RolloutReport
    t.equal(report.result, 'failed')
    t.same(
      report.devices.map((d) => [d.deviceId, d.outcome]),
      [
        ['cam-a', 'rolled-out'],
        ['cam-b', 'rolled-out'],
        ['cam-b0', 'failed'],
        ['cam-c', 'not-pushed'],
      ],
    )
    t.match(report.devices[2].reason, /cam-b0 did not confirm within 2000 ms: no config\/result/)
    t.equal(report.devices[3].reason, 'roll-out stopped: push to cam-b0 failed')
    t.equal(await tableInForce(broker.url, 'cam-c'), 'natural-v2', 'cam-c kept the table it had')
  })

  await t.test('a pattern matching no online device: one line, exit 1', async (t) => {
    const r = await runCli([
      'push-table',
      ...flags.slice(0, 2),
      '--devices',
      'gate-*',
      '--discovery-ms',
      '300',
      '--table',
      file(sound, 'sound.json'),
    ])
    t.equal(r.code, 1)
    t.match(r.err, /^deepn push-table: no online device matches 'gate-\*' under deepn\/ \(5 device\(s\) seen/)
    t.equal(r.err.split('\n').length, 1)
  })
})

t.test('a canary that goes offline during the watch fails it; its roll-back cannot be confirmed', async (t) => {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  await startAgent(t, broker.url, 'edge-1')
  const agent = await startAgent(t, broker.url, 'edge-2')
  for (const id of ['edge-1', 'edge-2']) await tableInForce(broker.url, id)
  // stop the canary once its push has gone out: its clean stop publishes the retained `offline` status
  const sets = await subscribe(broker.url, ['deepn/+/config/set'])
  t.teardown(() => sets.close())
  const stopped = sets
    .waitFor(() => sets.messages.length > 0, 20000, 'the canary push')
    .then(() => new Promise((r) => setTimeout(r, 300)))
    .then(() => agent.stop())
  const report = await rolloutTable({
    url: broker.url,
    pattern: 'edge-?',
    canaryIds: ['edge-2'], // not the first id: the chosen canary
    table: sound,
    watchFrames: 2,
    watchSeconds: 2,
    discoveryMs: 500,
    timeoutMs: 1500,
  })
  await stopped
  t.equal(report.result, 'rolled-back')
  const [e1, e2] = report.devices
  t.same([e2.deviceId, e2.phase, e2.outcome], ['edge-2', 'canary', 'rollback-failed'])
  t.match(e2.reason, /^status offline; roll-back: device edge-2 did not confirm table 'natural-deepn' within 1500 ms/)
  t.same([e1.deviceId, e1.phase, e1.outcome, e1.reason], ['edge-1', 'rollout', 'not-pushed', 'canary edge-2 failed'])
  t.same(
    sets.messages.map((m) => m.topic),
    ['deepn/edge-2/config/set', 'deepn/edge-2/config/set'],
    'the push and the roll-back attempt went to the canary only',
  )
  await t.rejects(
    rolloutTable({ url: broker.url, pattern: 'edge-*', canaryIds: ['cam-z'], table: sound, discoveryMs: 300 }),
    /canary cam-z is not an online device matching 'edge-\*'/,
  )
  await t.rejects(
    rolloutTable({ url: broker.url, pattern: 'edge-*', batch: 0, table: sound }),
    /batch must be an integer >= 1, got 0/,
  )
})
