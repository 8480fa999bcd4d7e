/**
 * End-to-end acks and classification results against a real Mosquitto, with the receiver in-process
 * (`startReceiver`, as the demo uses it).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import mqtt from 'mqtt'
import t from 'tap'
import { startReceiver } from '../../../scripts/backend/receive/receiver'
import type { ResultMessage } from '../../../shared/contract/topics'
import { startMosquitto } from '../../helpers/mosquitto'
import { framesOnDisk } from './helpers/disk'
import { SimAgent, sleep, waitFor } from './helpers/sim-agent'

const MODEL = path.join(__dirname, 'fixtures', 'brightness.onnx')

function tmp(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'deepn-receive-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

interface Heard {
  topic: string
  body: Record<string, unknown>
  retain: boolean
  at: number
}

async function listen(url: string, filter: string, t: { teardown(fn: () => unknown): void }): Promise<Heard[]> {
  const heard: Heard[] = []
  const c = mqtt.connect(url, { clientId: `listener-${Math.random().toString(16).slice(2)}` })
  t.teardown(() => c.endAsync(true))
  c.on('message', (topic, payload, packet) =>
    heard.push({
      topic,
      body: JSON.parse(payload.toString()) as Record<string, unknown>,
      retain: packet.retain,
      at: Date.now(),
    }),
  )
  await new Promise<void>((resolve) => c.on('connect', () => resolve()))
  await c.subscribeAsync(filter, { qos: 1 })
  return heard
}

t.test('acks: highest contiguous durable seq, held at a gap, repeated on duplicates, not retained', async (t) => {
  const out = path.join(tmp(t), 'ds')
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const acks = await listen(broker.url, 'deepn/+/ack', t)
  const rx = await startReceiver({
    url: broker.url,
    out,
    ack: true,
    ackIntervalMs: 100,
    ackEveryFrames: 1000,
    clientId: 'rx-ack',
    summaryIntervalMs: 0,
    log: () => {},
  })
  t.teardown(() => rx.close())
  // Every ack must only claim frames already on disk when it is sent.
  rx.on('ack', ({ deviceId, seq }: { deviceId: string; seq: number }) => {
    const files = framesOnDisk(out, deviceId)
    for (let s = 1; s <= seq; s++) if (!files.has(s)) t.fail(`ack ${seq} sent before seq ${s} was on disk`)
  })
  await rx.subscribed
  const a = new SimAgent(broker.url, 'cam-a')
  t.teardown(() => a.close())
  for (let seq = 1; seq <= 10; seq++) await a.send(seq)
  await waitFor(() => acks.some((m) => m.body.seq === 10), 5000, 'ack 10')
  t.ok(acks.length < 10, `throttled: ${acks.length} acks for 10 frames`)
  t.same(
    acks.map((m) => m.topic),
    acks.map(() => 'deepn/cam-a/ack'),
  )
  t.same(
    acks.map((m) => m.body.seq),
    [...acks.map((m) => m.body.seq as number)].sort((p, q) => p - q),
    'monotonic',
  )

  await a.send(11)
  await a.send(13) // 12 missing: the ack may not pass 11
  await sleep(400)
  t.equal(acks[acks.length - 1].body.seq, 11, 'held at the gap')
  await a.send(12)
  await waitFor(() => acks[acks.length - 1].body.seq === 13, 5000, 'ack 13 once the gap fills')

  const before = acks.length
  await a.send(4) // a resend: an agent that missed the ack gets it again
  await waitFor(() => acks.length > before, 5000, 'ack repeated after a duplicate')
  t.equal(acks[acks.length - 1].body.seq, 13)
  t.equal(rx.snapshot().devices[0].duplicates, 1)

  const late = await listen(broker.url, 'deepn/+/ack', t)
  await sleep(300)
  t.same(late, [], 'no retained ack for a later subscriber')
})

t.test('--model: each new frame is classified and the result published', async (t) => {
  const out = path.join(tmp(t), 'ds')
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const results = await listen(broker.url, 'deepn/+/results', t)
  const rx = await startReceiver({
    url: broker.url,
    out,
    model: MODEL,
    clientId: 'rx-model',
    summaryIntervalMs: 0,
    log: () => {},
  })
  t.teardown(() => rx.close())
  await rx.subscribed
  const cam = new SimAgent(broker.url, 'cam-m')
  t.teardown(() => cam.close())
  const levels = [240, 15, 200, 30, 250]
  for (const [k, level] of levels.entries()) await cam.send(k + 1, { level })
  await cam.send(2, { level: 15 }) // duplicate: not classified twice
  await waitFor(() => results.length >= levels.length, 10000, 'results')
  await sleep(200)
  t.equal(results.length, levels.length, 'one result per stored frame')
  for (const r of results) {
    const body = r.body as unknown as ResultMessage
    t.equal(r.topic, 'deepn/cam-m/results')
    t.equal(body.label, levels[body.seq - 1] > 128 ? '0' : '1', `seq ${body.seq} (level ${levels[body.seq - 1]})`)
    t.ok(body.score > 0.5 && body.score <= 1, 'score is the winning probability')
    t.match(body, { deviceId: 'cam-m', model: 'brightness.onnx', tableId: 'test-table' })
  }
  t.equal(rx.snapshot().devices[0].results, levels.length)
  t.ok(existsSync(path.join(out, 'cam-m')))
})
