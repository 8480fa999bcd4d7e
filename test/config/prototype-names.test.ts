/**
 * Ids naming Object.prototype members (`constructor`, `toString`, `__proto__`, …) as config keys, table ids and
 * pushed table names: refused by the schema with a reason, never answered by an inherited member in a lookup.
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import {
  applyPartial,
  defaults,
  isPrototypeName,
  ownValue,
  setOwn,
  validatePartial,
  validatePartialLenient,
  ConfigError,
} from '../../shared/config'
import { resolveTables } from '../../agent/pipeline/tables'
import { parsePlm } from '../../scripts/tables/cli'
import { tablePushMessage } from '../../scripts/backend/push-table/push-table'

const NAMES = Object.getOwnPropertyNames(Object.prototype)
const table = (v: number): number[] => Array.from({ length: 64 }, () => v)
/** Parsed from text, so `__proto__` is an own key of the document as it is in a config/set message. */
const doc = (json: string): unknown => JSON.parse(json)

t.test('isPrototypeName, ownValue and setOwn', async (t) => {
  const obj: Record<string, number> = { a: 1 }
  for (const name of NAMES) {
    t.ok(isPrototypeName(name), `${name} is a prototype name`)
    t.equal(ownValue(obj, name), undefined, `ownValue(obj, '${name}') finds nothing inherited`)
  }
  t.notOk(isPrototypeName('natural-deepn'))
  t.equal(ownValue(obj, 'a'), 1)
  const store: Record<string, number> = {}
  setOwn(store, '__proto__', 7)
  t.equal(Object.getPrototypeOf(store), Object.prototype, 'the prototype is untouched')
  t.same(Object.keys(store), ['__proto__'], '__proto__ is stored as an own key')
  t.equal(ownValue(store, '__proto__'), 7)
})

t.test('every prototype name as encoder.table is refused with a reason naming the key', async (t) => {
  for (const name of NAMES) {
    for (const remote of [true, false]) {
      t.throws(
        () => validatePartial(doc(`{"encoder":{"table":${JSON.stringify(name)}}}`), { remote }),
        { name: 'ConfigError', message: new RegExp(`'encoder\\.table' cannot be '${name.replace(/\$/g, '\\$')}'`) },
        `${name} (remote ${remote})`,
      )
    }
  }
})

t.test('every prototype name as a config key or section key is refused as unknown', async (t) => {
  for (const name of NAMES) {
    const k = JSON.stringify(name)
    t.throws(() => validatePartial(doc(`{${k}:1}`), { remote: true }), /unknown key/, `top-level ${name}`)
    t.throws(
      () => validatePartial(doc(`{"capture":{${k}:1}}`), { remote: true }),
      /unknown key 'capture\./,
      `capture.${name}`,
    )
    t.throws(
      () => validatePartial(doc(`{"deviceId":${k}}`), { remote: true }),
      /'deviceId' cannot be set remotely/,
      `deviceId ${name}`,
    )
  }
})

t.test('resolveTables: a table id naming a prototype member is never served by an inherited member', async (t) => {
  for (const name of NAMES) {
    // Built by hand past the schema (as a hand-edited or older saved layer could): the lookup must still refuse it.
    const enc = { ...defaults().encoder, table: name }
    t.throws(() => resolveTables(enc), { name: 'ConfigError', message: /'encoder\.table': no table/ }, name)
  }
  const enc = { ...defaults().encoder, table: 'missing', tables: { mine: { luma: table(2), chroma: table(3) } } }
  t.throws(() => resolveTables(enc), /available: 'mine', .*'natural-deepn'/, 'the error lists the tables there are')
})

t.test('validatePartialLenient leaves out only the keys that are wrong', async (t) => {
  const saved = {
    capture: { width: 80, bogus: 1 },
    encoder: { table: 'constructor', scale: 2 },
    log: { level: 'debug' },
  }
  const { partial, dropped } = validatePartialLenient(saved, { remote: true })
  t.same(partial, { 'capture.width': 80, 'encoder.scale': 2, 'log.level': 'debug' })
  t.same(
    dropped.map((d) => d.key),
    ['capture.bogus', 'encoder.table'],
  )
  t.ok(
    dropped.every((d) => d.error.length > 10),
    'each with its reason',
  )
  t.throws(() => validatePartialLenient([], { remote: true }), ConfigError, 'not an object: refused whole')
  t.equal(applyPartial(defaults(), partial).capture.width, 80)
})

t.test('`deepn <prototype name>` is an unknown command (usage, exit 2), not a crash', async (t) => {
  const cli = resolve(__dirname, '../../dist/agent/cli.js')
  if (!existsSync(cli)) throw new Error(`${cli} missing: build first (npx tsc -p .)`)
  for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
    const r = spawnSync(process.execPath, [cli, name], { encoding: 'utf8' })
    t.equal(r.status, 2, `deepn ${name}: exit 2`)
    t.match(r.stderr, new RegExp(`unknown command '${name}'`))
  }
})

t.test('`deepn tables --plm <prototype name>=1` names an unknown parameter', async (t) => {
  for (const name of NAMES) t.throws(() => parsePlm(`${name}=1`), /--plm: unknown parameter/, name)
  t.same(parsePlm('k1=5'), { k1: 5 })
})

t.test('every prototype name as a pushed table id is refused with a reason, never dropped silently', async (t) => {
  for (const name of NAMES) {
    const k = JSON.stringify(name)
    const body = `{"encoder":{"tables":{${k}:{"luma":${JSON.stringify(table(2))},"chroma":${JSON.stringify(table(3))}}}}}`
    t.throws(
      () => validatePartial(doc(body), { remote: true }),
      { name: 'ConfigError', message: /'encoder\.tables' table id '.*' names a built-in/ },
      name,
    )
    const lenient = validatePartialLenient(doc(body), { remote: true })
    t.same(
      lenient.dropped.map((d) => d.key),
      [`encoder.tables.${name}`],
      `${name}: a saved layer leaves just that table out`,
    )
    t.same(Object.keys(lenient.partial['encoder.tables'] as object), [])
    t.throws(
      () => tablePushMessage({ id: name, luma: table(2), chroma: table(3) }, 'r1'),
      /names a built-in/,
      `deepn push-table refuses ${name} before sending`,
    )
  }
})

t.test('pushed tables are stored as own keys: merged, listed and deleted by id', async (t) => {
  const a = applyPartial(
    defaults(),
    validatePartial({ encoder: { tables: { x: { luma: table(2), chroma: table(3) } } } }, { remote: true }),
  )
  t.equal(Object.getPrototypeOf(a.encoder.tables), Object.prototype)
  t.same(Object.keys(a.encoder.tables), ['x'])
  t.equal(ownValue(a.encoder.tables, 'constructor'), undefined)
})
