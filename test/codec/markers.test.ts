import t from 'tap'
import { STD_DC_LUMA } from '../../shared/codec/huffman'
import { frameLayout } from '../../shared/codec/layout'
import { JFIF_APP0, dht, dqt, dri, sof0, sof2, sos, sosProgressive } from '../../shared/codec/markers'
import { ANNEX_K_LUMA } from '../../shared/codec/tables'

t.test('segments carry the right lengths and fields', async (t) => {
  t.equal(JFIF_APP0.length, 2 + 16)
  const q = dqt(1, ANNEX_K_LUMA)
  t.same(q.slice(0, 5), [0xff, 0xdb, 0, 67, 1])
  t.same(q.slice(5, 9), [16, 11, 12, 14], 'zigzag order')
  const l420 = frameLayout(1000, 600, 'rgb', '420')
  const s = sof0(l420)
  t.same(s, [0xff, 0xc0, 0, 17, 8, 600 >> 8, 600 & 255, 1000 >> 8, 1000 & 255, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1])
  t.same(sos(frameLayout(5, 5, 'gray', '444')), [0xff, 0xda, 0, 8, 1, 1, 0x00, 0, 63, 0])
  t.same(sos(l420).slice(5, 11), [1, 0x00, 2, 0x11, 3, 0x11])
  const h = dht(0, true, STD_DC_LUMA)
  t.same(h.slice(0, 5), [0xff, 0xc4, 0, 31, 0x10])
  t.same(dri(300), [0xff, 0xdd, 0, 4, 1, 44])
  t.same(sof2(l420), [0xff, 0xc2, ...s.slice(2)], 'SOF2: the same frame header')
  // As libjpeg: a DC scan names only DC tables, an AC scan only its AC table.
  t.same(sosProgressive(l420.components, 0, 0), [0xff, 0xda, 0, 12, 3, 1, 0x00, 2, 0x10, 3, 0x10, 0, 0, 0])
  t.same(sosProgressive([l420.components[2]], 1, 63), [0xff, 0xda, 0, 8, 1, 3, 0x01, 1, 63, 0])
})

t.test('layout: blocks, MCUs and strip sizes', async (t) => {
  const l = frameLayout(17, 9, 'rgb', '420')
  t.same([l.mcusPerRow, l.mcuRows, l.blocksInMcu], [2, 1, 6])
  t.same([...l.membership], [0, 0, 0, 0, 1, 2])
  t.same(
    l.components.map((c) => [c.widthInBlocks, c.heightInBlocks, c.stripWidth, c.stripHeight]),
    [
      [3, 2, 24, 16],
      [2, 1, 16, 8],
      [2, 1, 16, 8],
    ],
  )
  const y = frameLayout(17, 9, 'yuv420p', '444')
  t.equal(y.components[0].h, 2, 'yuv420p is always 2x2')
  const g = frameLayout(17, 9, 'gray', '420')
  t.same([g.components.length, g.mcusPerRow, g.mcuRows], [1, 3, 2])
})
