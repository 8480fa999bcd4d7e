/**
 * Power loss. Under buffer.synchronous NORMAL (the default, SD-card friendly) a power cut may lose the last
 * commits; the agent cannot tell which, so on the next boot it skips past every seq it had leased and announces
 * that range. This scenario ends the agent uncleanly and starts it as on a later boot (the buffer's recorded boot
 * id no longer matches); the ledger must account for every seq. FULL makes every commit durable; its cost is
 * measured here on the same disk and printed.
 */
import t from 'tap'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { SqliteFrameStore } from '../../agent/buffer/sqlite-store'
import { agentDir } from '../helpers/agent-process'
import { backlog } from '../helpers/buffer-file'
import { startScenario } from './scenario'

t.test('an unclean end, then a start on a later boot (NORMAL)', async (t) => {
  const s = await startScenario(t, 'fault-power')
  await s.ledger.waitFor((l) => l.delivered() >= 10, 30000, 'first frames')
  await s.broker.stop()
  const deadline = Date.now() + 30000
  while (backlog(s.bufferPath) < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  s.agent.signal('SIGKILL')
  await s.agent.exited
  const db = new Database(s.bufferPath)
  db.prepare("UPDATE meta SET value = 'an-earlier-boot' WHERE key = 'boot_id'").run()
  db.close()
  await s.broker.start()
  s.restart()
  await s.ledger.waitFor(
    (l) => l.lossEvents().length > 0 && l.delivered() >= 40,
    60000,
    'the loss event and new frames',
  )
  const a = await s.finish()
  const loss = s.ledger.lossEvents()[0]
  t.equal(loss.cause, 'power-loss')
  t.ok(a.lastSeq > 1024, `seqs resumed past the lease (last ${a.lastSeq})`)
})

t.test('what FULL costs: appends per second of 100 KB frames, NORMAL vs FULL, on this disk', async (t) => {
  const dir = agentDir()
  const frame = { jpeg: new Uint8Array(100_000).fill(7), capturedAt: Date.now(), tableId: 't', width: 1, height: 1 }
  const rate = (synchronous: 'NORMAL' | 'FULL', n: number): number => {
    const store = new SqliteFrameStore({
      path: join(dir, `${synchronous}-${Math.random()}.db`),
      synchronous,
      limits: { maxBytes: 0, maxFrames: 0, policy: 'drop-oldest', ttlMs: 0 },
    })
    try {
      const t0 = process.hrtime.bigint()
      for (let i = 0; i < n; i++) store.append(frame)
      return n / (Number(process.hrtime.bigint() - t0) / 1e9)
    } finally {
      store.close()
    }
  }
  const runs: { NORMAL: number[]; FULL: number[] } = { NORMAL: [], FULL: [] }
  for (let r = 0; r < 3; r++) for (const mode of ['NORMAL', 'FULL'] as const) runs[mode].push(rate(mode, 60))
  const median = (v: number[]): number => [...v].sort((x, y) => x - y)[v.length >> 1]
  const normal = median(runs.NORMAL)
  const full = median(runs.FULL)
  t.comment(
    `buffer.synchronous: NORMAL ${normal.toFixed(0)} appends/s, FULL ${full.toFixed(0)} appends/s (${(normal / full).toFixed(2)}x slower; medians of 3 interleaved runs of 60 x 100 KB, ${dir})`,
  )
  t.ok(normal > 0 && full > 0, 'both modes store frames')
})
