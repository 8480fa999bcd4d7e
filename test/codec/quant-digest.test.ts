/**
 * quantDigest: FNV-1a 64 against its published vectors, then on real encoder and cjpeg output. Equal steps and
 * sampling give equal digests whatever the pixels, metadata, Huffman tables or DQT layout; one changed step or
 * another subsampling changes it; a header that does not say which steps a component uses is refused.
 */
import t from 'tap'
import { encodeJpeg, trainHuffmanTables, symbolFrequencies, metadataSegment } from '../../shared/codec'
import { Fnv1a64, quantDigest } from '../../shared/codec/quant-digest'
import { qualityTables } from '../../shared/codec/tables'
import { Cjpeg, makeImage } from './helpers'
import { rewriteHeader, stripSegment } from '../helpers/jpeg-segments'

t.test('FNV-1a 64 matches the reference vectors', async (t) => {
  for (const [text, want] of [
    ['', 'cbf29ce484222325'],
    ['a', 'af63dc4c8601ec8c'],
    ['foobar', '85944171f73967e8'],
  ]) {
    const h = new Fnv1a64()
    for (const b of Buffer.from(text)) h.byte(b)
    t.equal(h.hex(), want, JSON.stringify(text))
  }
})

t.test('bytes() is byte() over a range, with a zero byte before each when widening', async (t) => {
  const src = Uint8Array.from({ length: 300 }, (_, k) => (k * 37 + 11) & 255)
  for (const widen of [false, true]) {
    const one = new Fnv1a64()
    for (let k = 5; k < 5 + 128; k++) {
      if (widen) one.byte(0)
      one.byte(src[k])
    }
    const range = new Fnv1a64()
    range.bytes(src, 5, 128, widen)
    t.equal(range.hex(), one.hex(), widen ? 'widened' : 'as they are')
  }
})

t.test('same steps and sampling → same digest, whatever the pixels, metadata or Huffman tables', async (t) => {
  const tables = qualityTables(60)
  const img = makeImage(32, 24, 'rgb', 'random', 1)
  const a = encodeJpeg(img, { tables })
  t.match(quantDigest(a), /^[0-9a-f]{16}$/)
  t.equal(
    quantDigest(encodeJpeg(makeImage(64, 48, 'rgb', 'gradient', 2), { tables })),
    quantDigest(a),
    'other pixels and size',
  )
  const seg = metadataSegment({ seq: 7 })
  t.equal(
    quantDigest(new Uint8Array(Buffer.concat([a.subarray(0, 2), seg, a.subarray(2)]))),
    quantDigest(a),
    'the APP9 metadata',
  )
  const trained = trainHuffmanTables(symbolFrequencies(img, { tables }), true)
  t.equal(
    quantDigest(encodeJpeg(img, { tables, huffman: trained })),
    quantDigest(a),
    'a trained Huffman set (lossless)',
  )
  t.equal(
    quantDigest(encodeJpeg(img, { tables, optimizeHuffman: true })),
    quantDigest(a),
    'per-image optimal Huffman tables',
  )
})

t.test('one step, the subsampling or the colour model changes it', async (t) => {
  const img = makeImage(32, 32, 'rgb', 'random', 3)
  const tables = qualityTables(60)
  const seen = new Set([quantDigest(encodeJpeg(img, { tables }))])
  const fresh = (d: string, what: string) => {
    t.notOk(seen.has(d), what)
    seen.add(d)
  }
  for (const [which, at] of [
    ['luma', 0],
    ['luma', 63],
    ['chroma', 20],
  ] as const) {
    const moved = { luma: tables.luma.slice(), chroma: tables.chroma.slice() }
    moved[which][at] = moved[which][at] === 1 ? 2 : moved[which][at] - 1
    fresh(quantDigest(encodeJpeg(img, { tables: moved })), `${which}[${at}] ± 1`)
  }
  fresh(quantDigest(encodeJpeg(img, { tables, subsampling: '444' })), '4:4:4 instead of 4:2:0')
  fresh(quantDigest(encodeJpeg(makeImage(32, 32, 'gray', 'random', 3), { tables })), 'gray')
})

t.test('cjpeg with the same tables gives our digest, -optimize and -progressive too', async (t) => {
  const img = makeImage(40, 24, 'rgb', 'blocks', 4)
  const tables = qualityTables(75)
  const ours = quantDigest(encodeJpeg(img, { tables }))
  const cjpeg = new Cjpeg()
  t.teardown(() => cjpeg.cleanup())
  t.equal(quantDigest(new Uint8Array(cjpeg.encode(img, tables))), ours)
  t.equal(quantDigest(new Uint8Array(cjpeg.encode(img, { ...tables, optimize: true }))), ours, '-optimize')
  t.not(quantDigest(new Uint8Array(cjpeg.encode(img, { ...tables, subsampling: '444' }))), ours, '-sample 1x1')
})

t.test('the DQT layout does not matter: one segment or two, 8- or 16-bit entries', async (t) => {
  const a = encodeJpeg(makeImage(24, 16, 'rgb', 'gradient', 6), { quality: 70 })
  const dqts: Uint8Array[] = []
  const merged = rewriteHeader(a, (m, p) => {
    if (m !== 0xdb) return [[m, p]]
    dqts.push(p)
    return dqts.length === 2 ? [[0xdb, new Uint8Array(Buffer.concat(dqts))]] : []
  })
  t.equal(dqts.length, 2, 'our encoder writes one DQT per table')
  t.ok(merged.length < a.length)
  t.equal(quantDigest(merged), quantDigest(a), 'both tables in one segment')
  const wide = rewriteHeader(a, (m, p) => {
    if (m !== 0xdb) return [[m, p]]
    const out = new Uint8Array(129)
    out[0] = 0x10 | (p[0] & 15)
    for (let k = 0; k < 64; k++) out[2 + 2 * k] = p[1 + k]
    return [[0xdb, out]]
  })
  t.equal(quantDigest(wide), quantDigest(a), '16-bit entries with the same values')
})

t.test('a broken or incomplete header is refused, naming what is wrong', async (t) => {
  const a = encodeJpeg(makeImage(16, 16, 'rgb', 'random', 5), { quality: 50 })
  t.throws(() => quantDigest(a.subarray(1)), /missing SOI/)
  t.throws(() => quantDigest(a.slice(0, 30)), /overruns the file|truncated before the scan/)
  const bad = a.slice()
  bad[2] = 0x00
  t.throws(() => quantDigest(bad), /expected a marker at byte 2/)
  let n = 0
  const noChroma = rewriteHeader(a, (m, p) => (m === 0xdb && n++ === 1 ? [] : [[m, p]]))
  t.throws(() => quantDigest(noChroma), /component 1 uses quantization table 1, which the header does not define/)
  t.throws(() => quantDigest(stripSegment(a, 0xc0)), /no frame header \(SOF\)/)
  t.throws(
    () => quantDigest(rewriteHeader(a, (m, p) => (m === 0xdb ? [[m, p.subarray(0, 40)]] : [[m, p]]))),
    /bad quantization table in DQT/,
  )
})
