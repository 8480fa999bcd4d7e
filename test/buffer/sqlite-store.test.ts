import t, { type Test } from 'tap'
import Database from 'better-sqlite3'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { DiskFullError } from '../../agent/buffer/errors'
import { SqliteFrameStore, type SqliteFrameStoreOptions } from '../../agent/buffer/sqlite-store'
import { tmpDir } from './fixtures/tmp-dir'
import { makeFrame, verifyFrame } from './fixtures/frames'
import { storeSuite } from './store-suite'
import { writeSchema1Buffer } from './fixtures/schema1'

t.test('shared FrameStore suite', async (t) => {
  const dir = tmpDir(t)
  let n = 0
  storeSuite(t, (limits) => new SqliteFrameStore({ path: path.join(dir, `suite-${n++}.db`), limits }))
})

function opener(t: Test, base: Partial<SqliteFrameStoreOptions> = {}) {
  const dir = tmpDir(t)
  const file = path.join(dir, 'buffer.db')
  const open = (over: Partial<SqliteFrameStoreOptions> = {}) => new SqliteFrameStore({ path: file, ...base, ...over })
  return { dir, file, open }
}

t.test('frames, counters and the seq high-water mark survive a restart', async (t) => {
  const { open } = opener(t)
  const a = open({ limits: { maxBytes: 0, maxFrames: 3, policy: 'drop-oldest', ttlMs: 0 } })
  const seqs = [0, 1, 2, 3, 4].map((n) => a.append(makeFrame(n)).seq!)
  a.close()

  const b = open({ limits: { maxBytes: 0, maxFrames: 3, policy: 'reject-new', ttlMs: 0 } })
  t.same(
    b.peek(10).map((f) => verifyFrame(f)),
    [2, 3, 4],
  )
  t.same(
    b.peek(10).map((f) => f.seq),
    seqs.slice(2),
  )
  t.equal(b.append(makeFrame(5)).seq, undefined, 'rejected: full')
  t.same(b.stats(), { frames: 3, bytes: 3000, dropped: 2, rejected: 1, expired: 0 })
  t.equal(b.removeThrough(seqs[4]), 3)
  b.close()

  const c = open()
  t.equal(c.stats().frames, 0)
  t.equal(
    c.append(makeFrame(6)).seq,
    seqs[4] + 1,
    'after a clean close seqs continue contiguously, even with no frame left',
  )
  t.same(c.stats(), { frames: 1, bytes: 1000, dropped: 2, rejected: 1, expired: 0 })
  c.close()
})

t.test('the file is a WAL database and the synchronous mode is checked', async (t) => {
  const { file, open } = opener(t)
  t.throws(() => open({ synchronous: 'OFF' as 'FULL' }), /synchronous must be NORMAL or FULL/)
  const s = open({ synchronous: 'FULL' })
  s.append(makeFrame(0))
  t.ok(fs.existsSync(`${file}-wal`), 'a -wal file exists while open')
  s.close()
  const header = fs.readFileSync(file).subarray(0, 20)
  t.equal(header.subarray(0, 16).toString('latin1'), 'SQLite format 3\0')
  t.same([header[18], header[19]], [2, 2], 'file format read/write version 2 = WAL')
  t.notOk(fs.existsSync(`${file}-wal`), 'a clean close checkpoints and removes the WAL')
})

t.test('the seq sidecar is written once per block, not per frame', async (t) => {
  const { file, open } = opener(t, { seqBlock: 8 })
  const s = open()
  const ceiling = () => JSON.parse(fs.readFileSync(`${file}.seq`, 'utf8')).ceiling
  s.append(makeFrame(0))
  t.equal(ceiling(), 8)
  const before = fs.statSync(`${file}.seq`).mtimeMs
  for (let n = 1; n < 8; n++) s.append(makeFrame(n))
  t.equal(ceiling(), 8)
  t.equal(fs.statSync(`${file}.seq`).mtimeMs, before, 'not rewritten within the block')
  s.append(makeFrame(8))
  t.equal(ceiling(), 16, 'seq 9 raised the ceiling by a block')
  s.close()
})

t.test('an unclean end on an earlier boot skips past the leased seqs; on the same boot it does not', async (t) => {
  const { open } = opener(t, { seqBlock: 100 })
  const crashed = open({ bootId: 'boot-1' })
  crashed.append(makeFrame(0))
  const last = crashed.append(makeFrame(1)).seq!
  // `crashed` is never closed, as after kill -9: its session stays marked unclean.

  const sameBoot = open({ bootId: 'boot-1' })
  t.equal(sameBoot.append(makeFrame(2)).seq, last + 1, 'process crash, same boot: the page cache kept every commit')
  const lastSame = last + 1
  // ... and this one "loses power" too.

  const logs: string[] = []
  const afterPowerCut = open({ bootId: 'boot-2', log: (m) => logs.push(m) })
  t.equal(afterPowerCut.append(makeFrame(3)).seq, 101, 'NORMAL + reboot: continue above the ceiling (100)')
  t.ok(lastSame < 101)
  t.match(logs.join('\n'), /did not close cleanly.*skip 4\.\.100/)
  afterPowerCut.close()

  const clean = open({ bootId: 'boot-3' })
  t.equal(clean.append(makeFrame(4)).seq, 102, 'after a clean close a reboot changes nothing')
  clean.close()

  const full = open({ bootId: 'boot-3', synchronous: 'FULL' })
  full.append(makeFrame(5))
  const fullOther = open({ bootId: 'boot-4' })
  t.equal(fullOther.append(makeFrame(6)).seq, 104, 'under FULL every commit was durable: no skip needed')
  for (const s of [fullOther, full, sameBoot, crashed]) s.close()
})

t.test(
  'a file-size cap (max_page_count) hits SQLITE_FULL: reject-new throws DiskFullError, committed frames stay',
  async (t) => {
    const { open } = opener(t)
    const s = open({ maxFileBytes: 1024 * 1024, limits: { maxBytes: 0, maxFrames: 0, policy: 'reject-new', ttlMs: 0 } })
    const stored: number[] = []
    let error: unknown
    for (let n = 0; n < 50 && !error; n++) {
      try {
        stored.push(s.append(makeFrame(n, 100_000)).seq!)
      } catch (err) {
        error = err
      }
    }
    t.ok(stored.length >= 5 && stored.length < 11, `${stored.length} frames of 100 KB fit in 1 MB`)
    t.type(error, DiskFullError)
    t.equal((error as { code: string }).code, 'SQLITE_FULL')
    t.match((error as Error).message, /100000-byte frame.*not stored.*buffered frames .* are intact/)
    t.same(
      s.peek(100).map((f) => f.seq),
      stored,
      'every committed frame is still there',
    )
    t.same(
      s.peek(100).map((f) => verifyFrame(f)),
      stored.map((_, i) => i),
    )
    t.equal(s.stats().rejected, 1)
    s.removeThrough(stored[2])
    const next = s.append(makeFrame(99, 100_000)).seq!
    t.ok(next > stored[stored.length - 1], 'after the publisher drained some, appends work again')
    s.close()
    const again = open()
    t.same(again.stats().rejected, 1, 'the disk-full refusal was counted persistently')
    again.close()
  },
)

t.test('a file-size cap under drop-oldest keeps the newest frames flowing', async (t) => {
  const { open } = opener(t)
  const logs: string[] = []
  const s = open({ maxFileBytes: 1024 * 1024, log: (m) => logs.push(m) })
  let lastSeq = 0
  for (let n = 0; n < 40; n++) {
    const r = s.append(makeFrame(n, 100_000))
    t.ok(r.seq! > lastSeq)
    lastSeq = r.seq!
  }
  const st = s.stats()
  t.ok(st.dropped > 25, `dropped ${st.dropped} to make room`)
  t.equal(st.frames + st.dropped, 40)
  const kept = s.peek(100).map((f) => verifyFrame(f))
  t.same(
    kept,
    Array.from({ length: st.frames }, (_, i) => 40 - st.frames + i),
    'the newest frames are kept, intact',
  )
  t.match(logs.join('\n'), /storage full \(SQLITE_FULL\)/)
  s.close()
})

t.test('bad options fail clearly', async (t) => {
  t.throws(() => new SqliteFrameStore({ path: '' }), /path must be a database file path/)
  t.throws(() => new SqliteFrameStore({ path: ':memory:' }), /MemoryFrameStore/)
  const { open } = opener(t)
  t.throws(() => open({ seqBlock: 0 }), /seqBlock/)
  t.throws(() => open({ maxFileBytes: -5 }), /maxFileBytes/)
  t.throws(
    () => new SqliteFrameStore({ path: '/nonexistent-dir/x/buffer.db' }),
    /frame buffer: opening \/nonexistent-dir\/x\/buffer\.db failed/,
  )
})

t.test('a database from a newer schema is refused, not overwritten', async (t) => {
  const { file, open } = opener(t)
  const raw = new Database(file)
  raw.pragma('user_version = 7')
  raw.close()
  t.throws(() => open(), /schema version 7, newer than/)
})

t.test('a deleted database with its sidecar kept: seqs continue above the ceiling', async (t) => {
  const { file, open } = opener(t, { seqBlock: 10 })
  const a = open()
  for (let n = 0; n < 12; n++) a.append(makeFrame(n))
  a.close()
  fs.rmSync(file)
  const logs: string[] = []
  const b = open({ log: (m) => logs.push(m) })
  t.equal(b.append(makeFrame(12)).seq, 21, 'the ceiling was 20 after seq 11')
  t.match(logs.join('\n'), /new database .*seqs continue after 20/)
  b.close()
})

t.test('a sidecar that cannot be written is logged once and appends go on', async (t) => {
  const { file, open } = opener(t, { seqBlock: 2 })
  fs.mkdirSync(`${file}.seq`) // a directory where the file should be: every rename onto it fails
  const logs: string[] = []
  const s = open({ log: (m) => logs.push(m) })
  const seqs = [0, 1, 2, 3, 4].map((n) => s.append(makeFrame(n)).seq)
  t.same(seqs, [1, 2, 3, 4, 5])
  t.equal(logs.filter((m) => /cannot update seq sidecar/.test(m)).length, 1, logs.join('\n'))
  s.close()
})

t.test(
  'a schema-1 file (no quant_digest, no keep_map column) is migrated in place: its frames stay, new ones keep theirs',
  async (t) => {
    const { file, open } = opener(t)
    writeSchema1Buffer(
      file,
      [makeFrame(1), makeFrame(2)].map((f, i) => ({ ...f, seq: 10 + i })),
    )
    const s = open()
    t.same(
      s.peek(10).map((f) => [f.seq, verifyFrame(f), 'quantDigest' in f, 'keepMapId' in f]),
      [
        [10, 1, false, false],
        [11, 2, false, false],
      ],
      'old frames, no digest, no keep map',
    )
    t.equal(
      s.append({ ...makeFrame(3), quantDigest: 'feedfacefeedface', keepMapId: 'lot-a' }).seq,
      12,
      'seqs continue after the old ones',
    )
    t.same([s.peek(1, 11)[0].quantDigest, s.peek(1, 11)[0].keepMapId], ['feedfacefeedface', 'lot-a'])
    s.close()
    const raw = new Database(file, { readonly: true })
    t.equal(raw.pragma('user_version', { simple: true }), 3)
    raw.close()
    const again = open()
    t.same(
      again.peek(10).map((f) => f.seq),
      [10, 11, 12],
      'opens again as schema 3',
    )
    again.close()
  },
)

t.test(
  "a schema-1 file's own configuration rows can be read and dropped (for agent/saved-config to move them out)",
  async (t) => {
    const { file, open } = opener(t)
    writeSchema1Buffer(file, [], { 'config.remote': '{"capture":{"width":80}}', 'config.version': '4' })
    const s = open()
    t.equal(s.legacyState('config.remote'), '{"capture":{"width":80}}')
    t.equal(s.legacyState('config.version'), '4')
    t.throws(
      () => s.legacyState('loss.pending'),
      /not a legacy configuration key/,
      "the store's own records stay its own",
    )
    s.dropLegacyState(['config.remote', 'config.version'])
    s.close()
    const again = open()
    t.equal(again.legacyState('config.remote'), undefined, 'gone for good')
    again.close()
  },
)
