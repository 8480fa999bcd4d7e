/**
 * pushTable against a real Mosquitto: the real agent (in-process, synthetic camera, real SQLite buffer) applies a
 * pushed table, reports it, and names it in the next frames; a device that rejects, a device that is not there,
 * and a malformed table each give a clear PushTableError.
 */
import t from 'tap'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { readJpegMetadata } from '../../shared/codec/metadata'
import { createAgent } from '../../agent/commands/run'
import { loadLocalConfig } from '../../agent/config-file'
import { createLogger } from '../../agent/log'
import { PushTableError, pushTable, tablePushMessage } from '../../scripts/backend/push-table'
import { startMosquitto } from '../helpers/mosquitto'
import { subscribe } from '../helpers/subscriber'

const table = { id: 'fmnist-optimized-test', luma: Array.from({ length: 64 }, (_, i) => 3 + ((i * 7) % 50)), chroma: Array.from({ length: 64 }, (_, i) => 9 + (i % 13)) }

t.test('the real agent applies, persists and reports a pushed table, and frames name it', async (t) => {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const deviceId = 'cam-' + Math.random().toString(16).slice(2, 8)
  const dir = mkdtempSync(join(tmpdir(), 'deepn-push-'))
  const local = loadLocalConfig({ env: {
    DEEPN_MQTT_URL: broker.url, DEEPN_DEVICE_ID: deviceId, DEEPN__BUFFER__PATH: join(dir, 'buffer.db'), DEEPN_LOG_LEVEL: 'warn',
    DEEPN__CAPTURE__WIDTH: '32', DEEPN__CAPTURE__HEIGHT: '32', DEEPN__CAPTURE__INTERVAL_MS: '20',
  } })
  const agent = createAgent(local, createLogger({ level: 'warn' }))
  const sub = await subscribe(broker.url, [`deepn/${deviceId}/frames`])
  t.teardown(() => sub.close())
  await agent.start()
  t.teardown(() => agent.stop())
  await sub.waitFor(() => sub.messages.length >= 2, 30000, 'first frames')

  const r = await pushTable({ url: broker.url, deviceId, table, requestId: 'push-1', timeoutMs: 15000 })
  t.equal(r.requestId, 'push-1')
  t.equal(r.tableId, table.id)
  t.equal(r.reportedTable, table.id, 'the retained report shows the table in force')
  t.ok(r.applied.includes('encoder.table'), `applied keys name encoder.table: ${r.applied.join(', ')}`)
  t.ok(r.reportedVersion >= 1, 'reported config version moved past the initial 0')

  const after = sub.messages.length
  await sub.waitFor(() => sub.messages.length >= after + 3, 30000, 'frames after the push')
  const last = sub.messages[sub.messages.length - 1]
  t.equal((readJpegMetadata(new Uint8Array(last.payload)) as { tableId?: string }).tableId, table.id, 'frames encoded after the push name the table')
})

t.test('a device rejection surfaces its reason; silence times out; a bad table never leaves', async (t) => {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  // a fake device: rejects every request with a reason, the way the agent answers on config/result
  const device = await mqtt.connectAsync(broker.url)
  t.teardown(() => device.endAsync())
  await device.subscribeAsync('deepn/fake-1/config/set', { qos: 1 })
  const seen: string[] = []
  device.on('message', (_t, p) => {
    const req = JSON.parse(p.toString()) as { id: string }
    seen.push(p.toString())
    device.publish('deepn/fake-1/config/result', JSON.stringify({ id: 'someone-else', ok: true }))
    device.publish('deepn/fake-1/config/result', JSON.stringify({ id: req.id, ok: false, error: "'encoder.tables' holds 17 tables; at most 16" }), { qos: 1 })
  })
  const err = await pushTable({ url: broker.url, deviceId: 'fake-1', table, timeoutMs: 10000 }).catch((e: unknown) => e)
  t.type(err, PushTableError)
  t.equal((err as PushTableError).reason, 'rejected')
  t.match((err as Error).message, /fake-1 rejected table fmnist-optimized-test: 'encoder.tables' holds 17 tables/)
  t.equal(seen.length, 1, 'one request sent')
  t.same(JSON.parse(seen[0]).config, { encoder: { tables: { [table.id]: { luma: table.luma, chroma: table.chroma } }, table: table.id } }, 'body per the contract')

  const t0 = Date.now()
  const silent = await pushTable({ url: broker.url, deviceId: 'nobody', table, timeoutMs: 800 }).catch((e: unknown) => e)
  t.equal((silent as PushTableError).reason, 'timeout')
  t.match((silent as Error).message, /nobody did not confirm within 800 ms: no config\/result/)
  t.ok(Date.now() - t0 < 5000, 'gives up near the timeout')

  const bad = { ...table, luma: table.luma.map((v, i) => (i === 5 ? 300 : v)) }
  t.throws(() => tablePushMessage(bad, 'x'), /luma\[5\]: 300 is outside 1\.\.255/)
  const e3 = await pushTable({ url: broker.url, deviceId: 'fake-1', table: bad }).catch((e: unknown) => e)
  t.equal((e3 as PushTableError).reason, 'invalid')
  t.equal(seen.length, 1, 'the bad table was never published')
  t.throws(() => tablePushMessage({ ...table, id: 'no spaces' }, 'x'), /table id must be/)
})
