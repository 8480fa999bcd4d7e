/** The keep-map keys in the settings schema: remote-settable, validated field by field, from env as JSON. */
import t from 'tap'
import {
  applyPartial,
  changedKeys,
  ConfigError,
  defaults,
  envOverrides,
  validatePartial,
  validatePartialLenient,
} from '../../shared/config'

const map = { id: 'lot-a', cols: 3, rows: 2, levels: '001012', keep: [1, 8, 64] }

t.test('defaults: no map, motion raises to 64 at a threshold of 10', async (t) => {
  const d = defaults()
  t.equal(d.encoder.keepMap, null)
  t.equal(d.encoder.motionKeep, 64)
  t.equal(d.encoder.motionThreshold, 10)
})

t.test('a valid map is accepted remotely, applies live and can be cleared with null', async (t) => {
  const partial = validatePartial({ encoder: { keepMap: map, motionKeep: 20, motionThreshold: 5 } }, { remote: true })
  const next = applyPartial(defaults(), partial)
  t.same(next.encoder.keepMap, map)
  t.equal(next.encoder.motionKeep, 20)
  t.same(changedKeys(defaults(), next).sort(), ['encoder.keepMap', 'encoder.motionKeep', 'encoder.motionThreshold'])
  const cleared = applyPartial(next, validatePartial({ encoder: { keepMap: null } }, { remote: true }))
  t.equal(cleared.encoder.keepMap, null)
})

t.test('a bad map is refused naming the key and the field', async (t) => {
  const cases: [unknown, RegExp][] = [
    [{ ...map, levels: '00101' }, /^'encoder\.keepMap\.levels' must have 6 characters/],
    [{ ...map, keep: [1, 8, 99] }, /^'encoder\.keepMap\.keep\[2\]' must be an integer 0\.\.64/],
    [{ ...map, id: 'constructor' }, /^'encoder\.keepMap\.id' cannot be 'constructor'/],
    [{ ...map, cols: 300 }, /^'encoder\.keepMap\.cols' must be an integer 1\.\.256/],
    [{ ...map, extra: 1 }, /^'encoder\.keepMap\.extra' is not a field/],
    ['0012', /^'encoder\.keepMap' must be an object/],
  ]
  for (const [v, re] of cases) {
    const err = t.throws(() => validatePartial({ encoder: { keepMap: v } }, { remote: true })) as Error
    t.type(err, ConfigError)
    t.match(err.message, re)
  }
  for (const [key, v, re] of [
    ['motionKeep', 65, /'encoder\.motionKeep' must be <= 64/],
    ['motionKeep', -1, /'encoder\.motionKeep' must be >= 0/],
    ['motionThreshold', 0, /'encoder\.motionThreshold' must be >= 1/],
    ['motionThreshold', 2.5, /'encoder\.motionThreshold' must be an integer/],
  ] as const)
    t.throws(() => validatePartial({ encoder: { [key]: v } }, { remote: true }), re)
})

t.test('a saved layer with a bad map drops only that key', async (t) => {
  const { partial, dropped } = validatePartialLenient(
    { encoder: { keepMap: { ...map, rows: 0 }, motionKeep: 12 } },
    { remote: true },
  )
  t.same(partial, { 'encoder.motionKeep': 12 })
  t.equal(dropped[0].key, 'encoder.keepMap')
  t.match(dropped[0].error, /'encoder\.keepMap\.rows'/)
})

t.test('environment: JSON for the map, numbers for the rest', async (t) => {
  const env = envOverrides({
    DEEPN__ENCODER__KEEP_MAP: JSON.stringify(map),
    DEEPN__ENCODER__MOTION_KEEP: '0',
  })
  t.same(env['encoder.keepMap'], map)
  t.equal(env['encoder.motionKeep'], 0)
  t.same(envOverrides({ DEEPN__ENCODER__KEEP_MAP: 'null' }), { 'encoder.keepMap': null })
  t.throws(
    () => envOverrides({ DEEPN__ENCODER__KEEP_MAP: '{id' }),
    /DEEPN__ENCODER__KEEP_MAP: 'encoder\.keepMap' must be JSON/,
  )
  t.throws(
    () => envOverrides({ DEEPN__ENCODER__KEEP_MAP: JSON.stringify({ ...map, levels: 'abcdef' }) }),
    /environment DEEPN__ENCODER__KEEP_MAP: 'encoder\.keepMap\.levels'/,
  )
})
