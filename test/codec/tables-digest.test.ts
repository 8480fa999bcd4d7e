/**
 * tablesDigest: FNV-1a 64 against its published vectors, then on real encoder and cjpeg output: equal tables give
 * equal digests whatever the image or metadata, one changed step or one changed Huffman code changes it.
 */
import t from 'tap'
import { encodeJpeg, trainHuffmanTables, symbolFrequencies, metadataSegment } from '../../shared/codec'
import { Fnv1a64, tablesDigest } from '../../shared/codec/tables-digest'
import { qualityTables } from '../../shared/codec/tables'
import { Cjpeg, makeImage } from './helpers'

t.test('FNV-1a 64 matches the reference vectors', async (t) => {
  for (const [text, want] of [['', 'cbf29ce484222325'], ['a', 'af63dc4c8601ec8c'], ['foobar', '85944171f73967e8']]) {
    const h = new Fnv1a64()
    for (const b of Buffer.from(text)) h.byte(b)
    t.equal(h.hex(), want, JSON.stringify(text))
  }
})

t.test('same tables → same digest, whatever the pixels, size or metadata', async (t) => {
  const tables = qualityTables(60)
  const a = encodeJpeg(makeImage(32, 24, 'rgb', 'random', 1), { tables })
  const b = encodeJpeg(makeImage(64, 48, 'rgb', 'gradient', 2), { tables })
  t.not(Buffer.from(a).toString('hex'), Buffer.from(b).toString('hex'))
  t.match(tablesDigest(a), /^[0-9a-f]{16}$/)
  t.equal(tablesDigest(a), tablesDigest(b))
  const seg = metadataSegment({ seq: 7 })
  const stamped = new Uint8Array(a.length + seg.length)
  stamped.set(a.subarray(0, 2)); stamped.set(seg, 2); stamped.set(a.subarray(2), 2 + seg.length)
  t.equal(tablesDigest(stamped), tablesDigest(a), 'the APP9 metadata is not part of it')
})

t.test('one quantization step or one Huffman code changes it', async (t) => {
  const img = makeImage(32, 32, 'rgb', 'random', 3)
  const tables = qualityTables(60)
  const base = tablesDigest(encodeJpeg(img, { tables }))
  const seen = new Set([base])
  for (const [which, at] of [['luma', 0], ['luma', 63], ['chroma', 20]] as const) {
    const moved = { luma: tables.luma.slice(), chroma: tables.chroma.slice() }
    moved[which][at] = moved[which][at] === 1 ? 2 : moved[which][at] - 1
    const d = tablesDigest(encodeJpeg(img, { tables: moved }))
    t.notOk(seen.has(d), `${which}[${at}] ± 1`)
    seen.add(d)
  }
  const trained = trainHuffmanTables(symbolFrequencies(img, { tables }), true)
  t.notOk(seen.has(tablesDigest(encodeJpeg(img, { tables, huffman: trained }))), 'a trained Huffman set instead of Annex K')
  t.not(tablesDigest(encodeJpeg(img, { tables, optimizeHuffman: true })), base, 'per-image optimal Huffman tables')
})

t.test('cjpeg with the same tables gives the same digest as our encoder', async (t) => {
  const img = makeImage(40, 24, 'rgb', 'blocks', 4)
  const tables = qualityTables(75)
  const cjpeg = new Cjpeg()
  t.teardown(() => cjpeg.cleanup())
  const theirs = cjpeg.encode(img, tables)
  t.equal(tablesDigest(new Uint8Array(theirs)), tablesDigest(encodeJpeg(img, { tables })))
  t.not(tablesDigest(new Uint8Array(cjpeg.encode(img, { ...tables, optimize: true }))), tablesDigest(encodeJpeg(img, { tables })), '-optimize differs')
})

t.test('a broken header is refused, naming where', async (t) => {
  const a = encodeJpeg(makeImage(16, 16, 'gray', 'random', 5), { quality: 50 })
  t.throws(() => tablesDigest(a.subarray(1)), /missing SOI/)
  const cut = a.slice(0, 30)
  t.throws(() => tablesDigest(cut), /overruns the file|truncated before the scan/)
  const bad = a.slice(); bad[2] = 0x00
  t.throws(() => tablesDigest(bad), /expected a marker at byte 2/)
})
