import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  SCHEMA,
  defaults,
  validatePartial,
  applyPartial,
  envOverrides,
  changedKeys,
  redact,
  flatten,
  unflatten,
  checkValue,
  ConfigError,
  type KeySpec,
} from '../../shared/config'
import { renderConfigDoc } from '../../shared/config/doc'
import { encodeJpeg, symbolFrequencies } from '../../shared/codec/encoder'
import { emptySymbolCounts, trainHuffmanTables } from '../../shared/codec/huffman-tables'
import { qualityTables } from '../../shared/codec/tables'
import { syntheticFrame } from '../../agent/capture/synthetic'

const table = (v: number) => Array.from({ length: 64 }, () => v)

t.test('defaults come from the schema and cover every key', async (t) => {
  const d = defaults()
  const flat = flatten(d)
  for (const s of SCHEMA) t.same(flat[s.key], s.default, s.key)
  t.equal(d.mqtt.prefix, 'deepn')
  t.equal(d.capture.source, 'synthetic')
})

t.test('errors name the key', async (t) => {
  const cases: [unknown, RegExp][] = [
    [{ capture: { width: 'big' } }, /'capture\.width' must be a number/],
    [{ capture: { width: 1.5 } }, /'capture\.width' must be an integer/],
    [{ capture: { width: 4 } }, /'capture\.width' must be >= 16/],
    [{ capture: { sauce: 1 } }, /unknown key 'capture\.sauce'/],
    [{ bogus: true }, /unknown key 'bogus'/],
    [{ mqtt: 5 }, /'mqtt' must be an object/],
    [{ delivery: 'maybe' }, /'delivery' must be one of 'puback', 'e2e-ack'/],
    [
      { encoder: { tables: { a: { luma: table(1), chroma: table(0) } } } },
      /'encoder\.tables\.a\.chroma'\[0\]: 0 is outside 1\.\.255/,
    ],
    [
      { encoder: { tables: { a: { luma: [1, 2], chroma: table(1) } } } },
      /'encoder\.tables\.a\.luma': expected 64 values, got 2/,
    ],
    [{ deviceId: 'a/b' }, /'deviceId' may only contain/],
    [[], /must be a JSON object/],
  ]
  for (const [doc, re] of cases)
    t.throws(() => validatePartial(doc, { remote: false }), re, JSON.stringify(doc).slice(0, 60))
})

t.test('remote config can never set paths, credentials or connection settings', async (t) => {
  for (const doc of [
    { mqtt: { password: 'x' } },
    { mqtt: { username: 'x' } },
    { mqtt: { url: 'mqtt://evil' } },
    { mqtt: { ca: '/etc/x' } },
    { buffer: { path: '/tmp/x.db' } },
    { capture: { filesDir: '/' } },
    { encoder: { tablesDir: '/' } },
    { deviceId: 'x' },
    { mqtt: { passwordFile: '/etc/shadow' } },
  ]) {
    t.throws(() => validatePartial(doc, { remote: true }), /cannot be set remotely/, JSON.stringify(doc))
    t.doesNotThrow(() => validatePartial(doc, { remote: false }))
  }
  const remoteKeys = SCHEMA.filter((s) => s.remote).map((s) => s.key)
  for (const k of remoteKeys)
    t.notMatch(k, /path|Dir$|File$|password|username|url|^mqtt\.(ca|cert|key)$/i, `${k} is safe to set remotely`)
})

t.test('a refused remote key says why, from its spec; credentials and paths are labelled as such', async (t) => {
  for (const s of SCHEMA) {
    if (s.remote) continue
    t.ok(s.localOnly, `${s.key} says why it is local only`)
    const doc = unflatten({ [s.key]: s.default })
    t.throws(
      () => validatePartial(doc, { remote: true }),
      { message: `'${s.key}' cannot be set remotely (${s.localOnly})` },
      s.key,
    )
  }
  // a new key whose name says credential or path must not slip through with a vaguer reason (or as remote)
  for (const s of SCHEMA) {
    if (s.secret || /username|password$/i.test(s.key))
      t.match(s, { remote: false, localOnly: 'credential' }, `${s.key} is a credential`)
    else if (/path|Dir$|File$|^mqtt\.(ca|cert|key)$/.test(s.key))
      t.match(s, { remote: false, localOnly: 'file path' }, `${s.key} is a file path`)
  }
})

t.test('string rules come from the key spec (pattern, check)', async (t) => {
  const patterned = SCHEMA.filter((s) => s.pattern)
  t.same(
    patterned.map((s) => s.key),
    ['deviceId', 'mqtt.prefix', 'encoder.table', 'homeassistant.prefix'],
  )
  const bad: Record<string, string> = {
    deviceId: 'a/b',
    'mqtt.prefix': 'a/#',
    'encoder.table': 'a b',
    'homeassistant.prefix': 'home/+',
  }
  for (const s of patterned) {
    t.notOk(s.pattern!.regex.test(bad[s.key]), `${bad[s.key]} breaks ${s.key}'s pattern`)
    t.throws(() => validatePartial(unflatten({ [s.key]: bad[s.key] }), { remote: false }), {
      message: `'${s.key}' ${s.pattern!.message}`,
    })
  }
  t.doesNotThrow(() => validatePartial({ deviceId: '' }, { remote: false }), 'empty deviceId (= the hostname) matches')
  t.throws(() => validatePartial({ mqtt: { prefix: '' } }, { remote: false }), /'mqtt\.prefix' must be non-empty/)
  t.throws(
    () => validatePartial({ encoder: { table: 'constructor' } }, { remote: true }),
    /'encoder\.table' cannot be 'constructor'/,
    'the check rule runs too',
  )
  // any key's spec, not a list of names in the validator
  const spec: KeySpec = {
    key: 'x.name',
    type: 'string',
    default: '',
    doc: '',
    remote: true,
    pattern: { regex: /^a+$/, message: 'must be a row of a' },
    check: (v) => (v.length > 3 ? 'is too long' : undefined),
  }
  t.equal(checkValue(spec, 'aaa'), 'aaa')
  t.throws(() => checkValue(spec, 'ab'), { message: "'x.name' must be a row of a" })
  t.throws(() => checkValue(spec, 'aaaa'), { message: "'x.name' is too long" })
})

t.test('schema invariants: remote keys apply live; pattern and check are string rules', async (t) => {
  for (const s of SCHEMA) {
    if (s.remote) t.notOk(s.restart, `${s.key}: remote keys apply live, never at restart`)
    if (s.pattern || s.check) t.equal(s.type, 'string', `${s.key}: pattern/check are string rules`)
  }
  t.same(
    SCHEMA.filter((s) => s.reopensSource && !s.restart).map((s) => s.key),
    [
      'capture.source',
      'capture.width',
      'capture.height',
      'capture.timeoutMs',
      'capture.filesLoop',
      'capture.rpicamMode',
      'capture.rpicamFramerate',
      'capture.rpicamStride',
      'capture.warmupMs',
      'encoder.subsampling',
    ],
    'the live keys whose change reopens the camera',
  )
})

t.test('a 4:4:4 encoder is refused for rpicam, whose I420 frames cannot be encoded as 4:4:4', async (t) => {
  const rpicam = applyPartial(defaults(), validatePartial({ capture: { source: 'rpicam' } }, { remote: false }))
  t.throws(
    () => applyPartial(rpicam, validatePartial({ encoder: { subsampling: '444' } }, { remote: true })),
    /'encoder\.subsampling' '444' cannot be used with 'capture\.source' 'rpicam'.*use '420'/,
  )
  const rgb444 = applyPartial(defaults(), validatePartial({ encoder: { subsampling: '444' } }, { remote: false }))
  t.throws(
    () => applyPartial(rgb444, validatePartial({ capture: { source: 'rpicam' } }, { remote: false })),
    /cannot be used with 'capture\.source' 'rpicam'/,
    'either order',
  )
  t.equal(
    applyPartial(rgb444, validatePartial({ capture: { source: 'files', filesDir: '/srv/f' } }, { remote: false }))
      .encoder.subsampling,
    '444',
    'other sources deliver RGB',
  )
})

t.test('applyPartial merges, checks consistency and merges tables by id', async (t) => {
  const d = defaults()
  const a = applyPartial(
    d,
    validatePartial(
      { capture: { width: 320 }, encoder: { tables: { x: { luma: table(2), chroma: table(3) } } } },
      { remote: true },
    ),
  )
  t.equal(a.capture.width, 320)
  t.equal(a.capture.height, 480, 'untouched keys keep their value')
  t.same(changedKeys(d, a), ['capture.width', 'encoder.tables'])
  const b = applyPartial(
    a,
    validatePartial({ encoder: { tables: { y: { luma: table(4), chroma: table(4) } } } }, { remote: true }),
  )
  t.same(Object.keys(b.encoder.tables).sort(), ['x', 'y'])
  const c = applyPartial(b, validatePartial({ encoder: { tables: { x: null } } }, { remote: true }))
  t.same(Object.keys(c.encoder.tables), ['y'])
  t.throws(
    () => applyPartial(d, validatePartial({ mqtt: { reconnectMinMs: 5000, reconnectMaxMs: 1000 } }, { remote: true })),
    /'mqtt\.reconnectMinMs' \(5000\) must not exceed 'mqtt\.reconnectMaxMs'/,
  )
  t.equal(d.capture.width, 640, 'base is not mutated')
})

t.test('pushed tables may carry a trained Huffman set; a broken one is rejected naming the table', async (t) => {
  const quant = qualityTables(60)
  const counts = emptySymbolCounts()
  for (let n = 0; n < 3; n++) symbolFrequencies(syntheticFrame(32, 32, n), { tables: quant }, counts)
  const huffman = trainHuffmanTables(counts, true)
  const gray = trainHuffmanTables(counts, false)

  const ok = validatePartial(
    { encoder: { tables: { cam: { ...quant, huffman }, g: { ...quant, huffman: gray } } } },
    { remote: true },
  )
  const c = applyPartial(defaults(), ok)
  t.same(c.encoder.tables.cam.huffman, huffman, 'a valid set is accepted and kept')
  t.same(c.encoder.tables.g.huffman, gray, 'a gray-only set (no chroma pair) too')
  t.equal(c.encoder.tables.cam.huffman!.lumaAc.symbols.length, 162)
  t.doesNotThrow(
    () =>
      encodeJpeg(syntheticFrame(32, 32, 9), { tables: c.encoder.tables.cam, huffman: c.encoder.tables.cam.huffman }),
    'what is stored encodes',
  )
  const extraField = validatePartial(
    { encoder: { tables: { cam: { ...quant, huffman: { ...huffman, lumaDc: { ...huffman.lumaDc, note: 'x' } } } } } },
    { remote: true },
  )
  t.same(
    (extraField['encoder.tables'] as Record<string, { huffman: unknown }>).cam.huffman,
    huffman,
    'stored as a clean copy: counts and symbols only',
  )
  t.same(
    validatePartial({ encoder: { tables: { cam: quant } } }, { remote: true })['encoder.tables'],
    { cam: quant },
    'the set stays optional',
  )

  const shortAc = { counts: huffman.lumaAc.counts.slice(), symbols: huffman.lumaAc.symbols.slice(0, -1) }
  shortAc.counts[shortAc.counts.findLastIndex((x) => x > 0)]--
  const allOnes = { counts: [2, ...Array(15).fill(0)], symbols: [0, 1] }
  const cases: [unknown, RegExp][] = [
    [{ ...huffman, lumaAc: shortAc }, /'encoder\.tables\.cam-7\.huffman'\.lumaAc: no code for 1 baseline symbol/],
    [{ ...huffman, lumaDc: allOnes }, /'encoder\.tables\.cam-7\.huffman'\.lumaDc: the codes fill the whole code space/],
    [{ ...huffman, chromaAc: undefined }, /'encoder\.tables\.cam-7\.huffman': chromaDc and chromaAc come together/],
    [
      { ...huffman, lumaAc: { counts: [1, 2], symbols: [] } },
      /'encoder\.tables\.cam-7\.huffman'\.lumaAc\.counts: expected 16 integers/,
    ],
    [{ ...huffman, extra: huffman.lumaAc }, /'encoder\.tables\.cam-7\.huffman'\.extra: unknown table/],
    ['annex-k', /'encoder\.tables\.cam-7\.huffman': expected \{ lumaDc, lumaAc, chromaDc\?, chromaAc\? \}/],
  ]
  for (const [h, re] of cases) {
    const doc = { encoder: { tables: { 'cam-7': { ...quant, huffman: JSON.parse(JSON.stringify(h)) } } } }
    t.throws(() => validatePartial(doc, { remote: true }), re, re.source.slice(30, 80))
    t.throws(() => validatePartial(doc, { remote: true }), ConfigError)
  }

  // size: 16 tables, each with a full set, still fit one config/set message under the default mqtt.maxConfigBytes
  const sixteen = Object.fromEntries(
    Array.from({ length: 16 }, (_, i) => [`t${i}`, { ...qualityTables(5 + i), huffman }]),
  )
  const bytes = JSON.stringify({ id: 'x', config: { encoder: { tables: sixteen } } }).length
  t.ok(
    bytes < defaults().mqtt.maxConfigBytes,
    `16 tables with Huffman sets are ${bytes} B < ${defaults().mqtt.maxConfigBytes} B`,
  )
  t.ok(validatePartial({ encoder: { tables: sixteen } }, { remote: true }))
})

t.test('environment overrides: dedicated and generic', async (t) => {
  const o = envOverrides({
    DEEPN_MQTT_URL: 'mqtt://h:1',
    DEEPN_DEVICE_ID: 'cam-7',
    DEEPN__MQTT__MAX_PAYLOAD_BYTES: '131072',
    DEEPN__CAPTURE__FILES_LOOP: 'false',
    DEEPN__DELIVERY: 'e2e-ack',
    DEEPN_UNRELATED: 'x',
    PATH: '/bin',
  })
  t.same(o, {
    'mqtt.url': 'mqtt://h:1',
    deviceId: 'cam-7',
    'mqtt.maxPayloadBytes': 131072,
    'capture.filesLoop': false,
    delivery: 'e2e-ack',
  })
  t.throws(() => envOverrides({ DEEPN__MQTT__NOPE: '1' }), /DEEPN__MQTT__NOPE names no configuration key/)
  t.throws(
    () => envOverrides({ DEEPN__CAPTURE__WIDTH: 'wide' }),
    /DEEPN__CAPTURE__WIDTH: 'capture\.width' must be a number/,
  )
  t.throws(() => envOverrides({ DEEPN__CAPTURE__WIDTH: '2' }), /'capture\.width' must be >= 16/)
})

t.test('secrets are redacted', async (t) => {
  const c = applyPartial(defaults(), { 'mqtt.password': 'hunter2' })
  t.equal(redact(c).mqtt.password, '***')
  t.notMatch(JSON.stringify(redact(c)), /hunter2/)
})

t.test('docs/config.md is generated from the schema and current', async (t) => {
  const doc = readFileSync(join(__dirname, '../../docs/config.md'), 'utf8')
  t.equal(doc, renderConfigDoc(), 'run `npm run build && npm run docs:config` to regenerate docs/config.md')
  for (const s of SCHEMA) t.match(doc, `\`${s.key}\``)
  const row = (key: string): string => doc.split('\n').find((l) => l.startsWith(`| \`${key}\` |`)) ?? ''
  t.match(
    row('deviceId'),
    '| string ≤ 64 chars, matching `^(?:[A-Za-z0-9_][A-Za-z0-9._-]{0,63})?$` |',
    'the pattern is shown',
  )
  t.match(row('mqtt.password'), '| no (credential) | restart |', 'why a key is local only, and that it needs a restart')
  t.match(row('capture.width'), '| yes | live, reopens the source |', 'a key that reopens the camera says so')
  t.match(row('log.level'), '| yes | live |')
})

t.test('ConfigError is the error type', async (t) => {
  t.throws(() => validatePartial({ x: 1 }, { remote: true }), ConfigError)
})

t.test('config/default.json (the example config) is valid', async (t) => {
  const { loadLocalConfig } = await import('../../agent/config-file')
  const { config } = loadLocalConfig({ file: join(__dirname, '../../config/default.json'), env: {} })
  t.equal(config.capture.width, 1280)
  t.equal(config.encoder.table, 'natural-deepn')
})
