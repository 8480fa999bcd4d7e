/**
 * The in-flight window: with `mqtt.inflight` = 3 the agent never has more than 3 frames awaiting PUBACK. The broker
 * is a real Mosquitto behind a proxy that holds back the PUBACKs of frame publishes until the test releases them
 * (test/helpers/puback-gate.ts), so the count is of exactly what the agent waits for.
 */
import t from 'tap'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { validatePartial } from '../../shared/config'
import { createAgent } from '../../agent/commands/run'
import { loadLocalConfig } from '../../agent/config-file'
import { memoryLogger } from '../helpers/log'
import { startMosquitto } from '../helpers/mosquitto'
import { startPubackGate } from '../helpers/puback-gate'

t.test('never more than mqtt.inflight frames await PUBACK; oldest first', async (t) => {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const gate = await startPubackGate(broker.port, (topic) => topic.endsWith('/frames'))
  t.teardown(() => gate.close())
  const seqOf = (publish: Buffer) => Number(/"seq":(\d+)/.exec(publish.toString('latin1'))?.[1])
  const dir = mkdtempSync(join(tmpdir(), 'deepn-inflight-'))
  const local = loadLocalConfig({
    env: {
      DEEPN_MQTT_URL: `mqtt://127.0.0.1:${gate.port}`,
      DEEPN_DEVICE_ID: 'win',
      DEEPN__BUFFER__PATH: join(dir, 'b.db'),
      DEEPN_LOG_LEVEL: 'error',
    },
  })
  local.local = {
    ...local.local,
    ...validatePartial(
      { mqtt: { inflight: 3 }, capture: { width: 64, height: 48, intervalMs: 10, maxFrames: 12 } },
      { remote: false },
    ),
  }
  const agent = createAgent(local, memoryLogger('error'))
  await agent.start()
  t.teardown(() => agent.stop())
  const until = async (pred: () => boolean, what: string) => {
    const deadline = Date.now() + 20000
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out: ${what}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }
  await until(() => agent.stats.captured === 12, 'capture')
  await until(() => gate.held.length === 3, 'window filled')
  await new Promise((r) => setTimeout(r, 300))
  t.equal(gate.held.length, 3, 'the window is full and nothing more is sent')
  // Release one at a time: each PUBACK lets exactly one more frame out.
  let released = 0
  let maxAwaiting = 0
  while (agent.stats.published < 12) {
    maxAwaiting = Math.max(maxAwaiting, gate.held.length - released)
    if (released < gate.held.length) gate.held[released++].release()
    await new Promise((r) => setTimeout(r, 30))
  }
  t.equal(maxAwaiting, 3, 'at most 3 awaiting PUBACK at any time')
  t.equal(gate.held.length, 12, 'every frame was published once')
  t.same(
    gate.held.map((h) => seqOf(h.publish)),
    Array.from({ length: 12 }, (_, i) => i + 1),
    'oldest first, each once',
  )
  await until(() => agent['o'].store.stats().frames === 0, 'buffer drained')
})
