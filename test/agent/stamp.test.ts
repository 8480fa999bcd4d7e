/**
 * stampMetadata: the segment lands after SOI (or after JFIF's APP0) and the file still decodes. (That the largest
 * stamp fits the payload limit's margin: payload-margin.test.ts.)
 */
import t from 'tap'
import jpeg from 'jpeg-js'
import { encodeJpeg } from '../../shared/codec'
import { readJpegMetadata } from '../../shared/codec/metadata'
import { quantDigest } from '../../shared/codec/quant-digest'
import type { FrameMetadata } from '../../shared/contract/topics'
import { stampMetadata } from '../../agent/pipeline/stamp'
import { makeImage } from '../codec/helpers'

const frame = encodeJpeg(makeImage(24, 16, 'rgb', 'gradient', 1), { quality: 80 })

t.test('the stamped file decodes to the same pixels and keeps its tables digest', async (t) => {
  const meta: FrameMetadata = {
    seq: 3,
    capturedAt: new Date(0).toISOString(),
    tableId: 'q80',
    deviceId: 'cam',
    width: 24,
    height: 16,
    quantDigest: quantDigest(frame),
  }
  const stamped = stampMetadata(frame, meta)
  t.same(readJpegMetadata(stamped), meta)
  t.equal(quantDigest(stamped), meta.quantDigest)
  t.same(jpeg.decode(stamped, { useTArray: true }).data, jpeg.decode(frame, { useTArray: true }).data)
  t.throws(() => stampMetadata(frame.subarray(2), meta), /not a JPEG/)
})

t.test('a frame whose first segment is broken is refused, not stamped into garbage', async (t) => {
  const meta: FrameMetadata = {
    seq: 1,
    capturedAt: new Date(0).toISOString(),
    tableId: 'q80',
    deviceId: 'cam',
    width: 24,
    height: 16,
  }
  const broken = Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0x40, 0x00, ...frame.subarray(6, 40))
  t.throws(
    () => stampMetadata(broken, meta),
    /^cannot stamp metadata: corrupt JPEG: segment 0xFFE0 at byte 2 overruns the file$/,
  )
})
