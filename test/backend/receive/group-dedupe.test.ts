/**
 * Two receivers of one group writing one folder, each with its own MQTT client and its own Dataset (nothing shared
 * in memory, as between processes), on a real Mosquitto: a frame delivered to both (an agent resending) is stored
 * once, and a frame file left without its index line (its writer killed between the two) gets its line from the
 * member the frame is redelivered to. Bad group names are refused.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import mqtt from 'mqtt'
import t from 'tap'
import { Dataset, SHARED_GRACE_MS } from '../../../scripts/backend/receive/dataset'
import { parseReceiveArgs } from '../../../scripts/backend/receive/options'
import { startReceiver, type FrameEvent, type Receiver } from '../../../scripts/backend/receive/receiver'
import { startMosquitto } from '../../helpers/mosquitto'
import { framesOnDisk, indexSeqs, range } from './helpers/disk'
import { makeFrame } from './helpers/frames'
import { waitFor } from './helpers/sim-agent'

const N = 20

t.test('a frame delivered to two members is stored once, with one index line', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'deepn-receive-group-dedupe-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const out = path.join(dir, 'dataset')
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())

  // A frame file as a member killed between its link and its index line leaves it.
  const orphan = makeFrame({ deviceId: 'cam-o', seq: 7 })
  const orphanFile = path.join(out, Dataset.framePath('cam-o', { seq: 7, capturedAt: '2026-11-25T12:00:07.000Z' }))
  mkdirSync(path.dirname(orphanFile), { recursive: true })
  writeFileSync(orphanFile, orphan)

  const events = new Map<string, FrameEvent[]>()
  const start = async (name: string): Promise<Receiver> => {
    const rx = await startReceiver({
      url: broker.url,
      out,
      group: 'pair',
      clientId: `dedupe-${name}`,
      summaryIntervalMs: 0,
      log: () => {},
    })
    t.teardown(() => rx.close())
    events.set(name, [])
    rx.on('frame', (e: FrameEvent) => events.get(name)!.push(e))
    await rx.subscribed
    return rx
  }
  await start('a')
  await start('b')
  const all = () => [...events.values()].flat()

  const pub = await mqtt.connectAsync(broker.url, { clientId: 'dedupe-publisher' })
  t.teardown(() => pub.endAsync(true))
  // Each seq twice in a row: the broker hands consecutive messages to different members (round robin).
  for (const seq of range(1, N)) {
    const frame = makeFrame({ deviceId: 'cam-d', seq })
    await pub.publishAsync('deepn/cam-d/frames', frame, { qos: 1 })
    await pub.publishAsync('deepn/cam-d/frames', frame, { qos: 1 })
  }
  await waitFor(() => all().length === 2 * N, 30000, `${2 * N} deliveries handled`)
  const stored = all().filter((e) => !e.duplicate)
  t.equal(stored.length, N, 'each seq stored by exactly one member')
  t.equal(all().length - stored.length, N, 'the other copy refused as a duplicate')
  const storedBy = new Map<number, string>()
  const refusedBy = new Map<number, string>()
  for (const [name, list] of events) for (const e of list) (e.duplicate ? refusedBy : storedBy).set(e.seq, name)
  const across = range(1, N).filter((seq) => storedBy.get(seq) !== refusedBy.get(seq))
  t.ok(across.length > 0, `${across.length} of ${N} seqs were stored by one member and refused by the other`)
  t.ok(events.get('a')!.length > 0 && events.get('b')!.length > 0, 'both members got deliveries')
  const files = framesOnDisk(out, 'cam-d')
  t.same(
    [...files.keys()].sort((a, b) => a - b),
    range(1, N),
    'seqs 1..N on disk',
  )
  t.ok(
    [...files.values()].every((f) => f.length === 1),
    'one file each',
  )
  t.same(
    indexSeqs(out, 'cam-d').sort((a, b) => a - b),
    range(1, N),
    'one index line each',
  )

  // The orphan: young at start-up, so neither member indexed it (it could have been mid-write elsewhere); its
  // redelivery finds the file, waits out the grace period for the writer's line, then appends the line itself.
  t.same(indexSeqs(out, 'cam-o'), [], 'the orphan has no index line yet')
  const orphanChanged = statSync(orphanFile).ctimeMs // taking its line changes it (line-claim.ts)
  await pub.publishAsync('deepn/cam-o/frames', orphan, { qos: 1 })
  await waitFor(() => all().some((e) => e.deviceId === 'cam-o'), SHARED_GRACE_MS + 10000, 'the orphan redelivered')
  t.ok(all().find((e) => e.deviceId === 'cam-o')!.duplicate, 'its file is not written again')
  t.ok(Date.now() >= orphanChanged + SHARED_GRACE_MS, 'the line waited for the grace period')
  t.same(indexSeqs(out, 'cam-o'), [7], 'the orphan got exactly one index line')
})

t.test('while running, each member acks and reports gaps from what every member stored', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'deepn-receive-group-acks-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const out = path.join(dir, 'dataset')
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const members: Receiver[] = []
  const stored = new Map<Receiver, number>()
  for (const name of ['a', 'b']) {
    const rx = await startReceiver({
      url: broker.url,
      out,
      group: 'acks',
      clientId: `acks-${name}`,
      ack: true,
      ackIntervalMs: 100,
      groupSyncMs: 200,
      summaryIntervalMs: 0,
      log: () => {},
    })
    t.teardown(() => rx.close())
    rx.on('frame', (e: FrameEvent) => {
      if (!e.duplicate) stored.set(rx, (stored.get(rx) ?? 0) + 1)
    })
    await rx.subscribed
    members.push(rx)
  }
  let acked = 0
  const pub = await mqtt.connectAsync(broker.url, { clientId: 'acks-publisher' })
  t.teardown(() => pub.endAsync(true))
  pub.on('message', (_topic, payload) => {
    acked = Math.max(acked, (JSON.parse(payload.toString()) as { seq: number }).seq)
  })
  await pub.subscribeAsync('deepn/cam-s/ack', { qos: 1 })
  for (const seq of range(1, N))
    await pub.publishAsync('deepn/cam-s/frames', makeFrame({ deviceId: 'cam-s', seq }), { qos: 1 })
  await waitFor(() => (stored.get(members[0]) ?? 0) + (stored.get(members[1]) ?? 0) === N, 30000, 'every frame stored')
  t.ok(
    members.every((rx) => (stored.get(rx) ?? 0) > 0 && (stored.get(rx) ?? 0) < N),
    `each member stored a part (${members.map((rx) => stored.get(rx)).join(' + ')})`,
  )
  // Neither member stored every seq, so only the shared index gets an ack through N and a gap-free report.
  await waitFor(() => acked === N, 10000, `an ack through seq ${N} while the members run`)
  // each member reads the other's index lines every groupSyncMs: the one that acked may be a sync ahead
  const complete = (rx: Receiver) => rx.snapshot().devices.find((d) => d.deviceId === 'cam-s')?.contiguousThrough === N
  await waitFor(() => members.every(complete), 10000, 'both members caught up with the shared index').catch(() => {})
  for (const rx of members) {
    const dev = rx.snapshot().devices.find((d) => d.deviceId === 'cam-s')!
    t.match(dev, { firstSeq: 1, lastSeq: N, contiguousThrough: N, missing: 0 }, 'no gaps in the folder')
  }
})

t.test('MQTT 3.1.1 members share the frames too (Mosquitto offers $share to 3.1.1 clients)', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'deepn-receive-group-311-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const out = path.join(dir, 'dataset')
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const counts = [0, 0]
  for (const k of [0, 1]) {
    const rx = await startReceiver({
      url: broker.url,
      out,
      group: 'old',
      clientId: `old-${k}`,
      protocol: '3.1.1',
      summaryIntervalMs: 0,
      log: () => {},
    })
    t.teardown(() => rx.close())
    rx.on('frame', (e: FrameEvent) => {
      if (!e.duplicate) counts[k]++
    })
    await rx.subscribed
  }
  const pub = await mqtt.connectAsync(broker.url, { clientId: 'old-publisher' })
  t.teardown(() => pub.endAsync(true))
  for (const seq of range(1, N))
    await pub.publishAsync('deepn/cam-3/frames', makeFrame({ deviceId: 'cam-3', seq }), { qos: 1 })
  await waitFor(() => counts[0] + counts[1] === N, 30000, 'every frame stored')
  t.ok(counts[0] > 0 && counts[1] > 0, `both members stored a share (${counts.join(' + ')})`)
  t.same(
    indexSeqs(out, 'cam-3').sort((a, b) => a - b),
    range(1, N),
    'one index line each',
  )
})

t.test('a bad group name is refused, naming the flag', async (t) => {
  for (const bad of ['a/b', 'fleet+', '#', ''])
    t.throws(() => parseReceiveArgs(['--group', bad]), /--group/, `--group '${bad}'`)
  t.match(parseReceiveArgs(['--group', 'fleet-a']), { group: 'fleet-a' })
  await t.rejects(
    startReceiver({ url: 'mqtt://127.0.0.1:1', out: path.join(tmpdir(), 'unused'), group: 'x/y' }),
    /group name 'x\/y' contains/,
  )
})
