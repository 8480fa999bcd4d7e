/**
 * The in-flight window: with `mqtt.inflight` = 3 the agent never has more than 3 frames awaiting PUBACK. The broker
 * is a real aedes whose authorizePublish hook holds frames back (PUBACK is only sent after it calls back).
 */
import t from 'tap'
import { mkdtempSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { validatePartial } from '../../shared/config'
import { createAgent } from '../../agent/commands/run'
import { loadLocalConfig } from '../../agent/config-file'
import { createLogger } from '../../agent/log'

t.test('never more than mqtt.inflight frames await PUBACK; oldest first', async (t) => {
  const { Aedes } = require('aedes') as typeof import('aedes')
  const held: { seq: number; release: () => void }[] = []
  let maxHeld = 0
  const order: number[] = []
  const broker = await Aedes.createBroker({
    authorizePublish: (_client, packet, callback) => {
      if (!packet.topic.endsWith('/frames')) return callback(null)
      const seq = Number((packet.payload as Buffer).toString('latin1').match(/"seq":(\d+)/)?.[1])
      order.push(seq)
      held.push({ seq, release: () => callback(null) })
      maxHeld = Math.max(maxHeld, held.length)
    },
  })
  const srv = createServer(broker.handle)
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => broker.close(() => srv.close(() => r()))))
  const port = (srv.address() as { port: number }).port
  const dir = mkdtempSync(join(tmpdir(), 'deepn-inflight-'))
  const local = loadLocalConfig({ env: { DEEPN_MQTT_URL: `mqtt://127.0.0.1:${port}`, DEEPN_DEVICE_ID: 'win', DEEPN__BUFFER__PATH: join(dir, 'b.db'), DEEPN_LOG_LEVEL: 'error' } })
  local.local = { ...local.local, ...validatePartial({ mqtt: { inflight: 3 }, capture: { width: 64, height: 48, intervalMs: 10, maxFrames: 12 } }, { remote: false }) }
  const agent = createAgent(local, createLogger({ level: 'error' }))
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
  await until(() => held.length === 3, 'window filled')
  await new Promise((r) => setTimeout(r, 300))
  t.equal(held.length, 3, 'the window is full and nothing more is sent')
  // Release one at a time: each PUBACK lets exactly one more frame out.
  while (agent.stats.published < 12) {
    const h = held.shift()
    if (h) h.release()
    await new Promise((r) => setTimeout(r, 30))
  }
  t.equal(maxHeld, 3, 'at most 3 in flight at any time')
  t.same(order, Array.from({ length: 12 }, (_, i) => i + 1), 'oldest first, each once')
  await until(() => agent['o'].store.stats().frames === 0, 'buffer drained')
})
