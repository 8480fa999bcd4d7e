import t from 'tap'
import { BitWriter, ByteSink } from '../../shared/codec/bit-writer'
import { rng } from './helpers'

t.test('bits pack MSB first, 0xFF is stuffed, the tail is padded with 1s', async (t) => {
  const sink = new ByteSink(16)
  const w = new BitWriter(sink)
  w.put(0b101, 3)
  w.put(0xff, 8)
  w.put(0b1, 1)
  w.flush()
  // 101 11111111 1 + pad 1111 → 1011 1111 | 1111 1111 → 0xBF 0xFF 0x00 (stuffed)
  t.same([...sink.result()], [0xbf, 0xff, 0x00])
})

t.test('random code streams round-trip through a reference bit reader', async (t) => {
  const r = rng(5)
  const codes: [number, number][] = []
  const sink = new ByteSink(8)
  const w = new BitWriter(sink)
  for (let i = 0; i < 5000; i++) {
    const size = 1 + (r() % 27)
    const code = (r() * 0x1000000 + r() * 0x10000 + r() * 0x100 + r()) % 2 ** size
    codes.push([code, size])
    sink.ensure(16)
    w.put(code, size)
  }
  w.flush()
  const bytes = sink.result()
  const bits: number[] = []
  for (let i = 0; i < bytes.length; i++) {
    for (let k = 7; k >= 0; k--) bits.push((bytes[i] >> k) & 1)
    if (bytes[i] === 0xff) {
      t.equal(bytes[i + 1], 0, 'stuffed')
      i++
    }
  }
  let p = 0
  let ok = true
  for (const [code, size] of codes) {
    let v = 0
    for (let k = 0; k < size; k++) v = v * 2 + bits[p++]
    if (v !== code) ok = false
  }
  t.ok(ok, 'all codes read back')
  t.ok(bits.slice(p).every((b) => b === 1) && bits.length - p < 8, 'padding is < 8 one-bits')
})
