/**
 * Frames are written concurrently but handled in arrival order: a burst with redeliveries mixed in, over MQTT 3.1.1
 * to a broker with no in-flight limit (so only the receiver's own backpressure bounds what is pending).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import mqtt from 'mqtt'
import t from 'tap'
import { startReceiver, type FrameEvent } from '../../../scripts/backend/receive/receiver'
import { startMosquitto } from '../../helpers/mosquitto'
import { stripSegment } from '../../helpers/jpeg-segments'
import { framesOnDisk, indexSeqs, range } from './helpers/disk'
import { makeFrame, withMetadata } from './helpers/frames'
import { waitFor } from './helpers/sim-agent'

t.test(
  'a burst: events and index in arrival order, redeliveries in flight counted as duplicates, every frame once',
  async (t) => {
    const out = mkdtempSync(path.join(tmpdir(), 'deepn-receive-pipeline-'))
    t.teardown(() => rmSync(out, { recursive: true, force: true }))
    const broker = await startMosquitto({ extraConfig: ['max_inflight_messages 0', 'max_queued_messages 100000'] })
    t.teardown(() => broker.stop())
    const rx = await startReceiver({
      url: broker.url,
      out,
      protocol: '3.1.1',
      clientId: 'rx-burst',
      summaryIntervalMs: 0,
      log: () => {},
    })
    t.teardown(() => rx.close())
    const events: FrameEvent[] = []
    rx.on('frame', (e: FrameEvent) => events.push(e))
    await rx.subscribed
    const body = stripSegment(makeFrame({ deviceId: 'cam-p', seq: 0 }), 0xe9)
    const frame = (seq: number) =>
      withMetadata(body, {
        seq,
        capturedAt: new Date(Date.UTC(2026, 10, 25) + seq * 1000).toISOString(),
        tableId: 't',
        deviceId: 'cam-p',
        width: 32,
        height: 24,
      })
    // 300 frames, each tenth followed at once by a resend of the frame before it (as after a lost PUBACK)
    const sent: number[] = []
    for (const seq of range(1, 300)) {
      sent.push(seq)
      if (seq % 10 === 0) sent.push(seq - 1)
    }
    const pub = await mqtt.connectAsync(broker.url, { clientId: 'burst-pub' })
    t.teardown(() => pub.endAsync(true))
    await Promise.all(sent.map((seq) => pub.publishAsync('deepn/cam-p/frames', frame(seq), { qos: 1 })))
    await waitFor(() => events.length === sent.length, 30000, 'an event for every message')
    t.same(
      events.map((e) => e.seq),
      sent,
      'events in arrival order',
    )
    t.same(
      events.filter((e) => e.duplicate).map((e) => e.seq),
      range(1, 30).map((k) => 10 * k - 1),
      'each resend a duplicate, though its first copy may still have been in flight',
    )
    t.same(indexSeqs(out, 'cam-p'), range(1, 300), 'index in arrival order, each frame once')
    t.equal(framesOnDisk(out, 'cam-p').size, 300)
    t.match(rx.snapshot().devices[0], { frames: 300, duplicates: 30, filled: 0, conflicts: 0 })
  },
)
