/** MotionField on synthetic frames: a moving square raises exactly its cells (+1 dilation), a static scene none. */
import t from 'tap'
import type { RawImage } from '../../shared/codec/types'
import { MotionField } from '../../shared/spatial/motion'

const W = 160
const H = 96

/** Grey value per pixel: textured background, a bright square at (sx, sy) of side `side` when given. */
function scene(sx: number, sy: number, side = 16): (x: number, y: number) => number {
  return (x, y) => (x >= sx && x < sx + side && y >= sy && y < sy + side ? 230 : 60 + ((x * 7 + y * 3) % 40))
}

function rgb(f: (x: number, y: number) => number): RawImage {
  const data = new Uint8Array(W * H * 3)
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data.fill(f(x, y), (y * W + x) * 3, (y * W + x) * 3 + 3)
  return { width: W, height: H, data, format: 'rgb' }
}

function yuv(f: (x: number, y: number) => number): RawImage {
  const data = new Uint8Array(W * H * 1.5).fill(128) // neutral chroma after the Y plane
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data[y * W + x] = f(x, y)
  return { width: W, height: H, data, format: 'yuv420p' }
}

function rgba(f: (x: number, y: number) => number): RawImage {
  const data = new Uint8Array(W * H * 4)
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data.set([f(x, y), f(x, y), f(x, y), 255], (y * W + x) * 4)
  return { width: W, height: H, data, format: 'rgba' }
}

function gray(f: (x: number, y: number) => number): RawImage {
  const data = new Uint8Array(W * H)
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data[y * W + x] = f(x, y)
  return { width: W, height: H, data, format: 'gray' }
}

/** The set cells as "x,y" strings, for readable comparisons. */
const cells = (m: Uint8Array, cols: number): string[] =>
  [...m].flatMap((v, i) => (v ? [`${i % cols},${Math.floor(i / cols)}`] : []))

// 10x6 grid over 160x96: each cell is 16x16 pixels, two 8x8 blocks a side.
const COLS = 10
const ROWS = 6

t.test('a static scene raises no cell; the first frame none either', async (t) => {
  const m = new MotionField()
  const still = rgb(scene(32, 32))
  for (let i = 0; i < 5; i++) t.same(cells(m.update(still, COLS, ROWS), COLS), [], `frame ${i}`)
})

t.test('a moving square raises exactly its cells, grown by one', async (t) => {
  const m = new MotionField()
  t.same(cells(m.update(rgb(scene(32, 32)), COLS, ROWS), COLS), [], 'first frame: background only')
  // square leaves cell (2,2) and appears in cell (6,3): both change, each grown by one cell
  const moved = cells(m.update(rgb(scene(96, 48)), COLS, ROWS), COLS).sort()
  const expect: string[] = []
  for (const [cx, cy] of [
    [2, 2],
    [6, 3],
  ])
    for (let y = cy - 1; y <= cy + 1; y++) for (let x = cx - 1; x <= cx + 1; x++) expect.push(`${x},${y}`)
  t.same(moved, [...new Set(expect)].sort())
})

t.test('at the frame edge the dilation stops at the border', async (t) => {
  const m = new MotionField()
  m.update(gray(scene(200, 200)), COLS, ROWS) // no square in view
  t.same(cells(m.update(gray(scene(0, 0)), COLS, ROWS), COLS).sort(), ['0,0', '0,1', '1,0', '1,1'])
})

t.test('a change at or under the threshold is not motion', async (t) => {
  const base = (x: number, y: number) => 100 + ((x + y) % 2)
  const m = new MotionField({ threshold: 10 })
  m.update(gray(base), COLS, ROWS)
  t.same(
    cells(
      m.update(
        gray((x, y) => base(x, y) + 10),
        COLS,
        ROWS,
      ),
      COLS,
    ),
    [],
    '+10 luma: not moving',
  )
  const m2 = new MotionField({ threshold: 10 })
  m2.update(gray(base), COLS, ROWS)
  t.equal(
    cells(
      m2.update(
        gray((x, y) => base(x, y) + 12),
        COLS,
        ROWS,
      ),
      COLS,
    ).length,
    COLS * ROWS,
    '+12: everywhere',
  )
})

t.test('the background follows a scene that stays changed', async (t) => {
  const m = new MotionField({ alpha: 0.5 })
  m.update(gray(scene(200, 200)), COLS, ROWS)
  const parked = gray(scene(32, 32))
  t.not(cells(m.update(parked, COLS, ROWS), COLS).length, 0, 'arrives: moving')
  let n = 1
  while (cells(m.update(parked, COLS, ROWS), COLS).length && n < 20) n++
  t.ok(n < 20, `after ${n} frames the parked square is background`)
})

t.test('rgb, rgba, gray and yuv420p (Y plane) agree', async (t) => {
  const seen = new Map<string, string[]>()
  for (const [name, make] of [
    ['rgb', rgb],
    ['rgba', rgba],
    ['gray', gray],
    ['yuv420p', yuv],
  ] as const) {
    const m = new MotionField()
    m.update(make(scene(32, 32)), COLS, ROWS)
    m.update(make(scene(40, 40)), COLS, ROWS)
    seen.set(name, cells(m.update(make(scene(72, 24)), COLS, ROWS), COLS))
  }
  t.not(seen.get('rgb')!.length, 0, 'something moved')
  for (const name of ['rgba', 'gray', 'yuv420p']) t.same(seen.get(name), seen.get('rgb'), name)
})

t.test('a resolution change resets the background; the grid may change between frames', async (t) => {
  const m = new MotionField()
  m.update(gray(scene(32, 32)), COLS, ROWS)
  const small: RawImage = { width: 80, height: 48, data: new Uint8Array(80 * 48).fill(200), format: 'gray' }
  t.same(cells(m.update(small, COLS, ROWS), COLS), [], 'new size: background only, no motion')
  t.same(cells(m.update(small, COLS, ROWS), COLS), [], 'then still none')
  const m2 = new MotionField()
  m2.update(gray(scene(32, 32)), COLS, ROWS)
  const coarse = m2.update(gray(scene(96, 48)), 2, 1)
  t.same(cells(coarse, 2), ['0,0', '1,0'], 'a 2x1 grid: both halves (dilated)')
  t.equal(coarse.length, 2)
})

t.test('odd sizes (partial edge blocks) and bad input', async (t) => {
  const m = new MotionField()
  const w = 37
  const h = 21
  const frame = (v: number): RawImage => ({ width: w, height: h, data: new Uint8Array(w * h).fill(v), format: 'gray' })
  m.update(frame(50), 3, 2)
  t.same(cells(m.update(frame(50), 3, 2), 3), [], 'unchanged')
  const corner = frame(50)
  for (let y = 16; y < 21; y++) for (let x = 32; x < 37; x++) corner.data[y * w + x] = 250 // the 5x5 corner block
  t.same(cells(m.update(corner, 3, 2), 3).sort(), ['1,0', '1,1', '2,0', '2,1'], 'the partial corner block counts')
  t.throws(() => m.update({ width: 8, height: 8, data: new Uint8Array(10), format: 'rgb' }, 1, 1), /needs 192 bytes/)
  t.throws(() => m.update(frame(1), 0, 2), /grid/)
  t.throws(() => new MotionField({ alpha: 0 }), /alpha/)
})
