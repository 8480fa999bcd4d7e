/**
 * PAYLOAD_MARGIN: the one margin kept below the payload limit covers the metadata stamp and the PUBLISH packet's
 * header for the largest metadata and topic the schema allows, measured on the packet mqtt-packet (MQTT.js's own
 * encoder) writes for it.
 */
import t from 'tap'
import { generate } from 'mqtt-packet'
import { encodeJpeg } from '../../shared/codec'
import { quantDigest } from '../../shared/codec/quant-digest'
import { SPEC_BY_KEY } from '../../shared/config/schema'
import { topic } from '../../shared/contract/topics'
import type { FrameMetadata } from '../../shared/contract/topics'
import { framePublishOptions } from '../../agent/extensions/frames'
import { PAYLOAD_MARGIN } from '../../agent/pipeline/fit'
import { stampMetadata } from '../../agent/pipeline/stamp'
import { makeImage } from '../codec/helpers'

const maxLength = (key: string): number => {
  const spec = SPEC_BY_KEY.get(key)
  if (!spec?.maxLength) throw new Error(`schema has no maxLength for ${key}`)
  return spec.maxLength
}

t.test('the stamp and the packet header of the largest metadata the schema allows fit PAYLOAD_MARGIN', async (t) => {
  const frame = encodeJpeg(makeImage(24, 16, 'rgb', 'gradient', 1), { quality: 80 })
  const worst: Required<FrameMetadata> = {
    seq: Number.MAX_SAFE_INTEGER,
    capturedAt: new Date(Date.UTC(275000, 0, 1)).toISOString(), // a 6-digit year: longer than any real clock gives
    tableId: `${'x'.repeat(maxLength('encoder.table'))}*${(1 / 3).toFixed(3)}99999`, // `*<scale>` follows the id
    deviceId: 'd'.repeat(maxLength('deviceId')),
    width: 65535,
    height: 65535,
    quantDigest: quantDigest(frame),
    keepMap: 'k'.repeat(64), // a keep map id: the table-id rule, 1..64 characters
  }
  const payload = stampMetadata(frame, worst)
  const o = framePublishOptions(worst)
  const packet = generate(
    {
      cmd: 'publish',
      topic: topic('p'.repeat(maxLength('mqtt.prefix')), worst.deviceId, 'frames'),
      payload: Buffer.from(payload),
      qos: o.qos,
      messageId: 65535,
      retain: false,
      dup: false,
      properties: { contentType: o.contentType, userProperties: o.userProperties },
    },
    { protocolVersion: 5 },
  )
  const added = packet.length - frame.length
  t.ok(
    added <= PAYLOAD_MARGIN,
    `stamp ${payload.length - frame.length} B + packet header ${packet.length - payload.length} B = ${added} B of ${PAYLOAD_MARGIN}`,
  )
  // Not far above it either: the margin is what the encoder gives up on every frame.
  t.ok(added > PAYLOAD_MARGIN / 2, `${added} B uses more than half of the margin`)
})
