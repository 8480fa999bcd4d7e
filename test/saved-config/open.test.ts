/**
 * openSavedConfig: where the saved configuration lives, moving it out of a schema-1 buffer once, and (through the
 * agent) that it survives the buffer being found corrupt, which it did not while it lived in the buffer file.
 */
import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { SqliteFrameStore } from '../../agent/buffer/sqlite-store'
import { FileSavedConfigStore } from '../../agent/saved-config/file-store'
import { MemorySavedConfigStore } from '../../agent/saved-config/memory-store'
import { openSavedConfig, savedConfigPath } from '../../agent/saved-config/open'
import { createAgent } from '../../agent/commands/run'
import { loadLocalConfig } from '../../agent/config-file'
import { createLogger } from '../../agent/log'
import { validatePartial } from '../../shared/config'
import { tmpDir } from '../buffer/fixtures/tmp-dir'
import { writeSchema1Buffer } from '../buffer/fixtures/schema1'

function recorder() {
  const lines: string[] = []
  return { lines, log: { info: (m: string) => lines.push(`info ${m}`), warn: (m: string) => lines.push(`warn ${m}`) } }
}

t.test("beside the buffer as <buffer.path>.remote-config.json; in memory for a ':memory:' buffer", async (t) => {
  const db = path.join(tmpDir(t), 'buffer.db')
  t.equal(savedConfigPath(db), `${db}.remote-config.json`)
  const s = openSavedConfig(db)
  t.ok(s instanceof FileSavedConfigStore)
  t.equal((s as FileSavedConfigStore).file, `${db}.remote-config.json`)
  t.ok(openSavedConfig(':memory:') instanceof MemorySavedConfigStore)
})

t.test('a schema-1 buffer: its saved configuration is moved out once, its rows dropped', async (t) => {
  const db = path.join(tmpDir(t), 'buffer.db')
  writeSchema1Buffer(db, [], {
    'config.remote': '{"capture":{"width":80}}',
    'config.version': '4',
    'loss.pending': '[]',
  })
  const buffer = new SqliteFrameStore({ path: db })
  t.teardown(() => buffer.close())
  const { lines, log } = recorder()
  const s = openSavedConfig(db, buffer, log)
  t.same(s.load(), { remote: { capture: { width: 80 } }, version: 4 })
  t.equal(buffer.legacyState('config.remote'), undefined, 'no longer in the buffer')
  t.same(buffer.pendingLosses(), [], "the buffer's own record is untouched")
  t.match(lines, [
    /^info moved the saved remote configuration \(version 4\) from .*buffer\.db to .*remote-config\.json/,
  ])
})

t.test(
  'a saved file already there wins over rows left in the buffer (a move cut short), which are dropped',
  async (t) => {
    const db = path.join(tmpDir(t), 'buffer.db')
    writeSchema1Buffer(db, [], { 'config.remote': '{"capture":{"width":80}}', 'config.version': '4' })
    new FileSavedConfigStore(savedConfigPath(db)).save({ remote: { capture: { width: 96 } }, version: 5 })
    const buffer = new SqliteFrameStore({ path: db })
    t.teardown(() => buffer.close())
    t.same(openSavedConfig(db, buffer).load(), { remote: { capture: { width: 96 } }, version: 5 })
    t.equal(buffer.legacyState('config.remote'), undefined)
  },
)

t.test(
  'an unreadable saved configuration in the buffer is reported and not kept (as the old agent ignored it)',
  async (t) => {
    const db = path.join(tmpDir(t), 'buffer.db')
    writeSchema1Buffer(db, [], { 'config.remote': '{"capture":', 'config.version': '2' })
    const buffer = new SqliteFrameStore({ path: db })
    t.teardown(() => buffer.close())
    const { lines, log } = recorder()
    t.equal(openSavedConfig(db, buffer, log).load(), undefined)
    t.match(lines, [/^warn not keeping the remote configuration saved in .*buffer\.db: /])
    t.equal(buffer.legacyState('config.remote'), undefined)
  },
)

t.test('the remote configuration in force survives a buffer found corrupt at the next start', async (t) => {
  const dir = tmpDir(t)
  const db = path.join(dir, 'buffer.db')
  const env = { DEEPN_MQTT_URL: 'mqtt://127.0.0.1:9', DEEPN_DEVICE_ID: 'keeps', DEEPN__BUFFER__PATH: db }
  const lines: string[] = []
  const log = createLogger({ level: 'warn', write: (l) => lines.push(l) })
  const first = createAgent(loadLocalConfig({ env }), log)
  first.applyRemote(validatePartial({ capture: { width: 96 }, telemetry: { intervalMs: 1500 } }, { remote: true }))
  await first.stop()
  fs.writeFileSync(db, Buffer.alloc(4096, 0x5a)) // no longer an SQLite file
  const second = createAgent(loadLocalConfig({ env }), log)
  t.teardown(() => second.stop())
  t.match(lines.join('\n'), /buffer database was corrupt/, 'the buffer was replaced')
  t.equal(second.config.capture.width, 96, 'the remote layer still applies')
  t.equal(second.config.telemetry.intervalMs, 1500)
  t.equal(second.version, 1, 'and its version')
})
