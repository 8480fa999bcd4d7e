/**
 * The real agent process against a real Mosquitto: broker outage, SIGKILL mid-stream, malformed config flood,
 * clean SIGTERM. Every committed seq must arrive (duplicates allowed, loss not).
 */
import t from 'tap'
import { join } from 'node:path'
import jpeg from 'jpeg-js'
import { readJpegMetadata } from '../../shared/codec/metadata'
import { startMosquitto } from '../helpers/mosquitto'
import { subscribe, type Subscriber } from '../helpers/subscriber'
import { agentDir, spawnAgent, writeConfig } from '../helpers/agent-process'
import { bufferedSeqs } from '../helpers/buffer-file'

const seqOf = (p: Buffer): number => readJpegMetadata(new Uint8Array(p))!.seq as number
const seqs = (sub: Subscriber): Set<number> => new Set(sub.on('frames').map((m) => seqOf(m.payload)))

function baseConfig(
  url: string,
  dir: string,
  deviceId: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    deviceId,
    mqtt: { url, reconnectMinMs: 100, reconnectMaxMs: 500 },
    capture: { width: 64, height: 48, intervalMs: 25 },
    buffer: { path: join(dir, 'buffer.db') },
    log: { level: 'debug' },
    ...extra,
  }
}

t.test('broker stopped then restarted: the backlog drains and every seq arrives', async (t) => {
  const broker = await startMosquitto({ persistence: true })
  t.teardown(() => broker.stop())
  const dir = agentDir()
  const sub = await subscribe(broker.url, ['deepn/outage/frames'], { persistent: true })
  t.teardown(() => sub.close())
  const agent = spawnAgent(
    writeConfig(
      dir,
      baseConfig(broker.url, dir, 'outage', { capture: { width: 64, height: 48, intervalMs: 25, maxFrames: 80 } }),
    ),
  )
  t.teardown(() => agent.signal('SIGKILL'))
  await sub.waitFor(() => seqs(sub).size >= 10, 30000, 'first frames')
  await broker.stop()
  await new Promise((r) => setTimeout(r, 1500)) // captured into the buffer meanwhile
  await broker.start()
  await sub
    .waitFor(() => seqs(sub).size >= 80, 60000, 'all 80 seqs')
    .catch((e) => {
      throw new Error(`${e.message} (have ${seqs(sub).size})\n${agent.output().slice(-8000)}`)
    })
  const got = [...seqs(sub)].sort((a, b) => a - b)
  t.same(
    got,
    Array.from({ length: 80 }, (_, i) => i + 1),
    'seqs 1..80, none lost',
  )
  t.ok(
    sub.on('frames').every((m) => jpeg.decode(m.payload).width === 64),
    'every payload decodes',
  )
  agent.signal('SIGTERM')
  t.equal(await agent.exited, 0)
})

t.test('SIGKILL mid-stream, then restart: every committed seq arrives', async (t) => {
  const broker = await startMosquitto({ persistence: true })
  t.teardown(() => broker.stop())
  const dir = agentDir()
  const cfg = writeConfig(dir, baseConfig(broker.url, dir, 'killed'))
  const sub = await subscribe(broker.url, ['deepn/killed/frames', 'deepn/killed/status'], { persistent: true })
  t.teardown(() => sub.close())
  const lastStatus = () => {
    const m = sub.on('status').at(-1)
    return m ? JSON.parse(m.payload.toString()).state : undefined
  }

  // Round 1: publishing live, killed without warning.
  let agent = spawnAgent(cfg)
  await sub.waitFor(() => seqs(sub).size >= 15, 30000, 'frames before the kill')
  t.equal(lastStatus(), 'online')
  agent.signal('SIGKILL')
  await agent.exited
  await sub.waitFor(() => lastStatus() === 'offline', 10000, 'the last will')
  t.pass('the broker published the last will: offline')
  // Round 2: broker down, so frames pile up in the buffer, killed again.
  await broker.stop()
  agent = spawnAgent(cfg)
  const deadline = Date.now() + 30000
  while (bufferedSeqs(join(dir, 'buffer.db')).length < 8 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100))
  agent.signal('SIGKILL')
  await agent.exited
  const committed = new Set([...seqs(sub), ...bufferedSeqs(join(dir, 'buffer.db'))])
  t.ok(bufferedSeqs(join(dir, 'buffer.db')).length >= 8, 'a backlog was committed while the broker was down')
  await broker.start()
  // Round 3: restarted; everything committed must come through.
  agent = spawnAgent(cfg)
  t.teardown(() => agent.signal('SIGKILL'))
  await agent.waitForOutput(/running/)
  await sub.waitFor(() => [...committed].every((s) => seqs(sub).has(s)), 60000, 'every committed seq')
  const max = Math.max(...committed)
  t.ok(committed.size >= 20, `${committed.size} committed seqs`)
  const received = seqs(sub)
  const missing = [...committed].filter((s) => !received.has(s))
  t.same(missing, [], 'no committed seq lost')
  const newer = [...received].filter((s) => s > max)
  t.ok(newer.length === 0 || Math.min(...newer) > max, 'seqs are never reused after a restart')
  agent.signal('SIGTERM')
  t.equal(await agent.exited, 0)
})

t.test('100 malformed config messages are rejected with reasons and publishing goes on', async (t) => {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const dir = agentDir()
  const sub = await subscribe(broker.url, ['deepn/flood/#'])
  t.teardown(() => sub.close())
  const agent = spawnAgent(writeConfig(dir, baseConfig(broker.url, dir, 'flood', { log: { level: 'error' } })))
  t.teardown(() => agent.signal('SIGKILL'))
  await sub.waitFor(() => seqs(sub).size >= 3, 30000, 'first frames')
  const garbage: (string | Buffer)[] = []
  for (let i = 0; i < 100; i++) {
    const kind = i % 10
    garbage.push(
      kind === 0
        ? `{"id":"g${i}","config":{"capture":{"width":"${i}"}}}`
        : kind === 1
          ? `{"id":"g${i}","config":{"buffer":{"path":"/tmp/x${i}"}}}`
          : kind === 2
            ? `{"id":"g${i}","config":{"nope${i}":1}}`
            : kind === 3
              ? `{"id":"g${i}","config":[${i}]}`
              : kind === 4
                ? `{"id":"g${i}","config":{"capture":{"width":${100000 + i}}}}`
                : kind === 5
                  ? Buffer.from([0xff, 0xfe, i & 0xff])
                  : kind === 6
                    ? `{"id":"g${i}"`
                    : kind === 7
                      ? `{"id":"g${i}","config":{"mqtt":{"url":"mqtt://evil:${i}"}}}`
                      : kind === 8
                        ? `{"id":"g${i}","config":{"encoder":{"tables":{"t":{"luma":[${i}],"chroma":[]}}}}}`
                        : Buffer.alloc(70000 + i, 0x20),
    )
  }
  const before = seqs(sub).size
  for (const g of garbage) await sub.client.publishAsync('deepn/flood/config/set', g, { qos: 1 })
  await sub.waitFor(() => sub.on('config/result').length >= 100, 30000, '100 results')
  const results = sub
    .on('config/result')
    .map((m) => JSON.parse(m.payload.toString()) as { ok: boolean; error?: string })
  t.equal(
    results.filter((r) => !r.ok && typeof r.error === 'string' && r.error.length > 5).length,
    100,
    'each rejected with a reason',
  )
  await sub.waitFor(() => seqs(sub).size >= before + 20, 30000, 'frames keep flowing')
  const reported = sub.on('config').map((m) => JSON.parse(m.payload.toString()) as { version: number })
  t.ok(
    reported.every((r) => r.version === 0),
    'the configuration never changed',
  )
  t.equal(agent.proc.exitCode, null, 'agent still running')
  agent.signal('SIGTERM')
  t.equal(await agent.exited, 0)
})

t.test('SIGTERM: clean exit, offline status, database closed', async (t) => {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const dir = agentDir()
  const sub = await subscribe(broker.url, ['deepn/term/#'])
  t.teardown(() => sub.close())
  const agent = spawnAgent(writeConfig(dir, baseConfig(broker.url, dir, 'term')))
  await sub.waitFor(() => seqs(sub).size >= 5, 30000, 'frames')
  agent.signal('SIGTERM')
  t.equal(await agent.exited, 0, 'exit code 0')
  const last = sub.on('status').at(-1)!
  t.match(JSON.parse(last.payload.toString()), { state: 'offline', deviceId: 'term' })
  t.match(agent.output(), /SIGTERM: stopping[\s\S]*stopped/)
  const again = await subscribe(broker.url, ['deepn/term/status'])
  await again.waitFor(() => again.messages.length > 0, 5000, 'retained status')
  t.match(JSON.parse(again.messages[0].payload.toString()), { state: 'offline' }, 'offline is retained')
  await again.close()
})

t.test('bad configuration: clear error naming the key, exit code 2', async (t) => {
  const dir = agentDir()
  const agent = spawnAgent(writeConfig(dir, { capture: { width: 'wide' } }))
  t.equal(await agent.exited, 2)
  t.match(agent.output(), /'capture\.width' must be a number/)
  const noUrl = spawnAgent(writeConfig(dir, {}), { DEEPN_MQTT_URL: '' })
  t.equal(await noUrl.exited, 2)
  t.match(noUrl.output(), /'mqtt\.url' is required/)
})
