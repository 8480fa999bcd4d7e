/** The backend's importance map: where its detector has seen objects, on a grid that fits any resolution. */
import t from 'tap'
import { learnKeepMap } from '../../shared/spatial/learn'

const frame = (boxes: [number, number, number, number][], score = 0.9) => ({
  width: 160,
  height: 80,
  detections: boxes.map((bbox) => ({ bbox, score })),
})

t.test('cells a grown box covers get levels by how often; the rest DC only', async (t) => {
  // 160x80 on a 16x8 grid: 10-pixel cells; a box 40..59 x 20..39 grown by 25% covers x 35..64, y 15..44
  const frames = [frame([[40, 20, 20, 20]]), ...Array.from({ length: 99 }, () => frame([]))]
  const { map, heat } = learnKeepMap(frames, { id: 'cam-map', cols: 16, rows: 8 })
  t.equal(map.levels.length, 128)
  const covered = [...map.levels].flatMap((c, i) => (c !== '0' ? [i] : []))
  const want: number[] = []
  for (let cy = 1; cy <= 4; cy++) for (let cx = 3; cx <= 6; cx++) want.push(cy * 16 + cx)
  t.same(covered, want, 'exactly the grown box')
  t.ok(Math.abs(heat[want[0]] - 0.01) < 1e-6, 'one frame in a hundred')
  t.equal(map.levels[want[0]], '1', 'seldom: level 1')
  t.same(map.keep, [1, 1, 6], 'default: DC only unless objects are frequent')
  const busy = learnKeepMap([frame([[40, 20, 20, 20]])], { id: 'cam-map', cols: 16, rows: 8, keep: [1, 3, 10] })
  t.equal(busy.map.levels[want[0]], '2', 'every frame: busy')
  t.same(busy.map.keep, [1, 3, 10])
})

t.test('low scores are not evidence; no margin means the box alone', async (t) => {
  const weak = learnKeepMap([frame([[0, 0, 160, 80]], 0.3)], { id: 'm', cols: 4, rows: 2 })
  t.equal(weak.map.levels, '00000000', 'a 0.3 detection covers nothing')
  const tight = learnKeepMap([frame([[0, 0, 39, 39]])], { id: 'm', cols: 4, rows: 2, margin: 0 })
  t.equal(tight.map.levels, '20000000')
})

t.test('two heat thresholds: never / rarely / walkway / standing place', async (t) => {
  // cell (0,0) covered in 1 of 100 frames, (1,0) in 10, (2,0) in 60; (3,0) never
  const frames = Array.from({ length: 100 }, (_, i) =>
    frame([
      ...(i < 1 ? [[0, 0, 39, 39] as [number, number, number, number]] : []),
      ...(i < 10 ? [[40, 0, 39, 39] as [number, number, number, number]] : []),
      ...(i < 60 ? [[80, 0, 39, 39] as [number, number, number, number]] : []),
    ]),
  )
  const o = { id: 'm', cols: 4, rows: 2, margin: 0 }
  const four = learnKeepMap(frames, { ...o, busy: [0.02, 0.3], keep: [0, 1, 1, 6] })
  t.equal(four.map.levels, '12300000')
  t.same(four.map.keep, [0, 1, 1, 6])
  t.equal(learnKeepMap(frames, o).map.levels, '12200000', 'the default: one threshold, as before')
  t.equal(learnKeepMap(frames, { ...o, keep: [1, 1, 1, 6] }).map.levels, '12300000', 'four levels: 0.02 and 0.1')
  t.throws(() => learnKeepMap(frames, { ...o, busy: [0.3, 0.02], keep: [0, 1, 1, 6] }), /ascending/)
  t.throws(() => learnKeepMap(frames, { ...o, busy: [0.02, 0.3] }), /keep needs 4 counts .* got 3/)
})

t.test('no frames: refused', async (t) => {
  t.throws(() => learnKeepMap([], { id: 'm', cols: 4, rows: 2 }), /no frames/)
})
