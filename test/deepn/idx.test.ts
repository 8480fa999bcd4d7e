import t from 'tap'
import { gunzipSync } from 'node:zlib'
import { readFileSync, existsSync } from 'node:fs'
import { parseIdx } from '../../shared/deepn/idx'

t.test('parses a hand-built 3-D IDX', async (t) => {
  const buf = new Uint8Array([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6])
  const a = parseIdx(buf)
  t.same(a.dims, [2, 1, 3])
  t.same(Array.from(a.data), [1, 2, 3, 4, 5, 6])
})

t.test('refuses broken input with a reason', async (t) => {
  t.throws(() => parseIdx(new Uint8Array([0x1f, 0x8b, 8, 0])), /gunzip/)
  t.throws(() => parseIdx(new Uint8Array([0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0])), /element type 0xd/)
  t.throws(() => parseIdx(new Uint8Array([0, 0, 8, 2, 0, 0, 0, 1])), /header truncated/)
  t.throws(() => parseIdx(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 3, 1, 2])), /payload is 2 bytes but dimensions 3 need 3/)
})

const labels = '/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz'
t.test(
  'reads the Fashion-MNIST test labels',
  { skip: !existsSync(labels) && 'dataset-fashion-mnist not installed' },
  async (t) => {
    const a = parseIdx(gunzipSync(readFileSync(labels)))
    t.same(a.dims, [10000])
    const counts = new Array(10).fill(0)
    for (const v of a.data) counts[v]++
    t.same(counts, new Array(10).fill(1000)) // the test split is balanced
  },
)
