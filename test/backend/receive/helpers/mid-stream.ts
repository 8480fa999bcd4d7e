/**
 * What the SIGKILL tests share (kill9-durability, shards-kill9): a stream of frames a receiver can be killed in the
 * middle of, and the broker's view afterwards — which frames it was never told were stored.
 */
import mqtt, { type MqttClient } from 'mqtt'
import { readJpegMetadata } from '../../../../shared/codec/metadata'
import { stripSegment } from '../../../helpers/jpeg-segments'
import { range } from './disk'
import { makeFrame, withMetadata } from './frames'
import { sleep, waitFor } from './sim-agent'

/** Frames 1..n of a device, 64x48: one encode and n metadata stamps (jpeg-js builds its tables per encode). */
export function stampedFrames(deviceId: string, n: number): Buffer[] {
  const body = stripSegment(makeFrame({ deviceId, seq: 0, width: 64, height: 48 }), 0xe9)
  return range(1, n).map((seq) =>
    withMetadata(body, {
      seq,
      capturedAt: new Date(Date.UTC(2026, 10, 25) + seq * 1000).toISOString(),
      tableId: 't',
      deviceId,
      width: 64,
      height: 48,
    }),
  )
}

/**
 * Publishes the frames at QoS 1 in steps of 20 with a pause between, so a kill falls mid-stream however fast the
 * receiver stores; after `hurry()` the rest goes at once. `done` resolves once the broker has every frame.
 */
export function publishInSteps(pub: MqttClient, topic: string, frames: Buffer[]) {
  let paced = true
  const done = (async () => {
    for (let i = 0; i < frames.length; i += 20) {
      await Promise.all(frames.slice(i, i + 20).map((f) => pub.publishAsync(topic, f, { qos: 1 })))
      if (paced) await sleep(10)
    }
  })()
  return { done, hurry: () => (paced = false) }
}

/**
 * Resumes the session of a receiver that is gone and collects the seqs the broker resends: the frames it was never
 * told were stored. A marker published first on `<prefix>/marker/frames` ends the wait. The resumed session
 * acknowledges what it is sent, so the broker's view is read once.
 */
export async function unacknowledgedSeqs(
  pub: MqttClient,
  url: string,
  clientId: string,
): Promise<{ seqs: Set<number>; sessionPresent: boolean }> {
  await pub.publishAsync('deepn/marker/frames', 'end', { qos: 1 })
  const seqs = new Set<number>()
  const resumed = mqtt.connect(url, {
    clientId,
    clean: false,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 60 },
  })
  let sessionPresent = false
  resumed.on('connect', (connack) => {
    sessionPresent = connack.sessionPresent
  })
  let marker = false
  resumed.on('message', (topic, payload) => {
    if (topic === 'deepn/marker/frames') marker = true
    else seqs.add(readJpegMetadata(payload)?.seq as number)
  })
  try {
    await waitFor(() => marker, 30000, 'the broker to resend everything up to the marker')
  } finally {
    await resumed.endAsync(true)
  }
  return { seqs, sessionPresent }
}
