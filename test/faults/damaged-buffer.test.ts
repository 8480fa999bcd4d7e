/**
 * Faults in the buffer file found at start-up, with a backlog inside: a corrupt file (moved aside) and a -wal
 * truncated to nothing. The frames that cannot be recovered must be announced on events/loss, so the ledger can
 * account for every seq: delivered, or inside a reported range.
 */
import t from 'tap'
import * as fs from 'node:fs'
import Database from 'better-sqlite3'
import { backlog } from '../helpers/buffer-file'
import { startScenario, type Scenario } from './scenario'

/** Delivers some frames, then builds a backlog of at least `n` frames with the broker down and kills the agent. */
async function backlogThenKill(s: Scenario, n: number): Promise<number> {
  await s.ledger.waitFor((l) => l.delivered() >= 10, 30000, 'first frames')
  await s.broker.stop()
  const deadline = Date.now() + 30000
  while (backlog(s.bufferPath) < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  s.agent.signal('SIGKILL')
  await s.agent.exited
  return backlog(s.bufferPath)
}

t.test('a corrupt buffer file with a backlog', async (t) => {
  const s = await startScenario(t, 'fault-corrupt')
  const left = await backlogThenKill(s, 20)
  t.ok(left >= 20, `${left} frames unsent at the kill`)
  // The index's root page overwritten: the rows stay readable, quick_check fails, the file is moved aside.
  const rw = new Database(s.bufferPath)
  rw.pragma('wal_checkpoint(TRUNCATE)')
  const root = (
    rw.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'frames_by_capture'").get() as { rootpage: number }
  ).rootpage
  const pageSize = rw.pragma('page_size', { simple: true }) as number
  rw.close()
  const fd = fs.openSync(s.bufferPath, 'r+')
  fs.writeSync(fd, Buffer.alloc(pageSize, 0x5a), 0, pageSize, (root - 1) * pageSize)
  fs.closeSync(fd)
  await s.broker.start()
  s.restart()
  await s.ledger
    .waitFor((l) => l.lossEvents().length > 0 && l.delivered() >= 20, 60000, 'the loss event and new frames')
    .catch((e: Error) => {
      throw new Error(`${e.message}\n${s.agent.output().slice(-6000).split('\n').slice(-40).join(' | ')}`)
    })
  const a = await s.finish()
  t.equal(a.reportedLost, left, 'exactly the unsent frames are reported lost')
  t.equal(s.ledger.lossEvents()[0].cause, 'corrupt-database')
})

t.test('a -wal truncated under a backlog', async (t) => {
  const s = await startScenario(t, 'fault-walcut')
  const left = await backlogThenKill(s, 20)
  fs.truncateSync(`${s.bufferPath}-wal`, 0) // everything since the database was created was in the WAL
  await s.broker.start()
  s.restart()
  await s.ledger
    .waitFor((l) => l.lossEvents().length > 0 && l.delivered() >= 20, 60000, 'the loss event and new frames')
    .catch((e: Error) => {
      throw new Error(`${e.message}\n${s.agent.output().slice(-6000).split('\n').slice(-40).join(' | ')}`)
    })
  const a = await s.finish()
  t.ok(
    a.reportedUnknown >= left,
    `the ${left} unsent frames are inside the reported range (${a.reportedUnknown} seqs not delivered in it)`,
  )
  t.equal(s.ledger.lossEvents()[0].cause, 'database-lost')
})
