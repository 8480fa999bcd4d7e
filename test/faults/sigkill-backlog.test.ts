/**
 * Fault: SIGKILL three times while the broker is down and a backlog builds, then the broker comes back. On the
 * same boot no seq is skipped; every committed frame arrives.
 */
import t from 'tap'
import { backlog } from '../helpers/buffer-file'
import { startScenario } from './scenario'

t.test('SIGKILL x3 with a backlog, broker down', async (t) => {
  const s = await startScenario(t, 'fault-sigkill')
  await s.ledger.waitFor((l) => l.delivered() >= 10, 30000, 'first frames')
  await s.broker.stop()
  for (let k = 0; k < 3; k++) {
    const before = backlog(s.bufferPath)
    const deadline = Date.now() + 30000
    while (backlog(s.bufferPath) < before + 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    s.agent.signal('SIGKILL')
    t.equal(await s.agent.exited, 'SIGKILL', `kill ${k + 1}`)
    s.restart()
    await s.agent.waitForOutput(/running/)
  }
  const buffered = backlog(s.bufferPath)
  t.ok(buffered >= 60, `a backlog of ${buffered} frames built up across the kills`)
  await s.broker.start()
  await s.ledger.waitFor(() => backlog(s.bufferPath) === 0, 60000, 'the backlog to drain')
  const a = await s.finish()
  t.equal(a.delivered + a.buffered, a.committed, 'committed = delivered + still buffered')
  t.equal(a.reportedLost, 0, 'nothing reported lost on the same boot')
})
