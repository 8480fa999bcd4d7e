/**
 * The buffer's SQLite page cache is bounded (better-sqlite3 builds SQLite with 16 MB per connection, which fills
 * while a backlog grows and stays in RSS after it drains).
 */
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type Database from 'better-sqlite3'
import { CACHE_KIB, SqliteFrameStore } from '../../agent/buffer/sqlite-store'

t.test('the page cache is CACHE_KIB (1 MB), not the 16 MB better-sqlite3 default', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'deepn-cache-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const store = new SqliteFrameStore({ path: join(dir, 'buffer.db') })
  t.teardown(() => store.close())
  const db = (store as unknown as { db: Database.Database }).db
  t.equal(CACHE_KIB, 1024)
  t.equal(db.pragma('cache_size', { simple: true }), -CACHE_KIB, 'negative = KiB')
})
