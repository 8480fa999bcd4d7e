/**
 * A really full filesystem: a 2 MB tmpfs mounted for the test (needs root; skipped with the reason otherwise).
 * SQLite gets ENOSPC for the WAL or the database file; the store must turn that into DiskFullError (reject-new)
 * or keep the newest frames flowing (drop-oldest), never crash, never damage what was committed.
 */
import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { DiskFullError } from '../../agent/buffer/errors'
import { SqliteFrameStore } from '../../agent/buffer/sqlite-store'
import type { BufferLimits } from '../../agent/buffer/store'
import { makeFrame, verifyFrame } from './fixtures/frames'
import { cannotMountTmpfs, mountTmpfs } from '../helpers/tmpfs'

const limits = (policy: BufferLimits['policy']): BufferLimits => ({ maxBytes: 0, maxFrames: 0, policy, ttlMs: 0 })

const skip = cannotMountTmpfs()

t.test(
  'reject-new on a full disk: DiskFullError, committed frames intact, readable after reopen',
  { skip },
  async (t) => {
    const dir = mountTmpfs(t, '2m')
    const file = path.join(dir, 'buffer.db')
    const logs: string[] = []
    const s = new SqliteFrameStore({
      path: file,
      limits: limits('reject-new'),
      minFreeBytes: 0,
      log: (m) => logs.push(m),
    })
    const stored: number[] = []
    let error: unknown
    for (let n = 0; n < 100 && !error; n++) {
      try {
        stored.push(s.append(makeFrame(n, 100_000)).seq!)
      } catch (err) {
        error = err
      }
    }
    t.type(error, DiskFullError, String(error))
    t.ok(stored.length >= 5, `${stored.length} frames stored before the disk filled`)
    t.same(
      s.peek(1000).map((f) => verifyFrame(f)),
      stored.map((_, i) => i),
      'committed frames are intact',
    )
    t.throws(() => s.append(makeFrame(500, 100_000)), DiskFullError, 'still full: still a clean error')
    t.same(s.stats().frames, stored.length)
    s.close()

    const again = new SqliteFrameStore({ path: file })
    t.same(
      again.peek(1000).map((f) => f.seq),
      stored,
      'all of them after a reopen on the still-full disk',
    )
    t.same(
      again.peek(1000).map((f) => verifyFrame(f)),
      stored.map((_, i) => i),
    )
    again.close()
  },
)

for (const policy of ['drop-oldest', 'reject-new'] as const) {
  t.test(
    `minFreeBytes keeps the disk from filling up: ${policy} applies early, no append fails`,
    { skip },
    async (t) => {
      const dir = mountTmpfs(t, '24m')
      const file = path.join(dir, 'buffer.db')
      const logs: string[] = []
      const s = new SqliteFrameStore({
        path: file,
        limits: limits(policy),
        minFreeBytes: 8 * 1024 * 1024,
        log: (m) => logs.push(m),
      })
      let last = 0
      for (let n = 0; n < 300; n++) {
        const { seq } = s.append(makeFrame(n, 100_000)) // 30 MB into a 24 MB filesystem: must never throw
        if (seq !== undefined) {
          t.ok(seq > last, 'seqs increase')
          last = seq
        }
      }
      const st = s.stats()
      t.equal(
        st.frames + st.dropped + st.rejected,
        300,
        `${st.frames} kept, ${st.dropped} dropped, ${st.rejected} rejected`,
      )
      t.ok(policy === 'drop-oldest' ? st.dropped > 100 : st.rejected > 100)
      const kept = s.peek(1000).map((f) => verifyFrame(f))
      t.equal(kept.length, st.frames)
      t.equal(
        kept[policy === 'drop-oldest' ? kept.length - 1 : 0],
        policy === 'drop-oldest' ? 299 : 0,
        policy === 'drop-oldest' ? 'the newest frames are kept' : 'the oldest frames are kept',
      )
      t.match(logs.join('\n'), /bytes free on the buffer's filesystem \(< minFreeBytes 8388608\); applying/)
      s.close()
      const { bavail, bsize } = fs.statfsSync(dir)
      t.ok(bavail * bsize > 4 * 1024 * 1024, `${bavail * bsize} bytes still free at the end`)
    },
  )
}

t.test(
  'a disk full to the last byte at open: the store opens anyway, serves its frames, stores again once there is room',
  { skip },
  async (t) => {
    const dir = mountTmpfs(t, '2m')
    const file = path.join(dir, 'buffer.db')
    const s = new SqliteFrameStore({ path: file, limits: limits('reject-new'), minFreeBytes: 0 })
    for (let n = 0; n < 5; n++) s.append(makeFrame(n, 20_000))
    s.close()
    t.ok(fs.statSync(`${file}.reserve`).size > 0, 'the store holds a reserve file')
    const filler = path.join(dir, 'filler')
    const fd = fs.openSync(filler, 'w')
    try {
      for (;;) fs.writeSync(fd, Buffer.alloc(4096))
    } catch {
      /* ENOSPC: full */
    } finally {
      fs.closeSync(fd)
    }
    for (const size of [1024, 64, 1]) {
      try {
        for (;;) fs.appendFileSync(filler, Buffer.alloc(size))
      } catch {
        /* full */
      }
    }

    const logs: string[] = []
    const again = new SqliteFrameStore({
      path: file,
      limits: limits('reject-new'),
      minFreeBytes: 0,
      log: (m) => logs.push(m),
    }) // used to throw SQLITE_FULL
    t.same(
      again.peek(10).map((f) => verifyFrame(f)),
      [0, 1, 2, 3, 4],
      'the buffered frames are served',
    )
    t.match(logs.join('\n'), /no room to open .* released the reserve file/)
    fs.rmSync(filler)
    t.equal(again.append(makeFrame(5, 20_000)).seq, 6, 'room again: the session is marked and seqs continue')
    again.remove(1)
    again.close()
    const third = new SqliteFrameStore({ path: file })
    t.same(
      third.peek(10).map((f) => f.seq),
      [2, 3, 4, 5, 6],
    )
    third.close()
  },
)

t.test(
  'refusing frames below the free-space floor writes nothing to the disk (removals need those pages); the count is kept and persisted',
  async (t) => {
    const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'deepn-floor-'))
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
    const file = path.join(dir, 'buffer.db')
    // a floor no disk clears: every append is below it
    const s = new SqliteFrameStore({ path: file, limits: limits('reject-new'), minFreeBytes: Number.MAX_SAFE_INTEGER })
    s.append(makeFrame(0, 10_000)) // the first refusal may create the WAL; the rest must leave it as it is
    const wal = fs.statSync(`${file}-wal`).size
    for (let n = 1; n < 50; n++) t.equal(s.append(makeFrame(n, 10_000)).seq, undefined)
    t.equal(fs.statSync(`${file}-wal`).size, wal, `the WAL stays at ${wal} bytes through 49 refusals`)
    t.equal(s.stats().rejected, 50, 'every refusal counted')
    s.close()
    const again = new SqliteFrameStore({ path: file, limits: limits('reject-new'), minFreeBytes: 0 })
    t.equal(again.stats().rejected, 50, 'and the count persisted at close')
    again.close()
  },
)
