/**
 * stampMetadata: the segment lands after SOI (or after JFIF's APP0), the file still decodes, and the largest
 * metadata the schema allows fits the room the payload limit keeps for it (STAMP_RESERVE).
 */
import t from 'tap'
import jpeg from 'jpeg-js'
import { encodeJpeg } from '../../shared/codec'
import { readJpegMetadata } from '../../shared/codec/metadata'
import { quantDigest } from '../../shared/codec/quant-digest'
import type { FrameMetadata } from '../../shared/contract/topics'
import { STAMP_RESERVE, stampMetadata } from '../../agent/pipeline/stamp'
import { makeImage } from '../codec/helpers'

const frame = encodeJpeg(makeImage(24, 16, 'rgb', 'gradient', 1), { quality: 80 })

t.test('the largest metadata the schema allows fits STAMP_RESERVE', async (t) => {
  const worst: Required<FrameMetadata> = {
    seq: Number.MAX_SAFE_INTEGER,
    capturedAt: new Date(Date.UTC(275000, 0, 1)).toISOString(), // a 6-digit year: longer than any real clock gives
    tableId: 'x'.repeat(64) + '*' + (1 / 3).toFixed(3) + '99999', // table ids are ≤ 64; `*<scale>` follows
    deviceId: 'd'.repeat(64),
    width: 65535,
    height: 65535,
    quantDigest: quantDigest(frame),
  }
  const stamped = stampMetadata(frame, worst)
  t.ok(stamped.length - frame.length <= STAMP_RESERVE, `${stamped.length - frame.length} B of ${STAMP_RESERVE}`)
  t.same(readJpegMetadata(stamped), worst)
})

t.test('the stamped file decodes to the same pixels and keeps its tables digest', async (t) => {
  const meta: FrameMetadata = { seq: 3, capturedAt: new Date(0).toISOString(), tableId: 'q80', deviceId: 'cam', width: 24, height: 16, quantDigest: quantDigest(frame) }
  const stamped = stampMetadata(frame, meta)
  t.same(readJpegMetadata(stamped), meta)
  t.equal(quantDigest(stamped), meta.quantDigest)
  t.same(jpeg.decode(stamped, { useTArray: true }).data, jpeg.decode(frame, { useTArray: true }).data)
  t.throws(() => stampMetadata(frame.subarray(2), meta), /not a JPEG/)
})

t.test('a frame whose first segment is broken is refused, not stamped into garbage', async (t) => {
  const meta: FrameMetadata = { seq: 1, capturedAt: new Date(0).toISOString(), tableId: 'q80', deviceId: 'cam', width: 24, height: 16 }
  const broken = Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0x40, 0x00, ...frame.subarray(6, 40))
  t.throws(() => stampMetadata(broken, meta), /^cannot stamp metadata: corrupt JPEG: segment 0xFFE0 at byte 2 overruns the file$/)
})
