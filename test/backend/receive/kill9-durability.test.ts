/**
 * No PUBACK before a frame is durable, with frames written concurrently: `deepn receive` (the built CLI) is
 * SIGKILLed while a burst streams in; then the broker's view is read back by resuming the receiver's session with a
 * plain client: whatever it does not redeliver, it was told was stored, and must be on disk with its index line —
 * read before any receiver restart could repair the index.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import mqtt from 'mqtt'
import t from 'tap'
import { readJpegMetadata } from '../../../shared/codec/metadata'
import { startMosquitto } from '../../helpers/mosquitto'
import { framesOnDisk, indexSeqs, range } from './helpers/disk'
import { stripSegment } from '../../helpers/jpeg-segments'
import { makeFrame, withMetadata } from './helpers/frames'
import { ReceiverProcess } from './helpers/receiver-process'
import { waitFor } from './helpers/sim-agent'

const N = 400
const CLIENT_ID = 'receiver-kill9'

t.test('SIGKILL mid-stream: every frame the broker considers delivered is on disk with its index line', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'deepn-receive-kill9-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const out = path.join(dir, 'dataset')
  const broker = await startMosquitto({ extraConfig: ['max_queued_messages 100000'] })
  t.teardown(() => broker.stop())
  const rx = new ReceiverProcess(['--url', broker.url, '--out', out, '--client-id', CLIENT_ID, '--summary', '0'])
  t.teardown(() => rx.kill('SIGKILL'))
  await rx.waitForOutput('subscribed to deepn/+/frames')

  const pub = await mqtt.connectAsync(broker.url, { clientId: 'kill9-publisher' })
  t.teardown(() => pub.endAsync(true))
  // One encode, N metadata stamps: jpeg-js builds its tables per encode, seconds for N frames on a busy machine.
  const body = stripSegment(makeFrame({ deviceId: 'cam-k', seq: 0, width: 64, height: 48 }), 0xe9)
  const frames = range(1, N).map((seq) =>
    withMetadata(body, {
      seq,
      capturedAt: new Date(Date.UTC(2026, 10, 25) + seq * 1000).toISOString(),
      tableId: 't',
      deviceId: 'cam-k',
      width: 64,
      height: 48,
    }),
  )
  const published = Promise.all(frames.map((f) => pub.publishAsync('deepn/cam-k/frames', f, { qos: 1 })))
  await waitFor(() => framesOnDisk(out, 'cam-k').size >= 60, 30000, 'the receiver to store 60 frames')
  const killed = await rx.kill('SIGKILL')
  t.equal(killed.signal, 'SIGKILL', 'killed mid-stream')
  await published // every frame is at the broker, queued for the receiver's session or in flight to it
  const onDisk = framesOnDisk(out, 'cam-k')
  const indexed = new Set(indexSeqs(out, 'cam-k'))
  t.ok(onDisk.size < N, `killed before the end (${onDisk.size} of ${N} on disk)`)

  // The receiver's session, resumed: the broker resends what was never acknowledged, then the queue, then the marker.
  await pub.publishAsync('deepn/marker/frames', 'end', { qos: 1 })
  const redelivered = new Set<number>()
  const resumed = mqtt.connect(broker.url, {
    clientId: CLIENT_ID,
    clean: false,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 60 },
  })
  t.teardown(() => resumed.endAsync(true))
  let sessionPresent = false
  resumed.on('connect', (connack) => {
    sessionPresent = connack.sessionPresent
  })
  let marker = false
  resumed.on('message', (topic, payload) => {
    if (topic === 'deepn/marker/frames') marker = true
    else redelivered.add(readJpegMetadata(payload)?.seq as number)
  })
  await waitFor(() => marker, 30000, 'the broker to resend everything up to the marker')
  t.ok(sessionPresent, "the receiver's session was resumed")

  const acknowledged = range(1, N).filter((seq) => !redelivered.has(seq))
  t.ok(acknowledged.length > 0, `${acknowledged.length} frames acknowledged before the kill`)
  t.ok(redelivered.size > 0, `${redelivered.size} frames left unacknowledged by the kill`)
  t.same(
    acknowledged.filter((seq) => !onDisk.has(seq)),
    [],
    'every acknowledged frame has its file',
  )
  t.same(
    acknowledged.filter((seq) => !indexed.has(seq)),
    [],
    'every acknowledged frame has its index line',
  )
})
