/**
 * Delivery modes and payload limits, in-process against a real Mosquitto: end-to-end ack keeps frames until the
 * receiver acknowledges them and re-sends after the ack timeout; the broker's CONNACK maximumPacketSize is honoured.
 */
import t from 'tap'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import jpeg from 'jpeg-js'
import { readJpegMetadata } from '../../shared/codec/metadata'
import { encodeJpeg } from '../../shared/codec'
import { openFrameStore } from '../../agent/buffer/open'
import { makeImage } from '../codec/helpers'
import { validatePartial } from '../../shared/config'
import { createAgent } from '../../agent/commands/run'
import { loadLocalConfig } from '../../agent/config-file'
import { memoryLogger } from '../helpers/log'
import type { Controller } from '../../agent/controller'
import { startMosquitto } from '../helpers/mosquitto'
import { subscribe } from '../helpers/subscriber'
import { writeSchema1Buffer } from '../buffer/fixtures/schema1'
import { quantDigest } from '../../shared/codec/quant-digest'
import { forEachHeaderSegment, isSofMarker } from '../../shared/codec/segments'

const log = memoryLogger('warn')
const seqOf = (p: Buffer): number => readJpegMetadata(new Uint8Array(p))!.seq as number

function agentFor(
  url: string,
  deviceId: string,
  doc: Record<string, unknown>,
  dir = mkdtempSync(join(tmpdir(), 'deepn-delivery-')),
): Controller {
  const local = loadLocalConfig({
    env: {
      DEEPN_MQTT_URL: url,
      DEEPN_DEVICE_ID: deviceId,
      DEEPN__BUFFER__PATH: join(dir, 'buffer.db'),
      DEEPN_LOG_LEVEL: 'warn',
    },
  })
  local.local = { ...local.local, ...validatePartial(doc, { remote: false }) }
  return createAgent(local, log)
}

t.test('e2e-ack: frames stay buffered after PUBACK until acked; unacked frames are re-sent', async (t) => {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const agent = agentFor(broker.url, 'e2e', {
    delivery: 'e2e-ack',
    ackTimeoutMs: 1500,
    capture: { width: 64, height: 48, intervalMs: 20, maxFrames: 10 },
  })
  const sub = await subscribe(broker.url, ['deepn/e2e/frames'])
  t.teardown(() => sub.close())
  await agent.start()
  t.teardown(() => agent.stop())
  const store = agent['o'].store
  await sub.waitFor(() => sub.messages.length >= 10, 20000, '10 frames')
  await new Promise((r) => setTimeout(r, 300))
  t.equal(store.stats().frames, 10, 'PUBACKed but unacknowledged frames stay in the buffer')
  await sub.waitFor(() => sub.messages.length >= 20, 10000, 're-sent after the ack timeout')
  t.same(
    [...new Set(sub.messages.map((m) => seqOf(m.payload)))].sort((a, b) => a - b),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  )
  await sub.client.publishAsync('deepn/e2e/ack', JSON.stringify({ seq: 6 }), { qos: 1 })
  await sub.waitFor(() => store.stats().frames === 4, 5000, 'ack through 6 releases 6 frames')
  await sub.client.publishAsync('deepn/e2e/ack', 'garbage', { qos: 1 })
  await sub.client.publishAsync('deepn/e2e/ack', JSON.stringify({ seq: 10 }), { qos: 1 })
  await sub.waitFor(() => store.stats().frames === 0, 5000, 'all released')
  const before = sub.messages.length
  await new Promise((r) => setTimeout(r, 2500))
  t.equal(sub.messages.length, before, 'nothing re-sent once everything is acked')
})

t.test('puback mode ignores acks and does not wait for them', async (t) => {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const agent = agentFor(broker.url, 'pa', { capture: { width: 64, height: 48, intervalMs: 20, maxFrames: 5 } })
  const sub = await subscribe(broker.url, ['deepn/pa/frames'])
  t.teardown(() => sub.close())
  await agent.start()
  t.teardown(() => agent.stop())
  await sub.waitFor(() => sub.messages.length >= 5, 20000, '5 frames')
  await sub.client.publishAsync('deepn/pa/ack', JSON.stringify({ seq: 0 }), { qos: 1 })
  await sub.waitFor(() => agent['o'].store.stats().frames === 0, 5000, 'buffer empties on PUBACK')
  t.equal(agent.stats.published, 5)
  t.same(
    sub.messages.map((m) => seqOf(m.payload)),
    [1, 2, 3, 4, 5],
  )
})

t.test("the broker's maximumPacketSize (CONNACK) makes big frames re-encode to fit", async (t) => {
  const broker = await startMosquitto({ extraConfig: ['max_packet_size 6000'] })
  t.teardown(() => broker.stop())
  const agent = agentFor(broker.url, 'small', {
    capture: { width: 320, height: 240, intervalMs: 20, maxFrames: 3 },
    encoder: { table: '', quality: 95 },
  })
  const sub = await subscribe(broker.url, ['deepn/small/frames'])
  t.teardown(() => sub.close())
  await agent.start()
  t.teardown(() => agent.stop())
  await sub.waitFor(() => sub.messages.length >= 3, 20000, '3 frames')
  for (const m of sub.messages) {
    t.ok(m.payload.length < 6000, `${m.payload.length} B fits`)
    t.match(readJpegMetadata(new Uint8Array(m.payload))!.tableId, /^q95\*/)
    t.equal(jpeg.decode(m.payload).width, 320)
  }
  t.equal(agent.stats.setAside, 0)
})

t.test(
  'a frame that cannot fit even at the coarsest step is set aside and counted, never stored or retried',
  async (t) => {
    const broker = await startMosquitto()
    t.teardown(() => broker.stop())
    const agent = agentFor(broker.url, 'tiny', {
      capture: { width: 640, height: 480, intervalMs: 20, maxFrames: 3 },
      encoder: { table: '', quality: 100 },
    })
    agent.applyRemote(validatePartial({ mqtt: { maxPayloadBytes: 1024 } }, { remote: true }))
    await agent.start()
    t.teardown(() => agent.stop())
    const deadline = Date.now() + 20000
    while (agent.stats.setAside < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    t.equal(agent.stats.setAside, 3, 'all three set aside')
    t.match(agent.stats.lastError?.message, /limit is/)
    t.equal(agent['o'].store.stats().frames, 0, 'nothing oversized was stored')
  },
)

t.test('frames buffered before a lower limit was known are re-encoded at publish time, same seq', async (t) => {
  const broker = await startMosquitto({ persistence: true })
  t.teardown(() => broker.stop())
  const sub2 = await subscribe(broker.url, ['deepn/later/frames'], { persistent: true })
  t.teardown(() => sub2.close())
  await broker.stop() // frames pile up at their natural size while the broker is away
  const agent = agentFor(broker.url, 'later', {
    capture: { width: 320, height: 240, intervalMs: 20, maxFrames: 3 },
    encoder: { table: '', quality: 95 },
    mqtt: { reconnectMinMs: 100, reconnectMaxMs: 300 },
  })
  await agent.start()
  t.teardown(() => agent.stop())
  const store = agent['o'].store
  const deadline = Date.now() + 20000
  while (store.stats().frames < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  const natural = Math.min(...store.peek(3).map((f) => f.jpeg.length))
  const cap = Math.floor(natural * 0.6)
  agent.applyRemote(validatePartial({ mqtt: { maxPayloadBytes: cap } }, { remote: true }))
  t.equal(agent.stats.published, 0, 'nothing published yet')
  await broker.start()
  await sub2
    .waitFor(() => sub2.messages.length >= 3, 20000, '3 frames')
    .catch((e) => {
      throw new Error(
        `${e.message}: got ${sub2.messages.length}, stats ${JSON.stringify(agent.stats)}, buffered ${store.stats().frames}, link up ${agent.link.up}`,
      )
    })
  t.same(
    sub2.messages.map((m) => seqOf(m.payload)),
    [1, 2, 3],
  )
  for (const m of sub2.messages) {
    t.ok(m.payload.length <= cap, `${m.payload.length} <= ${cap}`)
    t.match(readJpegMetadata(new Uint8Array(m.payload))!.tableId, /^q95\*/)
    t.equal(jpeg.decode(m.payload).width, 320)
  }
})

t.test('a buffered frame damaged at rest is set aside, never published; the frames around it go out', async (t) => {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const dir = mkdtempSync(join(tmpdir(), 'deepn-delivery-'))
  const { store } = openFrameStore({ path: join(dir, 'buffer.db') })
  const good = encodeJpeg(makeImage(16, 16, 'rgb', 'gradient', 1), { quality: 80 })
  const damaged = good.slice()
  damaged[damaged.indexOf(0xdb, 2) + 1] = 0xff // the DQT segment's length now runs past the file
  for (const jpegBytes of [good, damaged, good])
    store.append({ jpeg: jpegBytes, capturedAt: Date.now(), tableId: 'q80', width: 16, height: 16 })
  store.close()
  const agent = agentFor(
    broker.url,
    'damaged',
    { capture: { width: 16, height: 16, intervalMs: 20, maxFrames: 1 } },
    dir,
  )
  const sub = await subscribe(broker.url, ['deepn/damaged/frames'])
  t.teardown(() => sub.close())
  await agent.start()
  t.teardown(() => agent.stop())
  await sub.waitFor(() => sub.messages.length >= 3, 20000, 'the two good buffered frames and one new one')
  await new Promise((r) => setTimeout(r, 300))
  t.same(
    sub.messages.map((m) => seqOf(m.payload)),
    [1, 3, 4],
    'seq 2 never published',
  )
  t.equal(agent.stats.setAside, 1)
  t.match(agent.stats.lastError?.message, /seq 2 set aside: stored JPEG is damaged: corrupt JPEG: segment 0xFFDB/)
  t.equal(agent['o'].store.stats().frames, 0, 'and it left the buffer')
})

t.test('a grey frame refitted at publish time stays one component', async (t) => {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const dir = mkdtempSync(join(tmpdir(), 'deepn-delivery-'))
  const { store } = openFrameStore({ path: join(dir, 'buffer.db') })
  const grey = encodeJpeg(makeImage(320, 240, 'gray', 'random', 3), { quality: 95 })
  t.equal(components(grey), 1)
  store.append({
    jpeg: grey,
    capturedAt: Date.now(),
    tableId: 'q95',
    quantDigest: quantDigest(grey),
    width: 320,
    height: 240,
  })
  store.close()
  const cap = Math.floor(grey.length * 0.6)
  const agent = agentFor(
    broker.url,
    'grey',
    {
      capture: { width: 16, height: 16, intervalMs: 20, maxFrames: 1 },
      encoder: { table: '', quality: 95 },
      mqtt: { maxPayloadBytes: cap },
    },
    dir,
  )
  const sub = await subscribe(broker.url, ['deepn/grey/frames'])
  t.teardown(() => sub.close())
  await agent.start()
  t.teardown(() => agent.stop())
  await sub.waitFor(() => sub.messages.length >= 1, 20000, 'the refitted frame')
  const out = new Uint8Array(sub.messages[0].payload)
  t.ok(out.length <= cap, `${out.length} <= ${cap}`)
  t.match(readJpegMetadata(out), { seq: 1, tableId: /^q95\*/, quantDigest: quantDigest(out) })
  t.equal(components(out), 1, 'one component, as stored')
})

t.test('a buffer file written by a schema-1 agent (no stored digests) opens and delivers its frames', async (t) => {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const dir = mkdtempSync(join(tmpdir(), 'deepn-delivery-'))
  const file = join(dir, 'buffer.db')
  const old = encodeJpeg(makeImage(16, 16, 'rgb', 'gradient', 2), { quality: 80 })
  writeSchema1Buffer(
    file,
    [1, 2].map((seq) => ({ seq, jpeg: old })),
  )
  const agent = agentFor(
    broker.url,
    'schema1',
    { capture: { width: 16, height: 16, intervalMs: 20, maxFrames: 1 } },
    dir,
  )
  const sub = await subscribe(broker.url, ['deepn/schema1/frames'])
  t.teardown(() => sub.close())
  await agent.start()
  t.teardown(() => agent.stop())
  await sub.waitFor(() => sub.messages.length >= 3, 20000, 'the two old frames and one new one')
  t.same(
    sub.messages.map((m) => seqOf(m.payload)),
    [1, 2, 3],
    'old frames first, new seqs continue after them',
  )
  for (const m of sub.messages)
    t.equal(readJpegMetadata(new Uint8Array(m.payload))!.quantDigest, quantDigest(new Uint8Array(m.payload)))
  t.equal(agent.stats.setAside, 0)
})

/** Component count in the frame header. */
function components(file: Uint8Array): number {
  let n = 0
  forEachHeaderSegment(file, (marker, start) => {
    if (!isSofMarker(marker)) return false
    n = file[start + 5]
    return true
  })
  return n
}
