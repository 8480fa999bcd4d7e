import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { FileSavedConfigStore } from '../../agent/saved-config/file-store'
import { tmpDir } from '../buffer/fixtures/tmp-dir'
import { savedConfigSuite } from './store-suite'

t.test('shared SavedConfigStore suite', async (t) => {
  const dir = tmpDir(t)
  let n = 0
  savedConfigSuite(t, () => new FileSavedConfigStore(path.join(dir, `saved-${n++}.json`)))
})

t.test('the record survives a new instance (a restart), as readable JSON', async (t) => {
  const file = path.join(tmpDir(t), 'buffer.db.remote-config.json')
  new FileSavedConfigStore(file).save({ remote: { telemetry: { intervalMs: 1000 } }, version: 7 })
  t.same(new FileSavedConfigStore(file).load(), { remote: { telemetry: { intervalMs: 1000 } }, version: 7 })
  t.same(JSON.parse(fs.readFileSync(file, 'utf8')), { version: 7, remote: { telemetry: { intervalMs: 1000 } } })
  t.same(fs.readdirSync(path.dirname(file)), ['buffer.db.remote-config.json'], 'no temp file left behind')
})

t.test('a damaged file is an error naming the file and what happens next; a save replaces it', async (t) => {
  const file = path.join(tmpDir(t), 'saved.json')
  const s = new FileSavedConfigStore(file)
  fs.writeFileSync(file, '{"version": 2, "remote": {"capt')
  t.throws(
    () => s.load(),
    new RegExp(`saved configuration ${file} is not JSON .*the next accepted config/set replaces it`),
  )
  fs.writeFileSync(file, '{"version": "2", "remote": {}}')
  t.throws(() => s.load(), /version must be an integer >= 0, got "2"; the next accepted config\/set replaces it/)
  s.save({ remote: { log: { level: 'info' } }, version: 3 })
  t.same(s.load(), { remote: { log: { level: 'info' } }, version: 3 })
})

const root = process.getuid?.() === 0
t.test(
  'a failed write leaves the saved record as it was',
  { skip: root && 'root ignores directory permissions' },
  async (t) => {
    const dir = tmpDir(t)
    const file = path.join(dir, 'saved.json')
    const s = new FileSavedConfigStore(file)
    s.save({ remote: { log: { level: 'info' } }, version: 1 })
    fs.chmodSync(dir, 0o500) // no new entries (the temp file) in the directory
    try {
      t.throws(() => s.save({ remote: {}, version: 2 }), /EACCES/)
    } finally {
      fs.chmodSync(dir, 0o700)
    }
    t.same(s.load(), { remote: { log: { level: 'info' } }, version: 1 })
  },
)
