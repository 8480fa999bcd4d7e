import t from 'tap'
import Database from 'better-sqlite3'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { openFrameStore } from '../../agent/buffer/open'
import { MemoryFrameStore } from '../../agent/buffer/memory-store'
import { SqliteFrameStore } from '../../agent/buffer/sqlite-store'
import { tmpDir } from './fixtures/tmp-dir'
import { makeFrame, verifyFrame } from './fixtures/frames'

const corruptFiles = (dir: string) =>
  fs
    .readdirSync(dir)
    .filter((f) => f.includes('.corrupt-'))
    .sort()

t.test(':memory: gives a MemoryFrameStore; a missing directory is created', async (t) => {
  t.type(openFrameStore({ path: ':memory:' }).store, MemoryFrameStore)
  const dir = tmpDir(t)
  const { store, recovered } = openFrameStore({ path: path.join(dir, 'a', 'b', 'buffer.db') })
  t.type(store, SqliteFrameStore)
  t.equal(recovered, undefined)
  store.close()
})

t.test('a file of garbage bytes is moved aside (kept byte for byte), reported, and a fresh store starts', async (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'buffer.db')
  const garbage = Buffer.from('this is not an SQLite database at all, just garbage bytes '.repeat(200))
  fs.writeFileSync(file, garbage)
  fs.writeFileSync(`${file}-wal`, Buffer.alloc(5000, 0xab))
  const logs: string[] = []
  const { store, recovered } = openFrameStore({ path: file, log: (m) => logs.push(m) })
  t.ok(recovered)
  t.match(recovered!.reason, /buffer\.db is not an SQLite database \(bad or truncated header\)/)
  t.equal(recovered!.movedTo.length, 2, 'the database and its -wal')
  t.match(path.basename(recovered!.movedTo[0]), /^buffer\.db\.corrupt-\d{4}-\d\d-\d\dT[\d-]+Z$/)
  t.match(path.basename(recovered!.movedTo[1]), /^buffer\.db\.corrupt-.*-wal$/)
  t.same(fs.readFileSync(recovered!.movedTo[0]), garbage, 'never deleted, never altered')
  t.same(fs.readFileSync(recovered!.movedTo[1]), Buffer.alloc(5000, 0xab))
  t.match(logs.join('\n'), /moved the damaged database aside to .*corrupt-.*not deleted/)
  t.equal(store.append(makeFrame(0)).seq, 1, 'no sidecar, nothing salvageable: a fresh start at 1')
  t.equal(verifyFrame(store.peek(1)[0]), 0)
  store.close()
})

t.test('a truncated database: seqs continue above the sidecar ceiling, never backwards', async (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'buffer.db')
  const first = openFrameStore({ path: file, seqBlock: 16 }).store
  let last = 0
  for (let n = 0; n < 20; n++) last = first.append(makeFrame(n, 3000)).seq!
  first.close()
  t.equal(last, 20)
  const size = fs.statSync(file).size
  fs.truncateSync(file, 60) // keeps only part of the 100-byte header
  const { store, recovered } = openFrameStore({ path: file, seqBlock: 16 })
  t.ok(recovered, `the ${size}-byte file cut to 60 bytes is detected`)
  t.equal(corruptFiles(dir).length, 1)
  const next = store.append(makeFrame(99)).seq!
  t.equal(next, 33, 'the sidecar ceiling after seq 17 was 32')
  store.close()
})

t.test('damaged frame pages: the high-water mark is salvaged from the readable meta table', async (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'buffer.db')
  const first = openFrameStore({ path: file, seqBlock: 1_000_000, integrityCheck: true }).store
  for (let n = 0; n < 30; n++) first.append(makeFrame(n, 20_000))
  first.removeThrough(25)
  first.close()
  fs.rmSync(`${file}.seq`) // lose the sidecar too: only the damaged file knows how far seqs went
  // Overwrite the frames table's root page, leaving header, schema and the meta table readable.
  const probe = new Database(file, { readonly: true })
  const root = probe.prepare("SELECT rootpage FROM sqlite_schema WHERE name = 'frames'").pluck().get() as number
  const pageSize = probe.pragma('page_size', { simple: true }) as number
  probe.close()
  const fd = fs.openSync(file, 'r+')
  fs.writeSync(fd, Buffer.alloc(pageSize, 0x5a), 0, pageSize, (root - 1) * pageSize)
  fs.closeSync(fd)
  const raw = new Database(file, { readonly: true })
  t.not(raw.pragma('quick_check', { simple: true }), 'ok', 'the file really is corrupt')
  raw.close()

  const logs: string[] = []
  const { store, recovered } = openFrameStore({ path: file, log: (m) => logs.push(m) })
  t.ok(recovered)
  t.equal(recovered!.salvagedSeq, 30)
  t.equal(store.append(makeFrame(0)).seq, 31, 'continues after the salvaged seq 30')
  t.match(logs.join('\n'), /seqs continue after 30/)
  store.close()
})

t.test('errors other than corruption are not "repaired": nothing is moved', async (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'buffer.db')
  const raw = new Database(file)
  raw.pragma('user_version = 9')
  raw.close()
  t.throws(() => openFrameStore({ path: file }), /schema version 9/)
  t.same(corruptFiles(dir), [])
  t.ok(fs.existsSync(file))
})
