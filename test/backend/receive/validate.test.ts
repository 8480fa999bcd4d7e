import { spawnSync } from 'node:child_process'
import t from 'tap'
import { checkJpegStructure } from '../../../scripts/backend/receive/jpeg-structure'
import { validateFrame } from '../../../scripts/backend/receive/validate'
import { makeFrame } from './helpers/frames'
import { stripSegment } from '../../helpers/jpeg-segments'
import { quantDigest } from '../../../shared/codec/quant-digest'

t.test('a real frame passes and yields its metadata', async (t) => {
  const f = makeFrame({ deviceId: 'cam-a', seq: 7, width: 40, height: 30 })
  const meta = validateFrame('cam-a', f, { decode: true })
  t.equal(meta.seq, 7)
  t.equal(meta.width, 40)
  t.equal(meta.deviceId, 'cam-a')
  t.same(checkJpegStructure(f), { width: 40, height: 30, components: 3, scans: 1 })
  t.equal(meta.quantDigest, quantDigest(f), 'a sender without quantDigest gets it recomputed')
  const sent = makeFrame({ deviceId: 'cam-a', seq: 8, width: 40, height: 30, meta: { quantDigest: quantDigest(f) } })
  t.equal(validateFrame('cam-a', sent).quantDigest, quantDigest(f), 'a matching one is accepted')
})

t.test('cjpeg output (progressive, restart markers) passes the structure check', async (t) => {
  const ppm = Buffer.concat([Buffer.from('P6\n16 8\n255\n'), Buffer.alloc(16 * 8 * 3, 0x80)])
  for (const args of [['-progressive'], ['-restart', '1B'], ['-grayscale']]) {
    const r = spawnSync('cjpeg', args, { input: ppm })
    t.equal(r.status, 0, `cjpeg ${args.join(' ')}`)
    const shape = checkJpegStructure(r.stdout)
    t.equal(shape.width, 16)
    t.equal(shape.height, 8)
    if (args[0] === '-progressive') t.ok(shape.scans > 1, 'several scans')
    if (args[0] === '-grayscale') t.equal(shape.components, 1)
  }
})

t.test('bad payloads are refused with a reason naming what is wrong', async (t) => {
  const good = makeFrame({ deviceId: 'cam-a', seq: 1 })
  const cases: Array<[string, Buffer, RegExp, string?]> = [
    ['empty', Buffer.alloc(0), /missing SOI/],
    ['text', Buffer.from('hello world'), /missing SOI/],
    ['truncated', good.subarray(0, good.length - 40), /truncated|EOI/],
    ['no EOI', good.subarray(0, good.length - 2), /without EOI|no EOI/],
    ['trailing bytes', Buffer.concat([good, Buffer.from([1, 2, 3])]), /after EOI/],
    ['no metadata', makeJpegWithout(), /no DEEPN metadata/],
    ['wrong device', good, /does not match the topic/, 'cam-b'],
    ['unsafe device id', good, /not usable as a folder name/, '..'],
    ['bad seq', makeFrame({ deviceId: 'cam-a', seq: 1, meta: { seq: -3 } }), /seq must be a non-negative integer/],
    ['bad time', makeFrame({ deviceId: 'cam-a', seq: 1, meta: { capturedAt: 'yesterday' } }), /capturedAt/],
    ['size mismatch', makeFrame({ deviceId: 'cam-a', seq: 1, meta: { width: 999 } }), /frame header says 32x24/],
    [
      'quantization digest mismatch',
      makeFrame({ deviceId: 'cam-a', seq: 1, meta: { quantDigest: '0123456789abcdef' } }),
      /quantDigest "0123456789abcdef" does not match the file's quantization tables \([0-9a-f]{16}\)/,
    ],
  ]
  for (const [name, payload, re, device] of cases) {
    t.throws(() => validateFrame(device ?? 'cam-a', payload), re, name)
  }
  const broken = Buffer.from(good)
  broken[4] = 0x00 // first segment length high byte → overrun
  broken[5] = 0x01
  t.throws(() => validateFrame('cam-a', broken), /corrupt JPEG|overrun/, 'broken segment length')
})

t.test('--decode catches entropy data jpeg-js cannot decode', async (t) => {
  const good = makeFrame({ deviceId: 'cam-a', seq: 1, width: 64, height: 64 })
  // Drop the Huffman tables: structure stays valid, decoding cannot work.
  const noDht = stripSegment(good, 0xc4)
  t.doesNotThrow(() => validateFrame('cam-a', noDht), 'structure alone does not see it')
  t.throws(() => validateFrame('cam-a', noDht, { decode: true }), /does not decode/)
})

function makeJpegWithout(): Buffer {
  const f = makeFrame({ deviceId: 'cam-a', seq: 1 })
  return stripSegment(f, 0xe9)
}
