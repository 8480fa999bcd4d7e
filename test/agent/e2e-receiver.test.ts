/**
 * End-to-end ack mode with the reference receiver (scripts/backend/receive): the receiver is closed and the broker
 * restarted without persistence mid-stream, so frames the broker had PUBACKed are gone from it; the agent still
 * holds them until the receiver's ack and re-sends them. Every seq ends up on disk.
 */
import t from 'tap'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import jpeg from 'jpeg-js'
import { validatePartial } from '../../shared/config'
import { createAgent } from '../../agent/commands/run'
import { loadLocalConfig } from '../../agent/config-file'
import { memoryLogger } from '../helpers/log'
import { startReceiver } from '../../scripts/backend/receive/receiver'
import { startMosquitto } from '../helpers/mosquitto'

const N = 40

t.test('e2e-ack: receiver closed + broker restarted mid-stream, nothing lost', async (t) => {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const dir = mkdtempSync(join(tmpdir(), 'deepn-e2e-'))
  const out = join(dir, 'received')
  const local = loadLocalConfig({
    env: {
      DEEPN_MQTT_URL: broker.url,
      DEEPN_DEVICE_ID: 'e2ecam',
      DEEPN__BUFFER__PATH: join(dir, 'buffer.db'),
      DEEPN_LOG_LEVEL: 'error',
    },
  })
  local.local = {
    ...local.local,
    ...validatePartial(
      {
        delivery: 'e2e-ack',
        ackTimeoutMs: 1500,
        mqtt: { reconnectMinMs: 100, reconnectMaxMs: 400 },
        capture: { width: 64, height: 48, intervalMs: 40, maxFrames: N },
      },
      { remote: false },
    ),
  }
  const agent = createAgent(local, memoryLogger('error'))
  const quiet = () => {}
  const recvOpts = {
    url: broker.url,
    out,
    ack: true,
    ackIntervalMs: 100,
    ackEveryFrames: 5,
    summaryIntervalMs: 0,
    log: quiet,
    clientId: `e2e-recv-${Math.random().toString(16).slice(2)}`,
  }
  let receiver = await startReceiver(recvOpts)
  await receiver.subscribed
  await agent.start()
  t.teardown(() => agent.stop())
  const store = agent['o'].store
  const file = (seq: number) => {
    const day = new Date().toISOString().slice(0, 10)
    return join(out, 'e2ecam', day, `${seq}.jpg`)
  }
  const onDisk = () => Array.from({ length: N }, (_, i) => i + 1).filter((s) => existsSync(file(s)))
  const wait = async (pred: () => boolean, ms: number, what: string) => {
    const deadline = Date.now() + ms
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  await wait(() => onDisk().length >= 10, 20000, '10 frames on disk')
  await receiver.close()
  await new Promise((r) => setTimeout(r, 400)) // frames published now are PUBACKed by the broker, seen by nobody
  await broker.restart() // no persistence: whatever the broker queued is gone
  receiver = await startReceiver(recvOpts)
  t.teardown(() => receiver.close())
  await receiver.subscribed
  await wait(() => onDisk().length === N, 60000, `all ${N} seqs on disk (have ${onDisk().length})`)
  t.equal(onDisk().length, N, 'every seq stored')
  for (const s of [1, N >> 1, N]) t.equal(jpeg.decode(readFileSync(file(s))).width, 64, `seq ${s} decodes`)
  await wait(() => store.stats().frames === 0, 15000, 'the buffer empties once everything is acked')
  t.equal(store.stats().frames, 0)
})
