/**
 * walkJpeg, the one marker walker: what it reports on real cjpeg files (restart markers, progressive scans, fill
 * bytes), where it stops, and that broken structure is refused naming the byte offset and the marker.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { encodeJpeg } from '../../shared/codec'
import { forEachHeaderSegment, JpegStructureError, markerName, walkJpeg } from '../../shared/codec/segments'
import { makeImage } from './helpers'

const ppm = Buffer.concat([Buffer.from('P6\n24 16\n255\n'), Buffer.from(makeImage(24, 16, 'rgb', 'random', 3).data)])
const cjpeg = (...args: string[]): Uint8Array => new Uint8Array(execFileSync('cjpeg', args, { input: ppm }))

/** Segments and scans in file order, as `FFxx@offset` and `scan start-end`. */
function trace(jpeg: Uint8Array): { events: string[]; end: number } {
  const events: string[] = []
  const end = walkJpeg(jpeg, {
    segment(marker, start) {
      events.push(`${markerName(marker)}@${start - 4}`)
    },
    scan(start, end) {
      events.push(`scan ${start}-${end}`)
    },
  })
  return { events, end }
}

/** Offsets of every 0xFF <marker> pair, found by brute force rather than by walking. */
function find(jpeg: Uint8Array, marker: number): number[] {
  const at: number[] = []
  for (let i = 0; i + 1 < jpeg.length; i++) if (jpeg[i] === 0xff && jpeg[i + 1] === marker) at.push(i)
  return at
}

t.test('a whole-file walk reports every segment and scan and ends after EOI', async (t) => {
  for (const args of [[], ['-restart', '1B'], ['-progressive']]) {
    const jpg = cjpeg(...args)
    const { events, end } = trace(jpg)
    t.equal(end, jpg.length, `${args.join(' ')}: stops just after EOI`)
    const sos = find(jpg, 0xda)
    t.same(
      events.filter((e) => e.startsWith('0xFFDA')),
      sos.map((o) => `0xFFDA@${o}`),
      'every SOS, at its offset',
    )
    const scans = events.filter((e) => e.startsWith('scan'))
    t.equal(scans.length, sos.length, 'one scan per SOS')
    // each scan runs from its SOS header's end to the next marker that is neither stuffing nor RSTn
    const last = scans[scans.length - 1].split(/[ -]/).map(Number)
    t.equal(last[2], jpg.length - 2, 'the last scan ends at EOI')
    if (args[0] === '-restart') t.ok(find(jpg, 0xd0).length > 0, 'restart markers stay inside the scan')
  }
})

t.test('a header walk stops at the first SOS, without reporting it', async (t) => {
  const jpg = encodeJpeg(makeImage(16, 16, 'rgb', 'gradient', 1), { quality: 75 })
  const seen: number[] = []
  forEachHeaderSegment(jpg, (marker) => {
    seen.push(marker)
  })
  t.notOk(seen.includes(0xda), 'SOS not reported')
  t.ok(seen.includes(0xdb) && seen.includes(0xc0) && seen.includes(0xc4), 'DQT, SOF0 and DHT reported')
  t.equal(walkJpeg(jpg, {}, { headerOnly: true }), find(jpg, 0xda)[0], 'returns the SOS offset')
  let calls = 0
  const stopped = walkJpeg(jpg, {
    segment: (_m, _s, end) => {
      calls++
      return end > 0
    },
  })
  t.equal(calls, 1, 'a visitor returning true stops the walk')
  t.equal(stopped, 2 + 2 + ((jpg[4] << 8) | jpg[5]), '...at the end of that segment')
})

t.test('fill bytes before a marker are skipped and not counted as scan data', async (t) => {
  const jpg = cjpeg()
  const eoi = jpg.length - 2
  const filled = new Uint8Array([...jpg.subarray(0, eoi), 0xff, 0xff, 0xff, ...jpg.subarray(eoi)])
  const plain = trace(jpg).events
  const { events, end } = trace(filled)
  t.same(events, plain, 'same segments and the same scan range')
  t.equal(end, filled.length)
})

t.test('broken structure is refused, naming the offset and the marker', async (t) => {
  const jpg = cjpeg('-restart', '1B')
  const sos = find(jpg, 0xda)[0]
  const sosEnd = sos + 2 + ((jpg[sos + 2] << 8) | jpg[sos + 3])
  const refuse = (
    name: string,
    bytes: Uint8Array,
    message: RegExp,
    offset: number,
    marker?: number,
    headerOnly = false,
  ): void => {
    let err: unknown
    try {
      walkJpeg(bytes, {}, { headerOnly })
    } catch (e) {
      err = e
    }
    t.ok(err instanceof JpegStructureError, `${name}: a JpegStructureError`)
    t.match((err as Error).message, message, name)
    t.equal((err as JpegStructureError).offset, offset, `${name}: offset`)
    t.equal((err as JpegStructureError).marker, marker, `${name}: marker`)
  }
  refuse('empty', new Uint8Array(0), /^not a JPEG: missing SOI marker$/, 0)
  refuse('no SOI', jpg.subarray(2), /missing SOI/, 0)
  const notMarker = jpg.slice()
  notMarker[2] = 0x12
  refuse('no marker after SOI', notMarker, /^corrupt JPEG: expected a marker at byte 2$/, 2)
  const overrun = jpg.slice()
  overrun[4] = 0xff
  refuse('length past the end', overrun, /^corrupt JPEG: segment 0xFFE0 at byte 2 overruns the file$/, 2, 0xe0)
  const tiny = jpg.slice()
  tiny[4] = 0
  tiny[5] = 1
  refuse('length below 2', tiny, /segment 0xFFE0 at byte 2 overruns/, 2, 0xe0)
  const rst = new Uint8Array([...jpg.subarray(0, 2), 0xff, 0xd3, ...jpg.subarray(2)])
  refuse('RST outside a scan', rst, /^corrupt JPEG: unexpected standalone marker 0xFFD3 at byte 2$/, 2, 0xd3)
  const soi = new Uint8Array([...jpg.subarray(0, 2), 0xff, 0xd8, ...jpg.subarray(2)])
  refuse('second SOI', soi, /standalone marker 0xFFD8 at byte 2/, 2, 0xd8)
  refuse(
    'cut inside a length',
    jpg.subarray(0, 5),
    /^truncated JPEG: segment 0xFFE0 at byte 2 is cut off in its length$/,
    2,
    0xe0,
  )
  refuse(
    'cut in the scan',
    jpg.subarray(0, sosEnd + 10),
    new RegExp(`^truncated JPEG: scan data starting at byte ${sosEnd} runs to the end without EOI$`),
    sosEnd + 10,
  )
  refuse(
    'no EOI',
    jpg.subarray(0, jpg.length - 2),
    /^truncated JPEG: scan data starting at byte \d+ runs to the end without EOI$/,
    jpg.length - 2,
  )
  refuse(
    'cut between segments',
    jpg.subarray(0, sos),
    new RegExp(`^truncated JPEG: no EOI marker \\(the file ends at byte ${sos}\\)$`),
    sos,
  )
  refuse(
    'header cut before the scan',
    jpg.subarray(0, sos),
    new RegExp(`^corrupt JPEG: truncated before the scan \\(the file ends at byte ${sos}\\)$`),
    sos,
    undefined,
    true,
  )
  t.equal(
    walkJpeg(jpg.subarray(0, sos + 2), {}, { headerOnly: true }),
    sos,
    'a header walk needs nothing past the SOS marker',
  )
})
