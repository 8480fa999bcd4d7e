/** The keep map's wire form: every bad field named, and its codec form with motion raising cells. */
import t from 'tap'
import { encodeJpeg } from '../../shared/codec/encoder'
import { checkKeepMap, fullShare, type KeepMapError, keepMapProblem, toBlockKeep } from '../../shared/spatial/keep-map'

const good = () => ({ id: 'cam-1.v2', cols: 4, rows: 2, levels: '01200120', keep: [1, 10, 64] })

t.test('a valid map passes and comes back as a clean copy', async (t) => {
  const v = good()
  t.equal(keepMapProblem(v), undefined)
  const m = checkKeepMap(v)
  t.same(m, v)
  v.keep[0] = 5
  t.equal(m.keep[0], 1, 'keep is copied, not shared')
  t.equal(keepMapProblem({ ...good(), cols: 256, rows: 1, levels: '0'.repeat(256) }), undefined, '256 columns')
  t.equal(
    keepMapProblem({ ...good(), keep: [1, 2, 3, 4, 5, 6, 7, 8, 9, 64], levels: '09090909' }),
    undefined,
    '10 levels',
  )
})

t.test('every bad field is named', async (t) => {
  const cases: [string, unknown, string, RegExp][] = [
    ['not an object', null, '', /must be an object/],
    ['an array', [], '', /must be an object/],
    ['extra field', { ...good(), colour: 1 }, 'colour', /not a field/],
    ['missing id', (({ id, ...r }) => r)(good()), 'id', /missing/],
    ['missing keep', (({ keep, ...r }) => r)(good()), 'keep', /missing/],
    ['id with a slash', { ...good(), id: 'a/b' }, 'id', /letters, digits/],
    ['empty id', { ...good(), id: '' }, 'id', /letters, digits/],
    ['id too long', { ...good(), id: 'x'.repeat(65) }, 'id', /1\.\.64/],
    ['cols 0', { ...good(), cols: 0 }, 'cols', /1\.\.256/],
    ['cols 257', { ...good(), cols: 257 }, 'cols', /1\.\.256/],
    ['rows fractional', { ...good(), rows: 1.5 }, 'rows', /integer/],
    ['rows a string', { ...good(), rows: '2' }, 'rows', /integer/],
    ['keep not an array', { ...good(), keep: 64 }, 'keep', /array/],
    ['keep empty', { ...good(), keep: [] }, 'keep', /1\.\.10/],
    ['11 levels', { ...good(), keep: new Array(11).fill(64) }, 'keep', /1\.\.10/],
    ['keep -1', { ...good(), keep: [-1, 10, 64] }, 'keep[0]', /0\.\.64/],
    ['keep 65', { ...good(), keep: [1, 10, 65] }, 'keep[2]', /0\.\.64/],
    ['keep fractional', { ...good(), keep: [1, 2.5, 64] }, 'keep[1]', /integer/],
    ['levels not a string', { ...good(), levels: [0, 1] }, 'levels', /string of 8 digits/],
    ['levels too short', { ...good(), levels: '0120012' }, 'levels', /8 characters .*got 7/],
    ['levels too long', { ...good(), levels: '012001200' }, 'levels', /got 9/],
    ['level past keep', { ...good(), levels: '01230120' }, 'levels', /character 3 \(cell 3,0\) is '3'.*0\.\.2/],
    ['level not a digit', { ...good(), levels: '0120012a' }, 'levels', /character 7 \(cell 3,1\)/],
  ]
  for (const [what, v, field, message] of cases) {
    const p = keepMapProblem(v)
    t.equal(p?.field, field, `${what}: names '${field}'`)
    t.match(p?.message, message, `${what}: ${p?.message}`)
    const err = t.throws(() => checkKeepMap(v, 'encoder.keepMap')) as KeepMapError
    t.equal(err.field, field, `${what}: KeepMapError.field`)
    t.match(err.message, field ? `'encoder.keepMap.${field}'` : `'encoder.keepMap'`, `${what}: message names the key`)
  }
})

t.test('Object.prototype names are refused as id, like table ids', async (t) => {
  for (const id of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
    const p = keepMapProblem({ ...good(), id })
    t.equal(p?.field, 'id', id)
    t.match(p?.message, /built-in JavaScript object member/, id)
  }
  t.equal(keepMapProblem({ ...good(), id: 'constructors' }), undefined, 'a longer name is fine')
})

t.test('toBlockKeep: levels to counts, motion raises a cell and never lowers one', async (t) => {
  const m = checkKeepMap(good())
  const plain = toBlockKeep(m, null, 64)
  t.same(Array.from(plain.keep), [1, 10, 64, 1, 1, 10, 64, 1])
  t.same([plain.cols, plain.rows], [4, 2])
  t.equal(fullShare(plain), 2 / 8)
  const motion = Uint8Array.from([1, 1, 1, 0, 0, 0, 0, 1])
  t.same(Array.from(toBlockKeep(m, motion, 64).keep), [64, 64, 64, 1, 1, 10, 64, 64], 'motionKeep 64')
  t.same(Array.from(toBlockKeep(m, motion, 6).keep), [6, 10, 64, 1, 1, 10, 64, 6], '6 raises 1, not 10 or 64')
  t.same(Array.from(toBlockKeep(m, motion, 0).keep), [1, 10, 64, 1, 1, 10, 64, 1], '0: motion ignored')
  const again = toBlockKeep(m, null, 64)
  t.equal(again, plain, 'one codec map per keep map, reused')
  t.same(Array.from(again.keep), [1, 10, 64, 1, 1, 10, 64, 1], 'rewritten from the levels, nothing left over')
  t.throws(() => toBlockKeep(m, new Uint8Array(7), 64), /7 cells.*4x2 has 8/)
  t.throws(() => toBlockKeep(m, null, 65), /motionKeep/)
})

t.test('the codec accepts the result, and a DC-only map makes a smaller frame', async (t) => {
  const w = 64
  const h = 32
  const data = new Uint8Array(w * h * 3)
  for (let i = 0; i < data.length; i++) data[i] = (i * 37) & 255 // busy texture
  const img = { width: w, height: h, data, format: 'rgb' as const }
  const dc = checkKeepMap({ id: 'dc', cols: 2, rows: 1, levels: '00', keep: [1] })
  const small = encodeJpeg(img, { quality: 80, blockKeep: toBlockKeep(dc, null, 64) })
  const full = encodeJpeg(img, { quality: 80 })
  const moved = encodeJpeg(img, { quality: 80, blockKeep: toBlockKeep(dc, Uint8Array.from([1, 1]), 64) })
  t.ok(small.length < full.length / 2, `${small.length} < ${full.length} / 2`)
  t.equal(moved.length, full.length, 'every cell raised to 64: the plain frame')
})
