/**
 * On-device calibration requested over MQTT from a running agent (real Mosquitto, real SQLite, synthetic camera):
 * the agent answers on `calibration` with a valid DeepN table built from the frames it captured, keeps publishing
 * frames meanwhile, and refuses a malformed request with a reason.
 */
import t from 'tap'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { validateTables } from '../../shared/codec/tables'
import { createAgent } from '../../agent/commands/run'
import { loadLocalConfig } from '../../agent/config-file'
import { memoryLogger } from '../helpers/log'
import { startMosquitto } from '../helpers/mosquitto'
import { subscribe } from '../helpers/subscriber'

t.test("a calibrate request yields a table built from the camera's own frames", async (t) => {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const dir = mkdtempSync(join(tmpdir(), 'deepn-cal-'))
  const deviceId = `cal-${Math.random().toString(16).slice(2, 8)}`
  const local = loadLocalConfig({
    env: {
      DEEPN_MQTT_URL: broker.url,
      DEEPN_DEVICE_ID: deviceId,
      DEEPN__BUFFER__PATH: join(dir, 'buffer.db'),
      DEEPN_LOG_LEVEL: 'warn',
      DEEPN__CAPTURE__WIDTH: '64',
      DEEPN__CAPTURE__HEIGHT: '48',
      DEEPN__CAPTURE__INTERVAL_MS: '20',
    },
  })
  const agent = createAgent(local, memoryLogger('warn'))
  const sub = await subscribe(broker.url, [`deepn/${deviceId}/#`])
  t.teardown(() => sub.close())
  await agent.start()
  t.teardown(() => agent.stop())
  await sub.waitFor(() => sub.on('frames').length >= 1, 20000, 'first frame')

  const answers = () => sub.on('calibration').map((m) => JSON.parse(m.payload.toString()) as Record<string, unknown>)
  sub.client.publish(`deepn/${deviceId}/calibrate`, '{"id":"bad","frames":"many"}', { qos: 1 })
  await sub.waitFor(() => answers().some((a) => a.ok === false), 20000, 'refusal')
  t.match(
    answers().find((a) => a.ok === false),
    { ok: false, error: /frames/ },
    'malformed request refused with a reason',
  )

  const framesBefore = sub.on('frames').length
  sub.client.publish(`deepn/${deviceId}/calibrate`, JSON.stringify({ id: 'c1', frames: 5 }), { qos: 1 })
  await sub.waitFor(() => answers().some((a) => a.id === 'c1' && a.state === 'done'), 30000, 'calibration done')
  const done = answers().find((a) => a.id === 'c1' && a.state === 'done') as {
    table: { id: string; luma: number[]; chroma: number[] }
    report: { frames: number; lumaBlocks: number; lumaSigma: number[] }
  }
  t.ok(
    answers().some((a) => a.id === 'c1' && a.state === 'started'),
    'started acknowledged first',
  )
  t.doesNotThrow(() => validateTables(done.table, done.table.id), 'the table validates like a table file')
  t.equal(done.report.frames, 5, 'built from exactly the requested frames')
  t.equal(done.report.lumaBlocks, 5 * (64 / 8) * (48 / 8), 'every luma block of each 64x48 frame')
  t.ok(
    done.report.lumaSigma[0] > done.report.lumaSigma[63],
    'DC varies more than the highest frequency on a camera image',
  )
  t.ok(sub.on('frames').length > framesBefore, 'frames kept flowing during calibration')
})
