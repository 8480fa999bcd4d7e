/**
 * RecoveringFrameStore against real damage: an open store's file is overwritten on disk (header or b-tree pages),
 * then the decorator must move it aside, keep the frame being appended and continue above the old seqs; the bare
 * store must keep failing. Last, the same inside a real `deepn run` process publishing to a real Mosquitto.
 */
import t, { type Test } from 'tap'
import Database from 'better-sqlite3'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { CorruptDatabaseError, DiskFullError, StorageError } from '../../agent/buffer/errors'
import { openFrameStore } from '../../agent/buffer/open'
import { RecoveringFrameStore, type RecoveryInfo } from '../../agent/buffer/recovering-store'
import type { FrameStore } from '../../agent/buffer/store'
import type { SqliteFrameStoreOptions } from '../../agent/buffer/sqlite-store'
import { readJpegMetadata } from '../../shared/codec/metadata'
import { agentDir, spawnAgent, writeConfig, type AgentProcess } from '../helpers/agent-process'
import { startMosquitto } from '../helpers/mosquitto'
import { subscribe } from '../helpers/subscriber'
import { tmpDir } from './fixtures/tmp-dir'
import { makeFrame, verifyFrame } from './fixtures/frames'

const corruptFiles = (dir: string) =>
  fs
    .readdirSync(dir)
    .filter((f) => f.includes('.corrupt-'))
    .sort()

/**
 * Damages the database under an open store, for real: another connection checkpoints the WAL into the main file
 * (which also changes the WAL header, so the store's connection drops its page cache on its next read), then
 * bytes from `from` to the end of the file are overwritten with garbage. from=0 hits the header (SQLITE_NOTADB),
 * from=page 2 leaves the header and wrecks the b-trees (SQLITE_CORRUPT). Returns false, damaging nothing, if the
 * checkpoint could not take the locks (another connection is mid-transaction).
 * A store that writes between the checkpoint and the overwrite starts a WAL of its own and keeps its cached pages,
 * so it would not see the damage: a live writer must be paused around this call (see the `deepn run` test).
 */
function corruptUnderneath(file: string, from: number): boolean {
  const other = new Database(file, { timeout: 200 })
  const [{ busy }] = other.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[]
  other.close()
  if (busy !== 0) return false
  const size = fs.statSync(file).size
  const fd = fs.openSync(file, 'r+')
  try {
    fs.writeSync(fd, Buffer.alloc(size - from, 0xa5), 0, size - from, from)
  } finally {
    fs.closeSync(fd)
  }
  return true
}

/**
 * corruptUnderneath on a running agent's buffer, with the agent stopped (SIGSTOP) so that no frame is written
 * between the checkpoint and the overwrite; retried if the agent was stopped inside a transaction.
 */
async function corruptUnderRunningAgent(agent: AgentProcess, file: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    agent.signal('SIGSTOP')
    let done = false
    try {
      done = corruptUnderneath(file, 0)
    } finally {
      agent.signal('SIGCONT')
    }
    if (done) return
    if (attempt >= 50) throw new Error('the agent held its buffer locked at every one of 50 pauses')
    await new Promise((r) => setTimeout(r, 30))
  }
}

/** A store on a real file holding frames 0..19 (seqs 1..20), wrapped unless `bare`. */
function setUp(t: Test, bare = false) {
  const dir = tmpDir(t)
  const file = path.join(dir, 'buffer.db')
  const logs: string[] = []
  const infos: RecoveryInfo[] = []
  const options: SqliteFrameStoreOptions = { path: file, seqBlock: 16, log: (m) => logs.push(m) }
  const inner = openFrameStore(options).store
  const store: FrameStore = bare
    ? inner
    : new RecoveringFrameStore({ store: inner, open: options, onRecovered: (i) => infos.push(i) })
  t.teardown(() => {
    try {
      store.close()
    } catch {
      /* the test's subject may be broken */
    }
  })
  for (let n = 0; n < 20; n++) store.append(makeFrame(n, 3000))
  return { dir, file, logs, infos, store }
}

for (const [name, from, code] of [
  ['header', 0, 'SQLITE_NOTADB'],
  ['frame pages', 4096, 'SQLITE_CORRUPT'],
] as const) {
  t.test(`${name} overwritten while open: the next append recovers, keeps its frame, and seqs go up`, async (t) => {
    const { dir, file, logs, infos, store } = setUp(t)
    store.setLimits({ maxBytes: 0, maxFrames: 3, policy: 'drop-oldest', ttlMs: 0 })
    t.ok(corruptUnderneath(file, from), 'the file is damaged under the open store')
    // Without recovery this is what the agent would get forever (proved in the 'bypassed' test below).
    const res = store.append(makeFrame(100, 3000))
    t.ok(res.seq! > 20, `seq ${res.seq} is above every seq used before (20)`)
    t.same(res.dropped, [])
    t.equal(infos.length, 1, 'onRecovered fired once')
    t.match(infos[0], { count: 1, during: 'append', reason: new RegExp(code) })
    t.equal(infos[0].movedTo.length, corruptFiles(dir).length)
    t.equal(
      corruptFiles(dir).filter((f) => /^buffer\.db\.corrupt-[\d-]+T[\d-]+Z$/.test(f)).length,
      1,
      'the damaged file is kept next to it',
    )
    t.ok(infos[0].movedTo.every((f) => fs.existsSync(f)))
    t.match(logs.join('\n'), /went bad during append .*moved aside to .*corrupt-.*recovery #1/)
    t.equal((store as RecoveringFrameStore).recoveries, 1)

    const frames = store.peek(10)
    t.same(
      frames.map((f) => f.seq),
      [res.seq],
      'the fresh store holds exactly the frame being appended',
    )
    t.equal(verifyFrame(frames[0]), 100, 'its bytes intact')
    // The fresh store works, with the limits set before the corruption re-applied.
    const more = [101, 102, 103].map((n) => store.append(makeFrame(n, 3000)))
    t.same(
      more.map((r) => r.seq),
      [res.seq! + 1, res.seq! + 2, res.seq! + 3],
    )
    t.same(more[2].dropped, [res.seq], 'maxFrames 3 still applies after the reopen')
    t.same(store.pendingLosses(), [infos[0].loss], 'the fresh store holds the loss record it was opened with')
    store.settleLoss(infos[0].loss!)
    t.same(store.pendingLosses(), [], 'settled through the recovering store')
    t.equal(store.removeThrough(res.seq! + 2), 2)
    t.equal(store.stats().frames, 1)
    t.equal(infos.length, 1, 'no further recoveries')
  })
}

t.test('peek meeting the corruption returns what the fresh store has (nothing), and recovers once', async (t) => {
  const { dir, file, infos, store } = setUp(t)
  t.ok(corruptUnderneath(file, 0), 'the file is damaged under the open store')
  t.same(store.peek(5), [])
  t.equal(infos.length, 1)
  t.equal(infos[0].during, 'peek')
  t.equal(corruptFiles(dir).length >= 1, true)
  t.ok(store.append(makeFrame(1)).seq! > 20)
  t.equal(infos.length, 1)
})

t.test('bypassed (the bare store): the same corruption throws CorruptDatabaseError on every call', async (t) => {
  const { dir, file, store } = setUp(t, true)
  t.ok(corruptUnderneath(file, 0), 'the file is damaged under the open store')
  for (let i = 0; i < 3; i++) t.throws(() => store.append(makeFrame(100)), CorruptDatabaseError)
  t.throws(() => store.peek(5), CorruptDatabaseError)
  t.same(corruptFiles(dir), [], 'nothing moved aside')
})

t.test('errors other than corruption pass through unchanged, with no recovery', async (t) => {
  const dir = tmpDir(t)
  const options: SqliteFrameStoreOptions = {
    path: path.join(dir, 'buffer.db'),
    maxFileBytes: 64 * 1024,
    minFreeBytes: 0,
  }
  const infos: RecoveryInfo[] = []
  const inner = openFrameStore(options).store
  const store = new RecoveringFrameStore({ store: inner, open: options, onRecovered: (i) => infos.push(i) })
  t.throws(() => store.peek(-1), RangeError, 'argument validation')
  t.throws(() => store.setLimits({ maxBytes: -1, maxFrames: 0, policy: 'drop-oldest', ttlMs: 0 }), RangeError)
  store.setLimits({ maxBytes: 0, maxFrames: 0, policy: 'reject-new', ttlMs: 0 })
  const full = t.throws(() => store.append(makeFrame(0, 200 * 1024))) as unknown
  t.type(full, DiskFullError, 'the file-size cap gives DiskFullError, untouched')
  store.close()
  t.throws(() => store.append(makeFrame(1)), StorageError, 'a closed store stays closed')
  t.notOk(t.throws(() => store.peek(1)) instanceof CorruptDatabaseError)
  t.equal(infos.length, 0)
  t.equal(store.recoveries, 0)
  t.same(corruptFiles(dir), [])
})

t.test('reopening fails: the error reaches the caller and the next call tries again', async (t) => {
  const { dir, file, infos, store } = setUp(t)
  t.ok(corruptUnderneath(file, 0), 'the file is damaged under the open store')
  // The open connection keeps reading the damaged inode; a directory now in its place makes openFrameStore fail.
  fs.renameSync(file, path.join(dir, 'elsewhere.db'))
  fs.mkdirSync(file)
  const err = t.throws(() => store.append(makeFrame(100))) as Error
  t.notOk(err instanceof CorruptDatabaseError, `the reopen's own error: ${err.message}`)
  t.equal(infos.length, 0, 'no recovery reported')
  fs.rmdirSync(file)
  const res = store.append(makeFrame(101))
  t.ok(res.seq! > 20, 'the next call reopens and stores its frame above the old seqs')
  t.equal(infos.length, 1)
  t.equal(infos[0].during, 'append')
  t.same(store.peek(5).map(verifyFrame), [101])
})

t.test(
  'deepn run (real process, real Mosquitto): the buffer corrupted mid-run is moved aside, logged, and frames keep flowing above the old seqs',
  async (t) => {
    const broker = await startMosquitto()
    t.teardown(() => broker.stop())
    const dir = agentDir()
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
    const file = path.join(dir, 'buffer.db')
    const sub = await subscribe(broker.url, ['deepn/live-corrupt/frames', 'deepn/live-corrupt/telemetry'])
    t.teardown(() => sub.close())
    const agent = spawnAgent(
      writeConfig(dir, {
        deviceId: 'live-corrupt',
        mqtt: { url: broker.url },
        capture: { width: 32, height: 24, intervalMs: 20 },
        buffer: { path: file },
        telemetry: { intervalMs: 1000 },
      }),
    )
    t.teardown(() => agent.signal('SIGKILL'))
    const seqs = () => sub.on('frames').map((m) => readJpegMetadata(new Uint8Array(m.payload))!.seq as number)
    await sub.waitFor(() => seqs().length >= 10, 30000, 'first frames')
    await corruptUnderRunningAgent(agent, file)
    const before = Math.max(...seqs())
    await agent.waitForOutput(/went bad during .*moved aside to .*corrupt-.*recovery #1/, 30000)
    await sub.waitFor(() => seqs().some((s) => s > before + 10), 30000, 'frames after the recovery')
    const bySeq = new Map<number, Buffer>()
    const reused: number[] = []
    for (const m of sub.on('frames')) {
      const s = readJpegMetadata(new Uint8Array(m.payload))!.seq as number
      if (bySeq.has(s) && !bySeq.get(s)!.equals(m.payload)) reused.push(s)
      bySeq.set(s, m.payload)
    }
    t.same(reused, [], 'no seq names two different frames (the fresh database starts above the old seqs)')
    t.ok(Math.max(...bySeq.keys()) > 1024, 'fresh seqs continue above the sidecar ceiling')
    t.ok(corruptFiles(dir).length >= 1, 'the damaged file is kept')
    t.notMatch(agent.output(), /went bad.*recovery #2/, 'one corruption, one recovery')
    const recoveries = () =>
      sub
        .on('telemetry')
        .map(
          (m) =>
            (JSON.parse(m.payload.toString()) as { counters: { bufferRecoveries: number } }).counters.bufferRecoveries,
        )
    await sub.waitFor(() => recoveries().includes(1), 10000, 'telemetry reporting the recovery')
    t.ok(
      recoveries().every((n) => n <= 1),
      'one recovery counted, never more',
    )
    agent.signal('SIGTERM')
    t.equal(await agent.exited, 0, 'clean exit', { output: agent.output().slice(-3000) })
  },
)
